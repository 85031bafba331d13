#!/usr/bin/env bash
# Launch-to-window time of an installed or extracted Berth, two ways, median of N runs:
#   offscreen: `berth --self-test` reports how long after process start (exec of the
#              bundle's bootloader) the MainWindow was built and shown offscreen;
#   Xvfb:      the real app (`berth`, no arguments) under Xvfb, from launch until its
#              top-level window named "Berth" is mapped (polled with xwininfo every 10 ms).
# Usage: packaging/measure_launch.sh /opt/berth/berth [RUNS]
set -euo pipefail
berth=$(realpath "${1:?usage: $0 BERTH_EXECUTABLE [RUNS]}")
runs=${2:-5}
tmp=$(mktemp -d /tmp/berth-launch.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp XDG_CONFIG_HOME=$tmp/config XDG_DATA_HOME=$tmp/data
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for _ in $(seq "$runs"); do
    QT_QPA_PLATFORM=offscreen "$berth" --self-test \
        | sed -n 's/.*shown \([0-9.]*\) s after launch.*/\1/p'
done > "$tmp/offscreen"
echo "offscreen (berth --self-test): median $(median <"$tmp/offscreen") s over $runs runs:" \
     "$(tr '\n' ' ' <"$tmp/offscreen")"

if command -v xvfb-run >/dev/null && command -v xwininfo >/dev/null; then
    cat > "$tmp/one.sh" <<'INNER'
#!/usr/bin/env bash
start=$(date +%s.%N)
env -u QT_QPA_PLATFORM "$1" >/dev/null 2>&1 &
pid=$!
until xwininfo -root -tree 2>/dev/null | grep -q '"Berth"'; do
    kill -0 "$pid" 2>/dev/null || { echo "berth exited" >&2; exit 1; }
    sleep 0.01
done
end=$(date +%s.%N)
kill "$pid"; wait "$pid" 2>/dev/null || true
awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f\n", e - s }'
INNER
    chmod +x "$tmp/one.sh"
    for _ in $(seq "$runs"); do xvfb-run -a "$tmp/one.sh" "$berth"; done > "$tmp/xvfb"
    echo "Xvfb (berth, window mapped):   median $(median <"$tmp/xvfb") s over $runs runs:" \
         "$(tr '\n' ' ' <"$tmp/xvfb")"
fi
