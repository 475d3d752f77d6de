#!/usr/bin/env bash
# `muster migrate-store` at scale: USERS users written as the server's POST /Users commits them
# (user, emails, log row with the request body, feed event; `muster-bench-tools raw-ceiling
# --mode lifecycle`) into a SQLite file, copied to a throw-away PostgreSQL cluster
# (scripts/pg.sh) and back into a new file. Prints seconds, rows and peak RSS each way.
#
#   USERS=100000 bench/migrate-store.sh        (SKIP_BUILD=1 reuses the release binaries)
set -euo pipefail
USERS=${USERS:-100000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/muster-migrate.XXXXXX)}
mkdir -p "$OUT"
BIN=$CARGO_TARGET_DIR/release/muster
TOOLS=$CARGO_TARGET_DIR/release/muster-bench-tools
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$ROOT" && cargo build --release -p muster-server) >&2
  (cd "$ROOT/bench/tools" && cargo build --release) >&2
fi
trap 'bash "$ROOT/scripts/pg.sh" stop "$OUT/pg"' EXIT
URL=$(bash "$ROOT/scripts/pg.sh" start "$OUT/pg" "" $$ | sed 's/^MUSTER_TEST_POSTGRES=//')

"$TOOLS" raw-ceiling --db "$OUT/src.db" --users "$USERS" --mode lifecycle >"$OUT/seed.json"
echo "seeded: $(cat "$OUT/seed.json")"
echo "source file: $(du -sh "$OUT/src.db" | cut -f1)"

timed() { # label, then the command: prints wall seconds and peak RSS (GNU time)
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/$label.time" "$@" >"$OUT/$label.json"
  read -r secs kb <"$OUT/$label.time"
  rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows'])" "$OUT/$label.json")
  echo "$label: $rows rows in ${secs}s ($(python3 -c "print(round($rows/$secs))") rows/s), peak RSS $((kb / 1024)) MB"
}
timed to-postgres "$BIN" migrate-store --from "sqlite:$OUT/src.db" --to "$URL"
timed to-sqlite "$BIN" migrate-store --from "$URL" --to "sqlite:$OUT/back.db"
echo "copied back: $(du -sh "$OUT/back.db" | cut -f1), WAL $(stat -c %s "$OUT/back.db-wal" 2>/dev/null || echo 0) bytes"
echo "outputs in $OUT"
