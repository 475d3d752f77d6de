#!/usr/bin/env bash
# Bounded coverage-guided fuzzing of crates/scim/fuzz (targets filter, patch, decode):
# installs cargo-fuzz if missing, builds the targets once (release, debug assertions and
# overflow checks on) with the stable toolchain, then runs each for FUZZ_SECONDS
# (default 30) seeded from the committed corpus. New corpus entries go to a scratch
# dir, so the tree stays clean. Exits non-zero if any target crashes, times out or runs
# out of memory, printing the input that did it.
#
#   FUZZ_SECONDS=600 FUZZ_TARGETS="patch" FUZZ_KEEP=/tmp/corpus bash scripts/fuzz.sh
#
# FUZZ_KEEP keeps the grown corpus and libFuzzer's logs there. FUZZ_SANITIZER=address
# builds with ASan (stable needs RUSTC_BOOTSTRAP=1 for -Zsanitizer: set below); the
# default is none: the scim crate has no unsafe code, and without ASan the build takes a
# third less CPU and runs about 5x as many inputs per second.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_DIR="$ROOT/crates/scim/fuzz"
SECS="${FUZZ_SECONDS:-30}"
TARGETS="${FUZZ_TARGETS:-filter patch decode}"
SANITIZER="${FUZZ_SANITIZER:-none}"
# The instrumented build uses other RUSTFLAGS than the workspace: its own subdir keeps
# the two from invalidating each other.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/muster/target}/fuzz"
export CARGO_TERM_COLOR=never
# The stable toolchain, as CI has only that. cargo-fuzz's own flags are stable ones
# unless a sanitizer is chosen; RUSTC_BOOTSTRAP lets -Zsanitizer through then.
if [ "$SANITIZER" != none ]; then export RUSTC_BOOTSTRAP=1; fi
if command -v rustup >/dev/null 2>&1; then export RUSTUP_TOOLCHAIN="${FUZZ_TOOLCHAIN:-stable}"; fi

# cargo-fuzz, pinned, into the tools dir that install-deps.sh uses for tauri-driver.
# --debug: it only spawns cargo, and an unoptimised build takes 40% less CPU.
TOOLS="${MUSTER_TOOLS:-$HOME/.cache/muster-tools}"
export PATH="$TOOLS/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  env -u CARGO_TARGET_DIR cargo install cargo-fuzz --locked --debug --version 0.13.2 --root "$TOOLS" -q
fi

WORK="$(mktemp -d)"
KEEP="${FUZZ_KEEP:-}"
trap 'rm -rf "$WORK"' EXIT

cd "$FUZZ_DIR"
BUILD=(--fuzz-dir "$FUZZ_DIR" --sanitizer "$SANITIZER" --debug-assertions)
echo "fuzz: building $TARGETS ($(rustc --version), sanitizer $SANITIZER)"
cargo fuzz build "${BUILD[@]}"

passed=0
failed=0
for t in $TARGETS; do
  out="$WORK/$t.corpus"
  if [ -n "$KEEP" ]; then out="$KEEP/$t"; fi
  mkdir -p "$out"
  log="${KEEP:-$WORK}/$t.log"
  # The first corpus dir receives new inputs; the committed one is only read.
  # -timeout: one input running 10 s is a hang worth failing on (the slowest seed runs
  # in well under a millisecond).
  dict=dict/json.dict
  if [ "$t" = filter ]; then dict=dict/filter.dict; fi
  status=0
  cargo fuzz run "${BUILD[@]}" "$t" "$out" "corpus/$t" -- -dict="$dict" \
    -max_total_time="$SECS" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
  if [ "$status" = 0 ] && [ -n "$done_line" ]; then
    passed=$((passed + 1))
    echo "fuzz $t: ok, ${runs:-?} runs in ${SECS}s (${rate:-?} exec/s), corpus $(find "$out" "corpus/$t" -type f | wc -l) files; ${done_line#*DONE   }"
  else
    failed=$((failed + 1))
    echo "fuzz $t: FAILED (exit $status)"
    grep -E '^(==[0-9]+==ERROR|SUMMARY:|ERROR: libFuzzer)' "$log" | head -n 20 || true
    grep -A6 -E 'panicked at' "$log" | head -n 20 || true
    found=0
    for f in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
      found=1
      case "$f" in /*) ;; *) f="$FUZZ_DIR/${f#./}" ;; esac
      echo "fuzz $t: crashing input: $f"
      echo "fuzz $t: input as base64: $(head -c 4096 "$f" | base64 -w0)"
    done
    if [ "$found" = 0 ]; then echo "fuzz $t: no input written; last lines of the log:"; tail -n 40 "$log"; fi
  fi
done
# The format of node's test runner, which scripts/test.sh's summary counts.
echo "# pass $passed"
echo "# fail $failed"
[ "$failed" = 0 ]
