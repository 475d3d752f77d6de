#!/usr/bin/env bash
# Runs Muster: installs what is missing, builds the console and the desktop app, and opens
# the desktop console with its embedded SCIM server. Without a display (a server, SSH),
# or with --headless, it runs `muster serve` instead and prints the console link.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/muster/target}"
bash scripts/install-deps.sh
(cd ui && npx vite build --logLevel warn)
if [ "${1:-}" != "--headless" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  cargo build -p muster-desktop -p muster-server
  exec "$CARGO_TARGET_DIR/debug/muster-desktop"
fi
cargo build -p muster-server
echo "No display (or --headless): serving headless. Open the console_url below in a browser." >&2
exec "$CARGO_TARGET_DIR/debug/muster" serve --console ui/dist "${@:2}"
