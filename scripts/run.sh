#!/usr/bin/env bash
# Runs Muster: installs what is missing, builds the console and the desktop app, and opens
# the desktop console with its embedded SCIM server. Without a display (a server, SSH),
# or with --headless, it runs `muster serve` instead and prints the console link.
# --release builds optimised binaries (target/release; a cold build takes longer).
#
# It builds what scripts/test.sh builds as "the product" (`cargo build --workspace`), so a run
# after the test suite reuses those artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/muster/target}"
PROFILE=debug
CARGO_PROFILE=()
HEADLESS=0
ARGS=()
for a in "$@"; do
  case "$a" in
    --release) PROFILE=release; CARGO_PROFILE=(--release) ;;
    --headless) HEADLESS=1 ;;
    *) ARGS+=("$a") ;;
  esac
done
bash scripts/install-deps.sh
(cd ui && npx vite build --logLevel warn)
cargo build --workspace --locked "${CARGO_PROFILE[@]}"
if [ "$HEADLESS" = 0 ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$CARGO_TARGET_DIR/$PROFILE/muster-desktop"
fi
echo "No display (or --headless): serving headless. Open the console_url below in a browser." >&2
exec "$CARGO_TARGET_DIR/$PROFILE/muster" serve --console ui/dist "${ARGS[@]}"
