#!/usr/bin/env bash
# SCIM throughput with wrk (Debian's; a lean compiled client), beside the server's own static
# ceiling in the same run. Not part of any test run.
#
#   BIN=path/to/muster DUR=10 bench/scim-wrk.sh      # default: the release build in /work/target-bench
#
# 1. static ceiling: GET /ServiceProviderConfig (no store read)
# 2. creates: POST /Users with unique userNames (8 connections)
# 3. lookups: GET /Users?filter=userName eq "…" of users step 2 created (8 connections)
# Everything on 127.0.0.1, bounded in time; the server is stopped at the end.
set -euo pipefail
BIN=${BIN:-/work/target-bench/release/muster}
DUR=${DUR:-10}
CONN=${CONN:-8}
PORT=${PORT:-18791}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk; }
DIR=$(mktemp -d /tmp/muster-wrk.XXXXXX)
"$BIN" serve --db "$DIR/db" --bind "127.0.0.1:$PORT" --console /nonexistent >"$DIR/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" -o /dev/null 2>/dev/null && break; sleep 0.1; done
C=$("$BIN" connection create --db "$DIR/db" --name bench --idp okta)
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
ID=$(field "$C" id); TOKEN=$(field "$C" token)
BASE="http://127.0.0.1:$PORT/scim/v2/$ID"
export TOKEN

cat >"$DIR/create.lua" <<'LUA'
local n = 0
local tag
local threads = 0
-- Each wrk thread gets its own number, so no two threads send the same userName.
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
init = function() tag = tostring(os.time()) .. "-" .. tostring(tid) end
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
line() { NON=$(non2xx <"$1"); echo "req/s $(rps <"$1")  p50 $(p50 <"$1")  p99 $(p99 <"$1")  non-2xx ${NON:-0}"; }

echo "== static ceiling: GET /ServiceProviderConfig ($CONN connections, ${DUR}s)"
wrk -t2 -c"$CONN" -d"${DUR}s" --latency -H "Authorization: Bearer $TOKEN" "$BASE/ServiceProviderConfig" >"$DIR/static.txt"
line "$DIR/static.txt"
echo "== creates: POST /Users ($CONN connections, ${DUR}s)"
wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$DIR/create.lua" "$BASE/Users" >"$DIR/create.txt"
line "$DIR/create.txt"
# userNames to look up: those the create step stored.
sqlite3 "$DIR/db" "SELECT user_name FROM users ORDER BY random() LIMIT 2000" >"$DIR/names.txt" 2>/dev/null \
  || python3 -c "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute('SELECT user_name FROM users ORDER BY random() LIMIT 2000')]" "$DIR/db" >"$DIR/names.txt"
echo "   users stored: $(wc -l <"$DIR/names.txt") sampled for lookups"
echo "== lookups: GET /Users?filter=userName eq ($CONN connections, ${DUR}s)"
NAMES="$DIR/names.txt" wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$DIR/lookup.lua" "$BASE/Users" >"$DIR/lookup.txt"
line "$DIR/lookup.txt"
echo "raw output: $DIR"
