#!/usr/bin/env bash
# Peak RSS of `muster serve` under the read mix of bench/load.sh, on a copy of a database
# that load.sh left behind (issue 9, "Memory"). Not part of any test run.
#
#   bench/memtest.sh OUT        # OUT = a load.sh output dir (e2e.db, conn.json, p_*.txt)
#
# Prints VmRSS after each scenario and the final VmHWM.
set -euo pipefail
OUT=${1:?usage: bench/memtest.sh LOAD_SH_OUT_DIR}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$CARGO_TARGET_DIR/release/muster
WORK=$(mktemp -d /tmp/muster-memtest.XXXXXX)
cp "$OUT/e2e.db" "$WORK/m.db"
[[ -f "$OUT/e2e.db-wal" ]] && cp "$OUT/e2e.db-wal" "$WORK/m.db-wal"
"$BIN" serve --db "$WORK/m.db" --bind 127.0.0.1:0 >"$WORK/serve.json" 2>"$WORK/serve.err" &
SP=$!
trap 'kill $SP 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do [[ -s "$WORK/serve.json" ]] && break; sleep 0.1; done
j() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
ADDR=$(j "$WORK/serve.json" "['addr']"); SECRET=$(j "$WORK/serve.json" "['admin_secret']")
CID=$(j "$OUT/conn.json" "['id']"); TOKEN=$(j "$OUT/conn.json" "['token']")
S=http://$ADDR/scim/v2/$CID; A=http://$ADDR/api
R() { python3 "$ROOT/bench/readload.py" --threads 8 --max-requests 300 --max-seconds 10 "$@" >/dev/null; }
m() { echo "$1 $(grep VmRSS /proc/$SP/status)"; }
m start
R --base "$S" --auth "Bearer $TOKEN" --name u --paths-file "$OUT/p_username.txt"; m userName_eq
R --base "$S" --auth "Bearer $TOKEN" --name f --path "/Users?startIndex=1&count=100&sortBy=userName"; m first_page
R --base "$S" --auth "Bearer $TOKEN" --name d --path "/Users?startIndex=90000&count=100&sortBy=userName"; m deep_page
R --base "$S" --auth "Bearer $TOKEN" --name c --paths-file "$OUT/p_emailsco.txt"; m emails_co
R --base "$A" --auth "Bearer $SECRET" --name cf --path "/connections/$CID/users?offset=0&limit=100"; m console_first
grep VmHWM /proc/$SP/status
