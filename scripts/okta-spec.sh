#!/usr/bin/env bash
# Runs Okta's published SCIM 2.0 spec test (tests/conformance/okta) against a fresh
# `muster serve`. Okta's suite expects an app that already has a user and a group, so
# one of each is pushed first, as Okta would.
set -euo pipefail
cd "$(dirname "$0")/.."
MUSTER="${MUSTER_BIN:-${CARGO_TARGET_DIR:-target}/debug/muster}"
SUITE="${OKTA_SUITE:-tests/conformance/okta}"
WORK="$(mktemp -d)"
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$MUSTER" serve --db "$WORK/muster.db" --bind 127.0.0.1:0 > "$WORK/serve.json" &
PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/serve.json" ] && break; sleep 0.1; done
BASE=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['scim_base'])" "$WORK/serve.json")
"$MUSTER" connection create --db "$WORK/muster.db" --name okta-spec --idp okta --scim-base "$BASE" > "$WORK/conn.json"
URL=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['scim_url'])" "$WORK/conn.json")
TOKEN=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['token'])" "$WORK/conn.json")
seed() {
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' \
    -H 'User-Agent: Okta SCIM Client 1.0.0' "$URL/$1" -d "$2"
}
seed Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"seed.user@example.com","name":{"givenName":"Seed","familyName":"User"},"emails":[{"primary":true,"value":"seed.user@example.com","type":"work"}],"active":true}'
seed Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Seed group","members":[]}'
python3 "$SUITE/runscope_runner.py" "$SUITE/Okta-SCIM-20-SPEC-Test.json" \
  --var "SCIMBaseURL=$URL" --var "auth=Bearer $TOKEN"
