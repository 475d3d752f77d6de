#!/usr/bin/env bash
# Builds Muster's Debian packages into target/package (or $OUT):
#   muster-server_<version>_<arch>.deb  the `muster` binary, the built console, a hardened
#                                       systemd unit (packaging/deb), a `muster` system user
#   muster-desktop .deb                 the Tauri app via Tauri's bundler (--desktop; needs
#                                       the Tauri CLI, installed from npm on demand)
# Usage: bash scripts/package.sh [--server] [--desktop] [--profile release|debug]
# Default: --server with the release profile. tests/package/run.sh builds the server
# package from the debug binary (what CI already built), installs it and checks it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/muster/target}"
OUT="${OUT:-$ROOT/target/package}"
PROFILE=release
SERVER=0
DESKTOP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --server) SERVER=1 ;;
    --desktop) DESKTOP=1 ;;
    --profile) PROFILE="$2"; shift ;;
    *) echo "package.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$SERVER$DESKTOP" = 00 ]; then SERVER=1; fi
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
ARCH=$(dpkg --print-architecture)
mkdir -p "$OUT"

bash scripts/install-deps.sh
(cd ui && npx vite build --logLevel warn)

if [ "$SERVER" = 1 ]; then
  if [ "$PROFILE" = release ]; then
    cargo build --release --locked -p muster-server --bin muster
  else
    # The workspace feature set, which scripts/test.sh has already built: nothing recompiles.
    cargo build --locked --workspace
  fi
  BIN="$CARGO_TARGET_DIR/$PROFILE/muster"
  STAGE=$(mktemp -d)
  trap 'rm -rf "$STAGE"' EXIT
  PKG="$STAGE/muster-server"
  install -D -m 0755 "$BIN" "$PKG/usr/bin/muster"
  [ "$PROFILE" = release ] && strip "$PKG/usr/bin/muster"
  mkdir -p "$PKG/usr/share/muster"
  cp -r ui/dist "$PKG/usr/share/muster/console"
  install -D -m 0644 packaging/deb/muster.service "$PKG/lib/systemd/system/muster.service"
  install -D -m 0640 packaging/deb/muster.env "$PKG/etc/muster/muster.env"
  install -D -m 0644 docs/install.md "$PKG/usr/share/doc/muster-server/install.md"
  printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: muster\n\nFiles: *\nCopyright: 2026 the Muster authors\nLicense: Apache-2.0\n On Debian systems the license is in /usr/share/common-licenses/Apache-2.0.\n' \
    > "$PKG/usr/share/doc/muster-server/copyright"
  mkdir -p "$PKG/DEBIAN"
  install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$PKG/DEBIAN/"
  echo /etc/muster/muster.env > "$PKG/DEBIAN/conffiles"
  SIZE=$(du -sk "$PKG" | cut -f1)
  cat > "$PKG/DEBIAN/control" <<CONTROL
Package: muster-server
Version: $VERSION
Architecture: $ARCH
Maintainer: Muster <team@muster.invalid>
Installed-Size: $SIZE
Depends: libc6, adduser
Section: net
Priority: optional
Homepage: https://muster.invalid
Description: Muster directory sync server (SCIM 2.0)
 Accepts users and groups pushed by Okta, Microsoft Entra ID, Google Workspace and any
 SCIM 2.0 client, revokes sessions when someone leaves, and serves the admin API and the
 web console. Runs as the muster system user; data in /var/lib/muster.
CONTROL
  DEB="$OUT/muster-server_${VERSION}_${ARCH}.deb"
  dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
  echo "package: $DEB ($(du -h "$DEB" | cut -f1))"
fi

if [ "$DESKTOP" = 1 ]; then
  # Tauri's bundler: @tauri-apps/cli from npm (its binary ships as an npm package, so
  # nothing is downloaded at install time). Release build of the desktop app, then a .deb.
  TOOLS="${MUSTER_TOOLS:-$HOME/.cache/muster-tools}"
  TAURI_CLI="$TOOLS/tauri-cli/node_modules/.bin/tauri"
  if [ ! -x "$TAURI_CLI" ]; then
    mkdir -p "$TOOLS/tauri-cli"
    npm install --prefix "$TOOLS/tauri-cli" --no-audit --no-fund --loglevel=error @tauri-apps/cli@^2
  fi
  (cd src-tauri && "$TAURI_CLI" build --bundles deb --config '{"bundle":{"active":true}}')
  find "$CARGO_TARGET_DIR/release/bundle/deb" -name '*.deb' -newer Cargo.toml -exec cp {} "$OUT/" \;
  ls -1 "$OUT"/*.deb
fi
