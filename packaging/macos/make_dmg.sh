#!/usr/bin/env bash
# Pack packaging/dist/Loupe.app into a compressed, reproducible .dmg (macOS only; hdiutil ships with
# macOS). Sign and notarise the .app first (sign_and_notarize.sh), then run this, then notarise the
# .dmg too (sign_and_notarize.sh --dmg).
#
#   packaging/macos/make_dmg.sh [APP] [OUT_DMG]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
APP=${1:-$ROOT/packaging/dist/Loupe.app}
VERSION=$(/usr/libexec/PlistBuddy -c "Print CFBundleShortVersionString" "$APP/Contents/Info.plist")
OUT=${2:-$ROOT/packaging/dist/Loupe-$VERSION-macos-arm64.dmg}
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

ditto "$APP" "$STAGE/Loupe.app"
ln -s /Applications "$STAGE/Applications"
# Same bytes from the same inputs: fixed timestamps inside the image.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct)}
find "$STAGE" -exec touch -h -t "$(date -r "$SOURCE_DATE_EPOCH" +%Y%m%d%H%M.%S)" {} +
rm -f "$OUT"
hdiutil create -volname "Loupe $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO \
  -imagekey zlib-level=9 "$OUT"
echo "make_dmg: $OUT ($(du -h "$OUT" | cut -f1))"
