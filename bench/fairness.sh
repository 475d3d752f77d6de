#!/usr/bin/env bash
# Tenant isolation and list cost, measured with wrk (Debian's; a lean compiled client).
# Not part of any test run.
#
#   BIN=path/to/muster bench/fairness.sh          # default: the debug build in the shared target dir
#
# 1. static ceiling: GET /ServiceProviderConfig of connection Y
# 2. Y idle: POST /Users to connection Y (unique userNames), 4 connections, DUR seconds
# 3. Y under X's flood: the same, while connection X posts the largest users the limits
#    allow (~240 KB, 230 addresses of 1,000 characters) from 16 connections
# 4. list cost: one POST of a user with N emails (N = 250, 500, 1000, and 20000 where the
#    build accepts it), wall time per request with curl, 3 runs each
# Everything on 127.0.0.1, bounded in time; the server is stopped at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/muster/target}/debug/muster}
DUR=${DUR:-10}
PORT=${PORT:-18790}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk; }
DIR=$(mktemp -d /tmp/muster-fair.XXXXXX)
"$BIN" serve --db "$DIR/db" --bind "127.0.0.1:$PORT" --console /nonexistent >"$DIR/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/scim/v2/x/ServiceProviderConfig" -o /dev/null -w '' 2>/dev/null && break; sleep 0.1; done
sleep 0.5
mk() { "$BIN" connection create --db "$DIR/db" --name "$1" --idp okta; }
X=$(mk x); Y=$(mk y)
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
XID=$(field "$X" id); XT=$(field "$X" token); YID=$(field "$Y" id); YT=$(field "$Y" token)
BASE="http://127.0.0.1:$PORT/scim/v2"

cat >"$DIR/create.lua" <<'LUA'
local n = 0
local tag = tostring(os.time()) .. tostring(math.random(1, 1e9))
request = function()
  n = n + 1
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u' .. tag .. '-' .. n .. '@y.test","name":{"givenName":"A","familyName":"B"},"emails":[{"value":"u' .. n .. '@y.test","primary":true}]}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/scim+json", ["Authorization"] = "Bearer " .. os.getenv("TOKEN")}, body)
end
LUA
cat >"$DIR/big.lua" <<'LUA'
local n = 0
local tag = tostring(os.time()) .. tostring(math.random(1, 1e9))
local addr = {}
for i = 1, 230 do addr[i] = '{"formatted":"' .. string.rep("a", 1000) .. i .. '"}' end
local addrs = table.concat(addr, ",")
request = function()
  n = n + 1
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"big' .. tag .. '-' .. n .. '@x.test","addresses":[' .. addrs .. ']}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/scim+json", ["Authorization"] = "Bearer " .. os.getenv("TOKEN")}, body)
end
LUA
p99() { grep -E '^ +99%' | awk '{print $2}'; }
rps() { grep 'Requests/sec' | awk '{print $2}'; }
non2xx() { grep -E 'Non-2xx' | awk '{print $5}' || true; }

echo "== static ceiling (GET /ServiceProviderConfig, 4 connections)"
wrk -t1 -c4 -d"${DUR}s" --latency -H "Authorization: Bearer $YT" "$BASE/$YID/ServiceProviderConfig" >"$DIR/static.txt"
echo "req/s $(rps <"$DIR/static.txt")  p99 $(p99 <"$DIR/static.txt")"

echo "== Y creates, idle (4 connections)"
TOKEN=$YT wrk -t1 -c4 -d"${DUR}s" --latency -s "$DIR/create.lua" "$BASE/$YID/Users" >"$DIR/idle.txt"
echo "req/s $(rps <"$DIR/idle.txt")  p99 $(p99 <"$DIR/idle.txt")  non-2xx $(non2xx <"$DIR/idle.txt")"

echo "== Y creates while X posts ~240 KB users (16 connections)"
TOKEN=$XT wrk -t1 -c16 -d"$((DUR + 4))s" --latency -s "$DIR/big.lua" "$BASE/$XID/Users" >"$DIR/flood.txt" &
FLOOD=$!
sleep 2
TOKEN=$YT wrk -t1 -c4 -d"${DUR}s" --latency -s "$DIR/create.lua" "$BASE/$YID/Users" >"$DIR/loaded.txt"
wait $FLOOD
echo "Y: req/s $(rps <"$DIR/loaded.txt")  p99 $(p99 <"$DIR/loaded.txt")  non-2xx $(non2xx <"$DIR/loaded.txt")"
echo "X: req/s $(rps <"$DIR/flood.txt")  p99 $(p99 <"$DIR/flood.txt")  non-2xx $(non2xx <"$DIR/flood.txt")"

echo "== one POST with N emails (wall seconds, 3 runs)"
for N in 250 500 1000 20000; do
  python3 - "$N" >"$DIR/emails.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"many{n}-{{i}}@y.test",
                  "emails": [{"value": f"e{i}@y.test", "type": "work"} for i in range(n)]}))
PY
  times=""
  for i in 1 2 3; do
    sed "s/{i}/$i-$RANDOM/" "$DIR/emails.json" >"$DIR/emails-$i.json"
    t=$(curl -s -o "$DIR/resp.json" -w '%{time_total} %{http_code}' -H "Authorization: Bearer $YT" -H 'Content-Type: application/scim+json' --data-binary @"$DIR/emails-$i.json" "$BASE/$YID/Users")
    times="$times $t"
  done
  echo "N=$N:$times"
done
echo "raw output: $DIR"
