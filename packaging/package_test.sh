#!/usr/bin/env bash
# The packaged-app check: does the .deb install and does the installed `berth --self-test`
# pass? Three ways, none touching this machine's /opt or /usr:
#   1. lintian on the .deb (errors fail);
#   2. dpkg-deb -x into a temp dir, its layout checked, then the extracted bundle's
#      self-test offscreen (and under Xvfb on the real xcb platform when xvfb-run exists);
#   3. apt-get install of the .deb in a throwaway container of a minimal Debian image
#      (debootstrap minbase, the test image), so Depends alone must bring every library
#      the bundle needs, then `berth --self-test` from the PATH there.
# Usage: packaging/package_test.sh dist/berth-desktop_VERSION_amd64.deb
set -euo pipefail

deb=$(realpath "${1:?usage: $0 PACKAGE.deb}")
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
python=${PYTHON:-$root/.venv/bin/python}
image=${BERTH_TEST_IMAGE:-berth-test:bookworm-minbase}
tmp=$(mktemp -d /tmp/berth-package-test.XXXXXX)
container=""
cleanup() {
    [[ -n $container ]] && docker rm -f "$container" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }

step "package $(basename "$deb"): $(du -m "$deb" | cut -f1) MB"
dpkg-deb --info "$deb" | sed -n 's/^ \(Installed-Size\|Depends\|Recommends\):/  \1:/p'

step "lintian"
command -v lintian >/dev/null || fail "lintian is not installed (apt-get install lintian)"
lintian --fail-on error --info "$deb" | tee "$tmp/lintian.txt" || fail "lintian reports errors"
grep -q '^E:' "$tmp/lintian.txt" && fail "lintian reports errors"

step "extract with dpkg-deb -x and check the layout"
dpkg-deb -x "$deb" "$tmp/root"
[[ $(readlink "$tmp/root/usr/bin/berth") == /opt/berth/berth ]] || fail "/usr/bin/berth link"
[[ -x $tmp/root/opt/berth/berth ]] || fail "/opt/berth/berth is not executable"
for f in usr/share/applications/berth.desktop usr/share/icons/hicolor/scalable/apps/berth.svg \
         usr/share/icons/hicolor/48x48/apps/berth.png usr/share/icons/hicolor/256x256/apps/berth.png \
         usr/share/doc/berth-desktop/copyright usr/share/man/man1/berth.1.gz; do
    [[ -s $tmp/root/$f ]] || fail "missing /$f"
done
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$tmp/root/usr/share/applications/berth.desktop"
fi
du -sm "$tmp/root/opt/berth" | awk '{print "  installed bundle: " $1 " MiB"}'

# The self-test must not read or write the user's settings and data.
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config XDG_DATA_HOME=$tmp/home/.local/share
mkdir -p "$HOME"
# A link like /usr/bin/berth, to show the bundle finds itself through one.
mkdir -p "$tmp/bin" && ln -s "$tmp/root/opt/berth/berth" "$tmp/bin/berth"

step "extracted bundle: berth --self-test (offscreen)"
QT_QPA_PLATFORM=offscreen "$tmp/bin/berth" --self-test || fail "self-test of the extracted bundle"

if command -v xvfb-run >/dev/null; then
    step "extracted bundle: berth --self-test under Xvfb (the xcb platform)"
    env -u QT_QPA_PLATFORM xvfb-run -a "$tmp/bin/berth" --self-test \
        || fail "self-test under Xvfb"
fi

step "install in a clean Debian container ($image) with apt-get"
docker info >/dev/null 2>&1 || fail "no Docker engine to run the install check in"
if ! docker image inspect "$image" >/dev/null 2>&1; then
    (cd "$root" && "$python" -c "from sandbox.images.offline import build_offline_image as b; \
b('$image', progress=print)")
fi
container=$(docker create "$image" bash -c '
    set -e
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends /tmp/berth.deb >/tmp/apt.log 2>&1 \
        || { tail -30 /tmp/apt.log; exit 1; }
    echo "installed: $(dpkg-query -W -f="\${Package} \${Version}" berth-desktop)," \
         "berth is $(command -v berth)"
    # Not the last command: bash would exec berth in its own process, and the self-test
    # would count the install time as launch time.
    QT_QPA_PLATFORM=offscreen berth --self-test
    echo "self-test done in the container"')
docker cp "$deb" "$container:/tmp/berth.deb"
docker start -a "$container" || fail "self-test of the .deb installed in a container"

step "package-test passed"
