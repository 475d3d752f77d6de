#!/usr/bin/env bash
# Renders page 1 of the two PDFs Muster produces, from the real product, for docs/screenshots:
# the readiness report (`muster check --pdf`) against a fresh `muster serve`, and the
# deprovisioning evidence (`muster evidence --pdf`) after `muster simulate` has synced users
# and removed some of them (Okta deactivations and Entra leavers). Needs poppler-utils
# (pdftoppm, from scripts/install-deps.sh). Not part of the test run.
#
#   bash scripts/pdf-screenshots.sh            # uses the debug build scripts/test.sh makes
set -euo pipefail
cd "$(dirname "$0")/.."
M=${MUSTER_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/muster/target}/debug/muster}
OUT=docs/screenshots
D=$(mktemp -d /tmp/muster-pdfshots.XXXXXX)
"$M" serve --db "$D/db" --bind 127.0.0.1:0 --console /nonexistent >"$D/serve.json" 2>"$D/serve.err" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$D"' EXIT
for _ in $(seq 100); do [ -s "$D/serve.json" ] && break; sleep 0.1; done
j() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
BASE=$(j "$(head -1 "$D/serve.json")" scim_base)
OKTA=$("$M" connection create --db "$D/db" --name "Acme (Okta)" --idp okta --scim-base "$BASE")
ENTRA=$("$M" connection create --db "$D/db" --name "Contoso (Entra)" --idp entra --scim-base "$BASE")
sim() { "$M" simulate --url "$(j "$1" scim_url)" --token "$(j "$1" token)" --idp "$2" --scenario "$3" --users 40 --groups 4 --json >/dev/null; }
sim "$OKTA" okta initial-sync
sim "$OKTA" okta joiners-movers-leavers
sim "$ENTRA" entra initial-sync
sim "$ENTRA" entra leaver
"$M" check --url "$(j "$OKTA" scim_url)" --token "$(j "$OKTA" token)" --pdf "$D/readiness.pdf" >/dev/null || true
TODAY=$(date -u +%F)
"$M" evidence --db "$D/db" --from "$TODAY" --to "$TODAY" --pdf "$D/evidence.pdf" >/dev/null
pdftoppm -png -r 70 -f 1 -l 1 -singlefile "$D/readiness.pdf" "$OUT/readiness-pdf"
pdftoppm -png -r 70 -f 1 -l 1 -singlefile "$D/evidence.pdf" "$OUT/evidence-pdf"
echo "wrote $OUT/readiness-pdf.png and $OUT/evidence-pdf.png"
