#!/usr/bin/env bash
# Wrap dist/Berth.app (built by PyInstaller from packaging/berth.spec on macOS) into
# dist/berth-desktop-VERSION.dmg with an /Applications link to drag it onto.
# macOS only (hdiutil); the GitHub Actions workflow runs it on a macOS runner.
# Usage: packaging/macos/make_dmg.sh VERSION
set -euo pipefail
version=${1:?usage: $0 VERSION}
cd "$(dirname "$0")/../.."
app=dist/Berth.app
[[ -d $app ]] || { echo "no $app: build it with pyinstaller packaging/berth.spec" >&2; exit 1; }

# The app bundle must start before it is shipped.
QT_QPA_PLATFORM=offscreen "$app/Contents/MacOS/berth" --self-test

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
dmg=dist/berth-desktop-$version.dmg
rm -f "$dmg"
hdiutil create -volname "Berth $version" -srcfolder "$stage" -fs HFS+ -format UDZO \
    -imagekey zlib-level=9 -ov "$dmg"
hdiutil verify "$dmg"
echo "$dmg: $(du -m "$dmg" | cut -f1) MB"
