#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, build once, then
# format and lint checks, Rust tests (with a throw-away PostgreSQL cluster, scripts/pg.sh, for
# the PostgreSQL store's tests), bounded cargo-fuzz runs (scripts/fuzz.sh), API-type
# drift, Okta's SCIM spec test against a real `muster serve` (and against two on one
# PostgreSQL, requests alternating), the server's and the directory's suites on both stores,
# the server .deb installed and started as its unit does (tests/package/run.sh), browser
# end-to-end (Playwright + Debian chromium) and desktop end-to-end (tauri-driver +
# WebKitWebDriver under Xvfb). Ends with "N passed, N failed". The OpenAPI document's drift
# from the code (docs/openapi.json) and routes without an annotation fail in the Rust tests.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/muster/target}"
export CARGO_TERM_COLOR=never
LOGS="$(mktemp -d)"
step() { printf '\n==> %s (%ss)\n' "$1" "$SECONDS"; }

step "dependencies"
bash scripts/install-deps.sh

step "console: typecheck, lint, build"
(cd ui && npm run --silent typecheck && npm run --silent lint && npx vite build --logLevel warn)

step "rustfmt"
cargo fmt --all -- --check

step "layering: the transports hold no SQL, no clock and no store"
# The server and the desktop shell reach the store only through `directory`'s functions and
# read time from the injected clock (tests move it); see README's layout section.
if grep -rnE 'rusqlite|SELECT |INSERT |UPDATE |DELETE FROM|Utc::now' crates/server/src src-tauri/src; then
  echo "SQL or the system clock in a transport crate (above): move it into crates/directory"; exit 1
fi
# Nor do they hold the store itself: every command goes through `directory::Directory`, which
# runs its transaction, audits, and announces what it committed (no hand-written publish).
if grep -rnE '\bDb\b|\.db\(\)|\.db\.|(read|write)_blocking|\.publish\(' crates/server/src src-tauri/src; then
  echo "the store used directly in a transport crate (above): add a command to directory::Directory"; exit 1
fi

step "build"
cargo build --workspace --all-targets --locked
# The product as scripts/run.sh builds it: without the test targets, dev-dependencies add no
# features, so this proves the shipped binaries compile on their own feature set.
cargo build --workspace --locked

# The benchmark helpers are a workspace of their own (bench/tools): checked here so a change to
# the directory's API cannot leave them broken until the next benchmark run.
cargo check --manifest-path bench/tools/Cargo.toml --locked --quiet

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rust tests (with a throw-away PostgreSQL cluster for the PostgreSQL store's tests)"
PGDIR="$(mktemp -d)"
PGENV="$(bash scripts/pg.sh start "$PGDIR" "" $$)"  # MUSTER_TEST_POSTGRES=…; stops the run if it fails
export "$PGENV"
trap 'bash scripts/pg.sh stop "$PGDIR"; rm -rf "$PGDIR"' EXIT
cargo test --workspace --locked 2>&1 | tee "$LOGS/cargo.log"

step "the server's suites again, each server on a fresh PostgreSQL database"
# The same tests (tests/scim/helpers.rs reads MUSTER_TEST_STORE); the races and the IdP
# fixture replay go through two instances on one database; the few about SQLite's files and
# writer queue say they are skipped.
MUSTER_TEST_STORE=postgres cargo test -p muster-server --locked --tests 2>&1 | tee "$LOGS/cargo-postgres.log"

step "the directory's suites again, each test on a fresh PostgreSQL database"
# The same tests (crates/directory/tests/support/store.rs reads MUSTER_TEST_STORE); the few
# about SQLite's files, migrations and query plans say they are skipped. The summary counts
# this log with the others.
MUSTER_TEST_STORE=postgres cargo test -p directory --locked --tests 2>&1 | tee "$LOGS/cargo-directory-postgres.log"

step "fuzz (bounded)"
bash scripts/fuzz.sh 2>&1 | tee "$LOGS/fuzz.log"

step "API types are generated from Rust and checked in"
git diff --exit-code -- ui/src/api/generated || { echo "ui/src/api/generated drifted: run cargo test -p muster-server export_bindings and commit"; exit 1; }
if [ -n "$(git status --porcelain -- ui/src/api/generated)" ]; then
  git status --porcelain -- ui/src/api/generated; echo "untracked generated types: commit them"; exit 1
fi

MUSTER="$CARGO_TARGET_DIR/debug/muster"
export MUSTER_BIN="$MUSTER"

step "Okta SCIM 2.0 spec test against muster serve"
bash scripts/okta-spec.sh 2>&1 | tee "$LOGS/okta.log"

step "Okta SCIM 2.0 spec test against two muster serve on one PostgreSQL, requests alternating"
OKTA_STORE=postgres bash scripts/okta-spec.sh 2>&1 | tee "$LOGS/okta-postgres.log"

step "server package: build, install, run as its unit does, purge"
bash tests/package/run.sh 2>&1 | tee "$LOGS/package.log"

step "browser end-to-end"
(cd tests/e2e && npm test) 2>&1 | tee "$LOGS/e2e.log"

step "desktop end-to-end"
bash tests/desktop/run.sh 2>&1 | tee "$LOGS/desktop.log"

step "scripts/run.sh after the suite reuses its build"
# run.sh builds `cargo build --workspace`; after everything above it must compile nothing.
if cargo build --workspace --locked 2>&1 | grep -E '^ +Compiling'; then
  echo "scripts/run.sh would recompile the crates above after the test suite"; exit 1
fi

step "summary"
python3 - "$LOGS" <<'PY'
import re, sys, pathlib
logs = pathlib.Path(sys.argv[1])
passed = failed = 0
for f in logs.iterdir():
    t = f.read_text(errors="replace")
    for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed", t):
        passed += int(m[1]); failed += int(m[2])
    for m in re.finditer(r"^# pass (\d+)$", t, re.M):
        passed += int(m[1])
    for m in re.finditer(r"^# fail (\d+)$", t, re.M):
        failed += int(m[1])
    if f.name.startswith("okta"):
        for m in re.finditer(r"^(\d+) passed, (\d+) failed$", t, re.M):
            passed += int(m[1]); failed += int(m[2])
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
