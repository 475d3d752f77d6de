#!/usr/bin/env bash
# Quick end-to-end sync for paired before/after runs (not part of any test run):
#
#   BIN=/path/to/muster bench/quick.sh [USERS=20000] [GROUPS=200]
#
# A fresh `muster serve` on a fresh file, one Okta connection, then
# `muster simulate --scenario initial-sync` at concurrency 64 (CONC to change), as
# bench/load.sh's step 2. Prints the writer thread's run/wait times (schedstat), each
# server thread kind's CPU seconds, the server's peak RSS, the client's CPU, latency by
# method and creates/s. KEEP=1 keeps the directory.
set -euo pipefail
N=${1:-20000}; G=${2:-200}
D=$(mktemp -d /tmp/muster-quick.XXXXXX)
B=${BIN:-${CARGO_TARGET_DIR:-/work/target-bench}/release/muster}
"$B" serve --db "$D/e2e.db" --bind 127.0.0.1:0 --max-in-flight 128 >"$D/serve.json" 2>"$D/serve.err" &
SP=$!
trap 'kill $SP 2>/dev/null || true; wait $SP 2>/dev/null || true; [[ -n "${KEEP:-}" ]] && echo "kept: $D" || rm -rf "$D"' EXIT
for _ in $(seq 50); do [[ -s "$D/serve.json" ]] && break; sleep 0.1; done
j() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
"$B" connection create --db "$D/e2e.db" --name bench --idp okta --scim-base "$(j "$D/serve.json" scim_base)" >"$D/conn.json"
/usr/bin/time -f "client %U user %S sys %e wall" "$B" simulate --url "$(j "$D/conn.json" scim_url)" \
  --token "$(j "$D/conn.json" token)" --idp okta --scenario initial-sync --users "$N" --groups "$G" \
  --concurrency "${CONC:-64}" --json >"$D/sim.json" 2>"$D/sim.time"
for t in /proc/$SP/task/*; do
  [[ "$(cat "$t/comm")" == muster-writer ]] && echo "writer schedstat (run_ns wait_ns slices): $(cat "$t/schedstat")"
done
for t in /proc/$SP/task/*; do echo "$(cat "$t/comm") $(awk '{print $14+$15}' "$t/stat")"; done \
  | awk '{a[$1]+=$2} END {for (k in a) printf "%s=%.2fs ", k, a[k]/100; print ""}'
grep VmHWM "/proc/$SP/status"
tail -1 "$D/sim.time"
python3 - "$D/sim.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("latency", d["latency_ms"])
print("by method", d["latency_by_method_ms"])
print("status", d["by_status"], "creates/s", round(d["by_status"].get("201", 0) / d["elapsed_ms"] * 1000))
PY
