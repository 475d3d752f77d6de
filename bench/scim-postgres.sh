#!/usr/bin/env bash
# SCIM throughput on the SQLite store vs PostgreSQL with one instance vs PostgreSQL with two
# instances on the same database (issue 18), with wrk and the lua of bench/scim-wrk.sh.
# Not part of any test run.
#
#   BIN=path/to/muster DUR=10 bench/scim-postgres.sh   # default: the release build in /work/target-bench
#
# Each part runs three steps of DUR seconds with 8 wrk connections in all:
#   static ceiling: GET /ServiceProviderConfig (no store read)
#   creates:        POST /Users with unique userNames
#   lookups:        GET /Users?filter=userName eq "…" of up to 2,000 users the creates stored
# 1. SQLite, one instance (as bench/scim-wrk.sh).
# 2. PostgreSQL 15 (a throw-away cluster from scripts/pg.sh, fsync on), one instance.
# 3. PostgreSQL, two instances on one database: two wrk processes at once, one per instance,
#    4 connections each, into the same SCIM connection (created once through instance A's
#    admin API; both accept its token). The line gives summed req/s, both p50s, the worse p99.
# Everything on 127.0.0.1; wrk, psql and the waits for start are bounded in time; the servers
# and the cluster are stopped on exit (also on error or Ctrl-C). Raw wrk output stays in $DIR.
set -euo pipefail
BIN=${BIN:-/work/target-bench/release/muster}
DUR=${DUR:-10}
CONN=8                      # connections in all; 4 per instance in part 3
PORT=${PORT:-18791}         # SQLite instance; PostgreSQL instances on PORT+1 and PORT+2
PGPORT=${PGPORT:-18795}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SECRET=bench-admin-secret-0123456789
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk; }
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }
DIR=$(mktemp -d /tmp/muster-pgbench.XXXXXX)
PIDS=()
WATCH=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  bash "$HERE/scripts/pg.sh" stop "$DIR/pg" 2>/dev/null || true
  [ -z "$WATCH" ] || kill "$WATCH" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export PGCONNECT_TIMEOUT=5
export PGOPTIONS="-c statement_timeout=30000"

field() { python3 -c "import json,sys; v=json.loads(sys.argv[1])
for k in sys.argv[2].split('.'): v=v[k]
print(v)" "$1" "$2"; }

# serve NAME PORT [--database URL]: starts an instance with its own folder, waits for its
# health check and its start line; SERVED is its pid.
serve() {
  local name=$1 port=$2; shift 2
  mkdir -p "$DIR/$name"
  "$BIN" serve --db "$DIR/$name/muster.db" --bind "127.0.0.1:$port" --console /nonexistent \
    --admin-secret "$SECRET" "$@" >"$DIR/$name/serve.log" 2>"$DIR/$name/serve.err" &
  SERVED=$!
  PIDS+=("$SERVED")
  for _ in $(seq 100); do
    curl -fs --max-time 2 "http://127.0.0.1:$port/healthz" -o /dev/null 2>/dev/null && break
    kill -0 "$SERVED" 2>/dev/null || break
    sleep 0.1
  done
  curl -fs --max-time 2 "http://127.0.0.1:$port/healthz" -o /dev/null || {
    echo "instance $name did not start:" >&2; cat "$DIR/$name/serve.log" "$DIR/$name/serve.err" >&2; exit 1; }
  echo "   $name: $(head -1 "$DIR/$name/serve.log" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["addr"], d["scim_base"])')"
}

# connection PORT: creates a SCIM connection through the admin API; sets ID and TOKEN.
connection() {
  local c
  c=$(curl -fsS --max-time 10 -X POST -H "Authorization: Bearer $SECRET" -H 'Content-Type: application/json' \
    "http://127.0.0.1:$1/api/connections" -d '{"name":"bench","idp":"okta"}')
  ID=$(field "$c" connection.id); TOKEN=$(field "$c" token)
  export TOKEN
}

cat >"$DIR/create.lua" <<'LUA'
local n = 0
local tag
local threads = 0
-- Each wrk thread gets its own number, and each wrk process its own TAG, so no two threads
-- send the same userName (two processes start in the same second in part 3).
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
init = function() tag = (os.getenv("TAG") or "") .. tostring(os.time()) .. "-" .. tostring(tid) end
request = function()
  n = n + 1
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u' .. tag .. '-' .. n .. '@bench.test","externalId":"x' .. tag .. '-' .. n .. '","name":{"givenName":"A","familyName":"B"},"emails":[{"value":"u' .. n .. '@bench.test","type":"work","primary":true}],"active":true}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/scim+json", ["Authorization"] = "Bearer " .. os.getenv("TOKEN")}, body)
end
LUA
cat >"$DIR/lookup.lua" <<'LUA'
local names = {}
for line in io.lines(os.getenv("NAMES")) do names[#names + 1] = line end
local i = 0
request = function()
  i = i % #names + 1
  local path = wrk.path .. '?filter=userName%20eq%20%22' .. names[i] .. '%22'
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. os.getenv("TOKEN")})
end
LUA
p50() { grep -E '^ +50%' | awk '{print $2}'; }
p99() { grep -E '^ +99%' | awk '{print $2}'; }
rps() { grep 'Requests/sec' | awk '{print $2}'; }
non2xx() { grep -E 'Non-2xx' | awk '{print $5}' || true; }
sockerr() { grep -E 'Socket errors' | sed 's/^ *//' || true; }
line() {
  local NON ERR; NON=$(non2xx <"$1"); ERR=$(sockerr <"$1")
  echo "req/s $(rps <"$1")  p50 $(p50 <"$1")  p99 $(p99 <"$1")  non-2xx ${NON:-0}${ERR:+  $ERR}"
}
# line2 A B: two wrk runs at once: summed req/s, both p50s, the worse p99, summed non-2xx.
line2() {
  local NA NB EA EB
  NA=$(non2xx <"$1"); NB=$(non2xx <"$2"); EA=$(sockerr <"$1"); EB=$(sockerr <"$2")
  python3 - "$(rps <"$1")" "$(rps <"$2")" "$(p50 <"$1")" "$(p50 <"$2")" "$(p99 <"$1")" "$(p99 <"$2")" \
    "${NA:-0}" "${NB:-0}" <<'PY'
import re, sys
ra, rb, pa, pb, qa, qb, na, nb = sys.argv[1:]
def ms(t):
    v, u = re.fullmatch(r"([\d.]+)(us|ms|s|m)", t).groups()
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[u]
worse = qa if ms(qa) >= ms(qb) else qb
print(f"req/s {float(ra) + float(rb):.2f} (A {ra} + B {rb})  p50 A {pa} / B {pb}  "
      f"p99 {worse} (A {qa}, B {qb})  non-2xx {int(na) + int(nb)}")
PY
  [ -z "$EA$EB" ] || echo "   socket errors: A: ${EA:-none}; B: ${EB:-none}"
}
# one NAME URL [lua args…]: one wrk with all 8 connections.
one() {
  local name=$1 url=$2; shift 2
  timeout $((DUR + 30)) wrk -t2 -c"$CONN" -d"${DUR}s" --latency "$@" "$url" >"$DIR/$name.txt"
  line "$DIR/$name.txt"
}
# two NAME PATH [lua args…]: two wrk at once, 4 connections each, A on instance A, B on B.
two() {
  local name=$1 path=$2; shift 2
  TAG=a timeout $((DUR + 30)) wrk -t2 -c$((CONN / 2)) -d"${DUR}s" --latency "$@" "$BASE_A$path" >"$DIR/$name-a.txt" &
  local a=$!
  TAG=b timeout $((DUR + 30)) wrk -t2 -c$((CONN / 2)) -d"${DUR}s" --latency "$@" "$BASE_B$path" >"$DIR/$name-b.txt" &
  local b=$!
  wait "$a"; wait "$b"
  line2 "$DIR/$name-a.txt" "$DIR/$name-b.txt"
}
names_pg() {
  timeout 60 psql -X -q -At "$1" -c "SELECT user_name FROM users ORDER BY random() LIMIT 2000" >"$DIR/names.txt"
  echo "   users stored: $(timeout 60 psql -X -q -At "$1" -c 'SELECT count(*) FROM users'), $(wc -l <"$DIR/names.txt") sampled for lookups"
}

echo "== 1. SQLite, one instance ($CONN connections, ${DUR}s per step)"
serve sqlite "$PORT"
connection "$PORT"
BASE="http://127.0.0.1:$PORT/scim/v2/$ID"
echo "-- static ceiling: GET /ServiceProviderConfig"
one sqlite-static "$BASE/ServiceProviderConfig" -H "Authorization: Bearer $TOKEN"
echo "-- creates: POST /Users"
one sqlite-create "$BASE/Users" -s "$DIR/create.lua"
python3 -c "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute('SELECT user_name FROM users ORDER BY random() LIMIT 2000')]" \
  "$DIR/sqlite/muster.db" >"$DIR/names.txt"
echo "   users stored: $(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM users').fetchone()[0])" "$DIR/sqlite/muster.db"), $(wc -l <"$DIR/names.txt") sampled for lookups"
echo "-- lookups: GET /Users?filter=userName eq"
NAMES="$DIR/names.txt" one sqlite-lookup "$BASE/Users" -s "$DIR/lookup.lua"
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true

echo "== PostgreSQL cluster (scripts/pg.sh, port $PGPORT)"
sleep 100000 &
WATCH=$!
PGURL=$(timeout 60 bash "$HERE/scripts/pg.sh" start "$DIR/pg" "$PGPORT" "$WATCH" | sed -n 's/^MUSTER_TEST_POSTGRES=//p')
[ -n "$PGURL" ] || { echo "pg.sh start printed no URL" >&2; exit 1; }
echo "   $(timeout 10 psql -X -At "$PGURL" -c 'SHOW server_version') at $PGURL"
ROOT=${PGURL%/*}
timeout 30 psql -X -q "$PGURL" -c "CREATE DATABASE bench_one" -c "CREATE DATABASE bench_two"

echo "== 2. PostgreSQL, one instance ($CONN connections, ${DUR}s per step)"
serve pg-one $((PORT + 1)) --database "$ROOT/bench_one"
connection $((PORT + 1))
BASE="http://127.0.0.1:$((PORT + 1))/scim/v2/$ID"
echo "-- static ceiling: GET /ServiceProviderConfig"
one pg1-static "$BASE/ServiceProviderConfig" -H "Authorization: Bearer $TOKEN"
echo "-- creates: POST /Users"
one pg1-create "$BASE/Users" -s "$DIR/create.lua"
names_pg "$ROOT/bench_one"
echo "-- lookups: GET /Users?filter=userName eq"
NAMES="$DIR/names.txt" one pg1-lookup "$BASE/Users" -s "$DIR/lookup.lua"
kill "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true

echo "== 3. PostgreSQL, two instances on one database ($((CONN / 2)) + $((CONN / 2)) connections, ${DUR}s per step)"
serve pg-a $((PORT + 1)) --database "$ROOT/bench_two"
serve pg-b $((PORT + 2)) --database "$ROOT/bench_two"
connection $((PORT + 1))
BASE_A="http://127.0.0.1:$((PORT + 1))/scim/v2/$ID"
BASE_B="http://127.0.0.1:$((PORT + 2))/scim/v2/$ID"
# B must accept the connection A created before anything is measured.
curl -fsS --max-time 10 -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE_B/Users?count=1" \
  || { echo "instance B refused the connection created on A" >&2; exit 1; }
echo "-- static ceiling: GET /ServiceProviderConfig"
two pg2-static /ServiceProviderConfig -H "Authorization: Bearer $TOKEN"
echo "-- creates: POST /Users"
two pg2-create /Users -s "$DIR/create.lua"
names_pg "$ROOT/bench_two"
echo "-- lookups: GET /Users?filter=userName eq"
NAMES="$DIR/names.txt" two pg2-lookup /Users -s "$DIR/lookup.lua"
for f in "$DIR"/*/serve.err; do
  if grep -qiE 'error|panic' "$f"; then echo "   errors logged by $(basename "$(dirname "$f")"):"; grep -iE 'error|panic' "$f" | head -5; fi
done
echo "raw output: $DIR"
