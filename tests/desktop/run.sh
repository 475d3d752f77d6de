#!/usr/bin/env bash
# Desktop end-to-end test: the real muster-desktop binary in an Xvfb display, driven over
# W3C WebDriver through tauri-driver (which runs WebKitWebDriver, which launches the app).
#
# Needs the binaries built already (this script never builds):
#   cargo build -p muster-desktop -p muster-server        # muster-desktop and muster
# and the packages from scripts/install-deps.sh (xvfb, webkit2gtk-driver, tauri-driver).
#
# Env: CARGO_TARGET_DIR (default target), MUSTER_CLI (default $CARGO_TARGET_DIR/debug/muster),
#      TAURI_DRIVER (default tauri-driver on PATH, else ~/.cache/muster-tools/bin/tauri-driver),
#      DESKTOP_DISPLAY (default 99), WEBDRIVER_PORT (default 4444),
#      MUSTER_DESKTOP_KEEP=1 keeps the temporary dir (database, logs) for inspection.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

fail() { echo "desktop e2e: $*" >&2; exit 1; }

TARGET="${CARGO_TARGET_DIR:-target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
APP="$TARGET/debug/muster-desktop"
MUSTER_CLI="${MUSTER_CLI:-$TARGET/debug/muster}"
[ -x "$APP" ] || fail "$APP is missing; build it first: cargo build -p muster-desktop"
[ -x "$MUSTER_CLI" ] || fail "$MUSTER_CLI is missing; build it first: cargo build -p muster-server"

TOOLS="${MUSTER_TOOLS:-$HOME/.cache/muster-tools}"
TAURI_DRIVER="${TAURI_DRIVER:-$(command -v tauri-driver || echo "$TOOLS/bin/tauri-driver")}"
[ -x "$TAURI_DRIVER" ] || fail "tauri-driver not found; run scripts/install-deps.sh"
command -v Xvfb >/dev/null || fail "Xvfb not found; run scripts/install-deps.sh"
command -v WebKitWebDriver >/dev/null || fail "WebKitWebDriver not found; run scripts/install-deps.sh"

DISPLAY_NUM="${DESKTOP_DISPLAY:-99}"
WD_PORT="${WEBDRIVER_PORT:-4444}"
NATIVE_PORT=$((WD_PORT + 1))

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
[ ! -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] || fail "display :$DISPLAY_NUM is taken (another run?); set DESKTOP_DISPLAY"
port_free "$WD_PORT" || fail "port $WD_PORT is taken; set WEBDRIVER_PORT"
port_free "$NATIVE_PORT" || fail "port $NATIVE_PORT is taken; set WEBDRIVER_PORT"

TMP="$(mktemp -d -t muster-desktop-e2e.XXXXXX)"
PIDS=()
cleanup() {
  local status=$?
  # Each helper runs in its own session (setsid), so killing its group also ends
  # WebKitWebDriver and the app under it.
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  if [ "$status" != 0 ]; then
    echo "--- tauri-driver and app log (last 60 lines) ---" >&2
    tail -n 60 "$TMP/tauri-driver.log" >&2 2>/dev/null || true
  fi
  if [ "${MUSTER_DESKTOP_KEEP:-}" = 1 ]; then echo "desktop e2e: kept $TMP" >&2; else rm -rf "$TMP"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port for the app's server, chosen here because the app's environment is
# fixed when tauri-driver starts (it is inherited: tauri-driver -> WebKitWebDriver -> app).
APP_PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

setsid Xvfb ":$DISPLAY_NUM" -screen 0 1280x800x24 -nolisten tcp >"$TMP/xvfb.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] || fail "Xvfb did not start: $(cat "$TMP/xvfb.log")"

# The app's "system browser" (the webbrowser crate honours $BROWSER): records each URL it is
# asked to open, so the test signs in there with its own browser.
printf '#!/bin/sh\necho "$1" >> "%s"\n' "$TMP/opened-urls" > "$TMP/browser.sh"
chmod +x "$TMP/browser.sh"

BROWSER="$TMP/browser.sh" DISPLAY=":$DISPLAY_NUM" MUSTER_DB="$TMP/muster.db" MUSTER_BIND="127.0.0.1:$APP_PORT" RUST_LOG="${RUST_LOG:-info}" \
  setsid "$TAURI_DRIVER" --port "$WD_PORT" --native-port "$NATIVE_PORT" >"$TMP/tauri-driver.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 150); do port_free "$WD_PORT" || break; sleep 0.1; done
port_free "$WD_PORT" && fail "tauri-driver did not listen on $WD_PORT: $(cat "$TMP/tauri-driver.log")"

rm -rf "$ROOT/tests/desktop/artifacts"
echo "desktop e2e: app $APP, server 127.0.0.1:$APP_PORT, db $TMP/muster.db"
WEBDRIVER_URL="http://127.0.0.1:$WD_PORT" MUSTER_APP="$APP" MUSTER_CLI="$MUSTER_CLI" \
  MUSTER_DB="$TMP/muster.db" MUSTER_PORT="$APP_PORT" OPENED_URLS="$TMP/opened-urls" SCREENSHOT="$ROOT/docs/screenshots/desktop.png" ARTIFACTS="$ROOT/tests/desktop/artifacts" \
  timeout 400 node --test --test-timeout=390000 tests/desktop/desktop.test.mjs
