#!/usr/bin/env bash
# Retention pruning under load (BENCHMARKS.md, "Retention pruning"). Not part of any test run.
#
#   bench/prune.sh                         # 1,000,000 old log rows, 20 s windows, 16 connections
#   ROWS=200000 SECS=10 bench/prune.sh
#
# Two runs of `muster serve` (the DEBUG binary, $CARGO_TARGET_DIR/debug/muster: what a
# developer builds, not a release build), each on its own database with one Okta connection:
#   baseline  a fresh database: nothing to prune
#   pruning   the same, plus ROWS provisioning-log rows 60 to 90 days old, inserted directly
#             with python3's sqlite3 (past the default 30-day retention): the retention pass
#             that runs at start removes them, BATCH rows per write, while the load runs
# In each run, with wrk (apt package, installed if missing; closed loop, C connections):
#   1. POST /scim/v2/{conn}/Users, a new userName per request, for SECS seconds
#   2. GET  /scim/v2/{conn}/ServiceProviderConfig for SECS seconds: the ceiling of the HTTP,
#      auth and log path (each request still appends its own log row)
# The pruning run records when the pass ended (its "pruned by retention" log line, with
# MUSTER_LOG=info), so the POST window can be checked to lie inside it.
# Results: $OUT/*.json and a table on stdout.
set -euo pipefail

ROWS=${ROWS:-1000000}
SECS=${SECS:-20}
C=${C:-16}
THREADS=${THREADS:-2}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/muster/target}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/muster-prune.XXXXXX)}
mkdir -p "$OUT"
BIN=$CARGO_TARGET_DIR/debug/muster
SERVER_PID=

log() { echo "[$(date +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)] $*" >&2; }
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT
j() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

if ! command -v wrk >/dev/null; then
  log "installing wrk (apt)"
  apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
fi
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  log "building the debug binary"
  (cd "$ROOT" && cargo build -p muster-server) >&2
fi

{
  echo "nproc: $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "kernel: $(uname -r)"
  echo "binary: $BIN (debug profile)"
  echo "wrk: $(wrk --version 2>&1 | head -1)"
  echo "git: $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet -- crates || echo ' +uncommitted changes in crates/')"
} | tee "$OUT/machine.txt" >&2

# wrk scripts: a unique userName per request (per thread prefix + counter), and a JSON
# summary line from done().
cat >"$OUT/summary.lua" <<'LUA'
function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"seconds":%.2f,"rps":%.1f,"non_2xx":%d,"socket_errors":%d,"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
    summary.requests, s, summary.requests / s, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3))
end
LUA
cat >"$OUT/create.lua" <<'LUA'
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local token = os.getenv("TOKEN")
function request()
  n = n + 1
  local name = string.format("bench.t%d.u%d@acme.test", tid, n)
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. name ..
    '","name":{"givenName":"Bench","familyName":"User"},"emails":[{"primary":true,"value":"' .. name ..
    '","type":"work"}],"displayName":"Bench User","active":true}'
  return wrk.format("POST", nil,
    {["Content-Type"] = "application/scim+json", ["Authorization"] = "Bearer " .. token}, body)
end
LUA
cat "$OUT/summary.lua" >>"$OUT/create.lua"

fill_old_log() { # $1 = db, $2 = connection id: ROWS rows 60..90 days old
  python3 - "$1" "$2" "$ROWS" <<'PY'
import sqlite3, sys, time, datetime as dt
db, cid, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA synchronous=OFF")
start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=90)
step = dt.timedelta(days=30) / max(n, 1)
body = ('{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"seed.user%d@acme.test",'
        '"name":{"givenName":"Seed","familyName":"User%d"},"emails":[{"primary":true,"value":'
        '"seed.user%d@acme.test","type":"work"}],"active":true,"password":"[redacted]"}')
def rows(lo, hi):
    for i in range(lo, hi):
        at = (start + step * i).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % ((start + step * i).microsecond // 1000)
        fail = i % 10 == 0
        name = "seed.user%d@acme.test" % i
        yield (at, cid, "POST" if i % 3 else "GET", "/Users" if i % 3 else "/Users/seed-%d" % i,
               409 if fail else 201, "conflict" if fail else "created", "User", "seed-%d" % i,
               name, "00useed%010d" % i, 1.5, "okta", "Okta SCIM Client 1.0.0", "mst_abcdefgh",
               "userName is already taken in this connection" if fail else None,
               body % (i, i, i), None, name)
t = time.time()
for lo in range(0, n, 50_000):
    c.executemany(
        "INSERT INTO provisioning_log (at, connection_id, method, path, status, outcome, resource_type,"
        " resource_id, user_name, external_id, duration_ms, dialect, user_agent, token_prefix, detail,"
        " request_body, changes, user_name_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows(lo, min(n, lo + 50_000)))
    c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print('{"rows": %d, "seconds": %.1f}' % (n, time.time() - t))
PY
}

run() { # $1 = name (baseline | pruning)
  local name=$1 db=$OUT/$1.db
  rm -f "$db" "$db"-wal "$db"-shm
  "$BIN" connection create --db "$db" --name bench --idp okta >"$OUT/$name.conn.json"
  local cid token
  cid=$(j "$OUT/$name.conn.json" "['id']")
  token=$(j "$OUT/$name.conn.json" "['token']")
  if [[ $name == pruning ]]; then
    log "$name: inserting $ROWS provisioning-log rows 60-90 days old"
    fill_old_log "$db" "$cid" | tee "$OUT/fill.json" >&2
  fi
  log "$name: db $(du -h "$db" | cut -f1); starting muster serve"
  NO_COLOR=1 MUSTER_LOG=info "$BIN" serve --db "$db" --bind 127.0.0.1:0 >"$OUT/$name.serve.json" 2>"$OUT/$name.serve.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do [[ -s "$OUT/$name.serve.json" ]] && break; sleep 0.1; done
  [[ -s "$OUT/$name.serve.json" ]] || { log "server did not start"; cat "$OUT/$name.serve.log" >&2; exit 1; }
  local started base
  started=$(date +%s.%N)
  base="$(j "$OUT/$name.serve.json" "['scim_base']")/$cid"
  log "$name: POST /Users for ${SECS}s, $C connections"
  TOKEN=$token wrk -t"$THREADS" -c"$C" -d"${SECS}s" --timeout 30s -s "$OUT/create.lua" "$base/Users" \
    | tail -1 | tee "$OUT/$name.create.json" >&2
  local create_end
  create_end=$(date +%s.%N)
  log "$name: GET /ServiceProviderConfig for ${SECS}s"
  wrk -t"$THREADS" -c"$C" -d"${SECS}s" --timeout 30s -s "$OUT/summary.lua" \
    -H "Authorization: Bearer $token" "$base/ServiceProviderConfig" \
    | tail -1 | tee "$OUT/$name.spc.json" >&2
  sleep 1
  stop_server
  python3 - "$name" "$OUT" "$started" "$create_end" "$db" <<'PY' | tee "$OUT/$name.json" >&2
import json, re, sqlite3, sys, datetime as dt
name, out, started, create_end, db = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
r = {"run": name, "create": json.load(open(f"{out}/{name}.create.json")),
     "spc": json.load(open(f"{out}/{name}.spc.json"))}
for line in open(f"{out}/{name}.serve.log"):
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)
    if "pruned by retention" in line:
        m = dict(re.findall(r"(\w+)=(\d+)", line))
        r["prune"] = {k: int(v) for k, v in m.items()}
        ts = dt.datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
        r["prune"]["ended_s_after_start"] = round(ts - started, 1)
        r["prune"]["ended_after_create_window"] = ts >= create_end
        break
r["log_rows_left_older_than_30d"] = sqlite3.connect(db).execute(
    "SELECT count(*) FROM provisioning_log WHERE at < strftime('%Y-%m-%dT%H:%M:%fZ','now','-30 days')").fetchone()[0]
print(json.dumps(r))
PY
}

run baseline
run pruning

python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
print(f"{'run':<10} {'endpoint':<22} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'non-2xx':>8}")
for name in ["baseline", "pruning"]:
    r = json.load(open(f"{out}/{name}.json"))
    for ep, key in [("POST /Users", "create"), ("GET /ServiceProviderConfig", "spc")]:
        d = r[key]
        print(f"{name:<10} {ep:<22} {d['rps']:>8.0f} {d['p50_ms']:>8.1f} {d['p90_ms']:>8.1f} {d['p99_ms']:>8.1f} {d['max_ms']:>8.1f} {d['non_2xx']:>8}")
    if "prune" in r:
        print(f"           pruning pass: {r['prune']}")
    print(f"           log rows older than 30 days left: {r['log_rows_left_older_than_30d']}")
print(f"results: {out}")
PY
