#!/usr/bin/env bash
# The server package, installed for real: builds muster-server.deb from the debug binary
# scripts/test.sh already built, installs it with dpkg (as root: CI is), checks the unit
# with systemd-analyze, starts the packaged binary the way its unit does (the muster user,
# its EnvironmentFiles, its ExecStart; systemd itself may not run here), checks /readyz, the
# file modes and that the admin secret works and is never printed, stops it with SIGTERM
# (exit 0), then purges the package. Prints "# pass N" / "# fail N" for the summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/muster/target}"
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "# pass $pass"; echo "# fail $fail"; [ "$fail" = 0 ]; }

if [ "$(id -u)" != 0 ]; then
  echo "tests/package: dpkg -i needs root (CI runs as root); not run here"
  bad "server package installs (needs root)"
  finish; exit 1
fi

OUT=$(mktemp -d)
cleanup() {
  [ -n "${PID:-}" ] && kill -9 "$PID" 2>/dev/null || true
  dpkg -P muster-server >/dev/null 2>&1 || true
  rm -rf /var/lib/muster "$OUT"
}
trap cleanup EXIT
dpkg -P muster-server >/dev/null 2>&1 || true
rm -rf /var/lib/muster

OUT="$OUT" bash scripts/package.sh --server --profile debug
DEB=$(ls "$OUT"/muster-server_*.deb)
check "the package's metadata reads back" dpkg-deb --info "$DEB"
check "dpkg -i installs it" dpkg -i "$DEB"
check "a muster system user exists" getent passwd muster
check "/var/lib/muster is the muster user's, mode 750" \
  test "$(stat -c '%U:%G %a' /var/lib/muster)" = "muster:muster 750"
check "the admin secret file is root:muster, mode 640" \
  test "$(stat -c '%U:%G %a' /etc/muster/admin-secret.env)" = "root:muster 640"
UNIT=/lib/systemd/system/muster.service
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify accepts the unit" systemd-analyze verify "$UNIT"
  EXPOSURE=$(systemd-analyze security --offline=true "$UNIT" 2>/dev/null | sed -n 's/.*Overall exposure level for muster.service: \([0-9.]*\).*/\1/p')
  echo "systemd-analyze security: exposure $EXPOSURE (0 = locked down, 10 = exposed)"
  check "the unit is hardened (exposure below 3.0)" python3 -c "import sys; sys.exit(0 if float('${EXPOSURE:-10}') < 3.0 else 1)"
fi

# The unit, as systemd would run it: its user, its environment files, its ExecStart.
ENVS=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$UNIT")
EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
USER=$(sed -n 's/^User=//p' "$UNIT")
LOG="$OUT/serve.log"
(
  set -a
  for f in $ENVS; do . "$f"; done
  set +a
  umask 0077
  cd /var/lib/muster
  exec setpriv --reuid="$USER" --regid="$USER" --init-groups -- $EXEC
) >"$LOG" 2>&1 &
PID=$!
BIND=$(sed -n 's/^MUSTER_BIND=//p' /etc/muster/muster.env)
ready=""
for _ in $(seq 1 100); do
  if curl -fsS "http://$BIND/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.2
done
check "the packaged server answers /readyz" test -n "$ready"
check "it runs as the muster user" test "$(ps -o user= -p "$PID" | tr -d ' ')" = muster
. /etc/muster/admin-secret.env
check "the admin secret from the package signs in" \
  curl -fsS -o /dev/null -H "Authorization: Bearer $MUSTER_ADMIN_SECRET" "http://$BIND/api/connections"
check "the admin secret is not in the server's output" bash -c "! grep -qF '$MUSTER_ADMIN_SECRET' '$LOG'"
check "the console is served from /usr/share/muster/console" \
  bash -c "curl -fsS 'http://$BIND/' | grep -qi '<html'"
check "the database is the muster user's, mode 600" \
  test "$(stat -c '%U %a' /var/lib/muster/muster.db)" = "muster 600"
kill -TERM "$PID"
code=0; wait "$PID" || code=$?
PID=""
check "SIGTERM stops it with exit 0" test "$code" = 0
check "dpkg -P removes the package" dpkg -P muster-server
check "the purge removed the user and the settings" bash -c '! getent passwd muster && [ ! -e /etc/muster ]'
check "the purge kept the database" test -f /var/lib/muster/muster.db
if [ "$fail" != 0 ]; then echo "--- server output"; cat "$LOG"; fi
finish
