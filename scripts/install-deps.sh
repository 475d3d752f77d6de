#!/usr/bin/env bash
# Installs everything Muster needs on a fresh Debian 12 machine, idempotently:
# Debian packages for the Tauri build and the end-to-end tests, the UI's npm packages,
# and tauri-driver. Safe to run again; a warm machine skips what it already has.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

BUILD_PKGS="libwebkit2gtk-4.1-dev build-essential pkg-config libssl-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev file"
TEST_PKGS="xvfb xauth webkit2gtk-driver chromium openssl curl ca-certificates systemd poppler-utils jq sqlite3 postgresql"
missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: apt packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# UI packages (lockfile-exact). Skipped when node_modules matches the lockfile.
if [ -f ui/package-lock.json ]; then
  if [ ! -f ui/node_modules/.package-lock.json ] || ! cmp -s <(sed -n '1,3p' ui/package-lock.json) <(sed -n '1,3p' ui/node_modules/.package-lock.json) || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
if [ -f tests/e2e/package-lock.json ]; then
  if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

# tauri-driver for the desktop end-to-end test, into a tools dir beside the target dir.
TOOLS="${MUSTER_TOOLS:-$HOME/.cache/muster-tools}"
if [ ! -x "$TOOLS/bin/tauri-driver" ]; then
  cargo install tauri-driver --locked --version 2.1.0 --root "$TOOLS" -q
fi
echo "install-deps: ok"
