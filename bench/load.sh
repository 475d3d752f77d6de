#!/usr/bin/env bash
# End-to-end load harness for issue 9 (and 3, 6). Not part of any test run.
#
#   bench/load.sh                      # 100,000 users, 1,000 groups, concurrency 64
#   USERS=20000 NGROUPS=200 bench/load.sh
#
# Steps, each bounded in count and time and stopping by itself:
#   1. build release (CARGO_TARGET_DIR, default /work/target-bench) + bench/tools
#   2. raw ceiling: USERS rows via users::create in transactions of 500 (Db::write_blocking,
#      WAL, synchronous=FULL, migrations via Db::open), and the same with the full command
#      (lifecycle::create_user + log::append)
#   3. muster serve on a fresh DB on 127.0.0.1, one Okta connection,
#      muster simulate --scenario initial-sync (Okta: GET ?filter=userName eq before each POST)
#      creates/s and the user phase come from the provisioning log; peak RSS from VmHWM
#   4. reads at USERS users (SCIM filters, paging, emails co; console user pages)
#   5. server stopped, LOG_ROWS provisioning-log rows appended, server restarted,
#      log view queries
# Results: $OUT/*.json and a summary on stdout.
set -euo pipefail

USERS=${USERS:-100000}
NGROUPS=${NGROUPS:-1000}
CONC=${CONC:-64}
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-128}
SIM_TIMEOUT=${SIM_TIMEOUT:-1500}
LOG_ROWS=${LOG_ROWS:-1000000}
READ_THREADS=${READ_THREADS:-8}
READ_MAX=${READ_MAX:-2000}
READ_SECS=${READ_SECS:-20}
DEEP=${DEEP:-90000}  # deep page: startIndex for SCIM, offset for the console
SKIP_RAW=${SKIP_RAW:-0}
SKIP_LOG=${SKIP_LOG:-0}
# SKIP_BUILD=1 uses the binaries already in $CARGO_TARGET_DIR/release.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/muster-bench.XXXXXX)}
mkdir -p "$OUT"
BIN=$CARGO_TARGET_DIR/release/muster
TOOLS=$CARGO_TARGET_DIR/release/muster-bench-tools
READ="python3 $ROOT/bench/readload.py"
SERVER_PID=

log() { echo "[$(date +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)] $*" >&2; }
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT

start_server() { # $1 = db, $2 = output file for the JSON line
  "$BIN" serve --db "$1" --bind 127.0.0.1:0 --max-in-flight "$MAX_IN_FLIGHT" >"$2" 2>"$OUT/serve.stderr" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do [[ -s "$2" ]] && break; sleep 0.1; done
  [[ -s "$2" ]] || { log "server did not start"; cat "$OUT/serve.stderr" >&2; exit 1; }
}
j() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building release"
  (cd "$ROOT" && cargo build --release -p muster-server) >&2
  (cd "$ROOT/bench/tools" && cargo build --release) >&2
fi

{
  echo "nproc: $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "ram: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "disk: $(df -h "$OUT" | awk 'NR==2 {print $1, $2}') ($(lsblk -dno ROTA,MODEL 2>/dev/null | head -1 | sed 's/^ *0/ssd/; s/^ *1/rotational/'))"
  echo "kernel: $(uname -r)"
  echo "rustc: $(rustc --version)"
  echo "git: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet -- crates || echo ' +uncommitted changes in crates/')"
} | tee "$OUT/machine.txt" >&2

if [[ "$SKIP_RAW" != 1 ]]; then
  log "raw ceiling: $USERS users::create in batches of 500"
  timeout 900 "$TOOLS" raw-ceiling --db "$OUT/raw.db" --users "$USERS" --batch 500 --mode users | tee "$OUT/raw.json" >&2
  log "raw ceiling, full command: lifecycle::create_user + log::append, batches of 500"
  timeout 900 "$TOOLS" raw-ceiling --db "$OUT/raw-full.db" --users "$USERS" --batch 500 --mode lifecycle | tee "$OUT/raw-full.json" >&2
  log "the log's cost: the same full command without the provisioning-log row"
  timeout 900 "$TOOLS" raw-ceiling --db "$OUT/raw-nolog.db" --users "$USERS" --batch 500 --mode lifecycle-nolog | tee "$OUT/raw-nolog.json" >&2
  rm -f "$OUT"/raw*.db*
fi

log "end to end: serve + simulate initial-sync users=$USERS groups=$NGROUPS concurrency=$CONC"
DB=$OUT/e2e.db
start_server "$DB" "$OUT/serve.json"
SCIM_BASE=$(j "$OUT/serve.json" "['scim_base']")
ADMIN=$(j "$OUT/serve.json" "['admin']")
SECRET=$(j "$OUT/serve.json" "['admin_secret']")
"$BIN" connection create --db "$DB" --name bench --idp okta --scim-base "$SCIM_BASE" >"$OUT/conn.json"
CID=$(j "$OUT/conn.json" "['id']")
SCIM_URL=$(j "$OUT/conn.json" "['scim_url']")
TOKEN=$(j "$OUT/conn.json" "['token']")
log "load before: $(cat /proc/loadavg)"
timeout "$SIM_TIMEOUT" "$BIN" simulate --url "$SCIM_URL" --token "$TOKEN" --idp okta \
  --scenario initial-sync --users "$USERS" --groups "$NGROUPS" --concurrency "$CONC" --json >"$OUT/simulate.json" \
  || log "simulate exited with $? (timeout or failures; see $OUT/simulate.json)"
log "load after: $(cat /proc/loadavg)"
grep -E 'VmHWM|VmRSS' "/proc/$SERVER_PID/status" | tee "$OUT/rss.txt" >&2

# Phases from the provisioning log (server-side times; every request leaves one row).
python3 "$ROOT/bench/analyze_e2e.py" "$DB" "$OUT/simulate.json" >"$OUT/e2e.json"
cat "$OUT/e2e.json" >&2

log "reads at $(python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('select count(*) from users').fetchone()[0])" "$DB") users"
python3 - "$DB" "$OUT" <<'PY'
import sqlite3, sys, urllib.parse, random
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rows = db.execute("SELECT user_name, external_id FROM users ORDER BY random() LIMIT 1000").fetchall()
q = lambda s: urllib.parse.quote(s, safe="")
D = '"'
with open(sys.argv[2] + "/p_username.txt", "w") as f:
    for u, _ in rows: f.write("/Users?filter=" + q("userName eq " + D + u + D) + "\n")
with open(sys.argv[2] + "/p_externalid.txt", "w") as f:
    for _, e in rows: f.write("/Users?filter=" + q("externalId eq " + D + e + D) + "\n")
with open(sys.argv[2] + "/p_emailsco.txt", "w") as f:
    for u, _ in rows[:200]: f.write("/Users?count=100&filter=" + q("emails co " + D + u.split("@")[0][-6:] + D) + "\n")
with open(sys.argv[2] + "/p_console_q.txt", "w") as f:
    for u, _ in rows[:200]: f.write("/connections/CID/users?limit=100&q=" + q(u.split("@")[0][-8:]) + "\n")
PY
sed -i "s/CID/$CID/" "$OUT/p_console_q.txt"
R() { # name, base, auth, extra args...
  local name=$1 base=$2 auth=$3; shift 3
  $READ --name "$name" --base "$base" --auth "$auth" --threads "$READ_THREADS" \
    --max-requests "$READ_MAX" --max-seconds "$READ_SECS" "$@" | python3 -c "
import json,sys; d=json.loads(sys.stdin.read()); d['loadavg']=open('/proc/loadavg').read().split()[:3]; print(json.dumps(d))"
}
{
  R static_spc "$SCIM_URL" "Bearer $TOKEN" --path /ServiceProviderConfig
  R userName_eq "$SCIM_URL" "Bearer $TOKEN" --paths-file "$OUT/p_username.txt"
  R externalId_eq "$SCIM_URL" "Bearer $TOKEN" --paths-file "$OUT/p_externalid.txt"
  R list_sorted_first_page "$SCIM_URL" "Bearer $TOKEN" --path "/Users?startIndex=1&count=100&sortBy=userName"
  R list_sorted_deep_page_$DEEP "$SCIM_URL" "Bearer $TOKEN" --path "/Users?startIndex=$DEEP&count=100&sortBy=userName"
  R emails_co "$SCIM_URL" "Bearer $TOKEN" --paths-file "$OUT/p_emailsco.txt"
  R console_users_first "$ADMIN" "Bearer $SECRET" --path "/connections/$CID/users?offset=0&limit=100"
  R console_users_deep_$DEEP "$ADMIN" "Bearer $SECRET" --path "/connections/$CID/users?offset=$DEEP&limit=100"
  R console_users_q "$ADMIN" "Bearer $SECRET" --paths-file "$OUT/p_console_q.txt"
} | tee "$OUT/reads.json" >&2
grep -E 'VmHWM|VmRSS' "/proc/$SERVER_PID/status" | sed 's/^/after reads: /' | tee -a "$OUT/rss.txt" >&2
stop_server

if [[ "$SKIP_LOG" != 1 ]]; then
  log "appending $LOG_ROWS provisioning-log rows"
  timeout 900 "$TOOLS" seed-log --db "$DB" --connection "$CID" --rows "$LOG_ROWS" | tee "$OUT/seed-log.json" >&2
  start_server "$DB" "$OUT/serve2.json"
  ADMIN=$(j "$OUT/serve2.json" "['admin']")
  SECRET=$(j "$OUT/serve2.json" "['admin_secret']")
  ROWS=$(python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('select count(*) from provisioning_log').fetchone()[0])" "$DB")
  log "log view at $ROWS rows"
  {
    R log_latest_100 "$ADMIN" "Bearer $SECRET" --path "/connections/$CID/log?limit=100"
    R log_failures_100 "$ADMIN" "Bearer $SECRET" --path "/connections/$CID/log?limit=100&status=failure"
    R log_q_username "$ADMIN" "Bearer $SECRET" --path "/connections/$CID/log?limit=100&q=seed.user123456"
    R log_q_rare "$ADMIN" "Bearer $SECRET" --path "/connections/$CID/log?limit=100&q=no-such-text-anywhere"
  } | sed "s/^{/{\"log_rows\": $ROWS, /" | tee "$OUT/log.json" >&2
  stop_server
fi
log "done; results in $OUT"
echo "$OUT"
