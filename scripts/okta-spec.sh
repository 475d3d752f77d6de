#!/usr/bin/env bash
# Runs Okta's published SCIM 2.0 spec test (tests/conformance/okta) against a fresh
# `muster serve`. Okta's suite expects an app that already has a user and a group, so
# one of each is pushed first, as Okta would.
#
# With OKTA_STORE=postgres (and MUSTER_TEST_POSTGRES naming a cluster, as scripts/test.sh
# exports), two instances serve one fresh PostgreSQL database and every request goes to the
# next one in turn (tests/conformance/round_robin.py): no stickiness, as behind a load balancer.
set -euo pipefail
cd "$(dirname "$0")/.."
MUSTER="${MUSTER_BIN:-${CARGO_TARGET_DIR:-target}/debug/muster}"
SUITE="${OKTA_SUITE:-tests/conformance/okta}"
WORK="$(mktemp -d)"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
json() { python3 -c "import json,sys;v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'): v=v[k]
print(v)" "$1" "$2"; }
serve() { # serve NAME [ARGS...]: starts an instance, waits for its start line
  mkdir -p "$WORK/$1"
  "$MUSTER" serve --db "$WORK/$1/muster.db" --bind 127.0.0.1:0 "${@:2}" > "$WORK/$1/serve.json" &
  PIDS+=($!)
  for _ in $(seq 1 100); do [ -s "$WORK/$1/serve.json" ] && return; sleep 0.1; done
  echo "muster serve ($1) did not start"; exit 1
}

if [ "${OKTA_STORE:-sqlite}" = postgres ]; then
  : "${MUSTER_TEST_POSTGRES:?names the PostgreSQL cluster (scripts/pg.sh start)}"
  DB="okta_spec_$$"
  psql -q "$MUSTER_TEST_POSTGRES" -c "CREATE DATABASE $DB"
  URL_DB="${MUSTER_TEST_POSTGRES%/*}/$DB"
  SECRET="okta-spec-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  serve a --database "$URL_DB" --admin-secret "$SECRET"
  serve b --database "$URL_DB" --admin-secret "$SECRET"
  python3 tests/conformance/round_robin.py "$WORK/rr.port" \
    "http://$(json "$WORK/a/serve.json" addr)" "http://$(json "$WORK/b/serve.json" addr)" &
  PIDS+=($!)
  for _ in $(seq 1 50); do [ -s "$WORK/rr.port" ] && break; sleep 0.1; done
  ORIGIN="http://127.0.0.1:$(cat "$WORK/rr.port")"
  curl -sf -X POST -H "Authorization: Bearer $SECRET" -H 'Content-Type: application/json' \
    "$ORIGIN/api/connections" -d '{"name":"okta-spec","idp":"okta"}' > "$WORK/conn.json"
  URL="$ORIGIN/scim/v2/$(json "$WORK/conn.json" connection.id)"
  TOKEN=$(json "$WORK/conn.json" token)
  echo "two instances on PostgreSQL, requests alternating: $URL"
else
  serve a
  BASE=$(json "$WORK/a/serve.json" scim_base)
  "$MUSTER" connection create --db "$WORK/a/muster.db" --name okta-spec --idp okta --scim-base "$BASE" > "$WORK/conn.json"
  URL=$(json "$WORK/conn.json" scim_url)
  TOKEN=$(json "$WORK/conn.json" token)
fi

seed() {
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' \
    -H 'User-Agent: Okta SCIM Client 1.0.0' "$URL/$1" -d "$2"
}
seed Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"seed.user@example.com","name":{"givenName":"Seed","familyName":"User"},"emails":[{"primary":true,"value":"seed.user@example.com","type":"work"}],"active":true}'
seed Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Seed group","members":[]}'
python3 "$SUITE/runscope_runner.py" "$SUITE/Okta-SCIM-20-SPEC-Test.json" \
  --var "SCIMBaseURL=$URL" --var "auth=Bearer $TOKEN"
