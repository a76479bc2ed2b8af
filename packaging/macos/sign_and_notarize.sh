#!/usr/bin/env bash
# Sign Loupe.app with a Developer ID (hardened runtime), notarise it with Apple and staple the ticket.
# The identity and credentials come from the environment, never from this repository:
#
#   LOUPE_SIGN_IDENTITY   "Developer ID Application: Your Name (TEAMID)" (in the login/CI keychain)
#   LOUPE_NOTARY_PROFILE  a notarytool keychain profile (xcrun notarytool store-credentials), or:
#   LOUPE_APPLE_ID, LOUPE_TEAM_ID, LOUPE_APP_PASSWORD (an app-specific password)
#
#   packaging/macos/sign_and_notarize.sh [APP]          sign + notarise + staple the .app
#   packaging/macos/sign_and_notarize.sh --dmg DMG      sign + notarise + staple the .dmg
# Without LOUPE_SIGN_IDENTITY it signs ad hoc (runs on this Mac only) and skips notarisation.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ENTITLEMENTS="$ROOT/packaging/macos/entitlements.plist"
IDENTITY=${LOUPE_SIGN_IDENTITY:-}

notarize() {  # $1: a .dmg or a .zip of the .app
  if [ -n "${LOUPE_NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$1" --keychain-profile "$LOUPE_NOTARY_PROFILE" --wait
  else
    : "${LOUPE_APPLE_ID:?set LOUPE_NOTARY_PROFILE or LOUPE_APPLE_ID, LOUPE_TEAM_ID, LOUPE_APP_PASSWORD}"
    xcrun notarytool submit "$1" --apple-id "$LOUPE_APPLE_ID" --team-id "$LOUPE_TEAM_ID" \
      --password "$LOUPE_APP_PASSWORD" --wait
  fi
}

if [ "${1:-}" = "--dmg" ]; then
  DMG=${2:?usage: sign_and_notarize.sh --dmg DMG}
  [ -n "$IDENTITY" ] || { echo "sign_and_notarize: no LOUPE_SIGN_IDENTITY; .dmg left unsigned"; exit 0; }
  codesign --force --timestamp --sign "$IDENTITY" "$DMG"
  notarize "$DMG"
  xcrun stapler staple "$DMG"
  exit 0
fi

APP=${1:-$ROOT/packaging/dist/Loupe.app}
if [ -z "$IDENTITY" ]; then
  echo "sign_and_notarize: LOUPE_SIGN_IDENTITY not set: ad-hoc signature, no notarisation"
  codesign --force --deep --sign - "$APP"
  exit 0
fi
# Inside out: every library and executable, then the bundle (--deep is not enough for notarisation).
find "$APP/Contents" -type f \( -name "*.dylib" -o -name "*.so" -o -perm -u+x \) -print0 |
  xargs -0 -n 50 codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
    --sign "$IDENTITY"
codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" --sign "$IDENTITY" "$APP"
codesign --verify --deep --strict --verbose=2 "$APP"
ZIP=$(mktemp -d)/Loupe.zip
ditto -c -k --keepParent "$APP" "$ZIP"
notarize "$ZIP"
xcrun stapler staple "$APP"
spctl --assess --type execute --verbose "$APP"
