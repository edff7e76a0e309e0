#!/usr/bin/env bash
# Runs ghostport and the libpcap floor (tcpdump -w /dev/null) alternately on generated
# captures and prints the median wall times, the ratio, and ghostport's peak RSS.
#
# usage: Sources/ghostport-bench/compare.sh [PACKETS] [ROUNDS]
#   PACKETS  packets in the generated capture (default 2000000)
#   ROUNDS   alternating rounds per command (default 7)
# Needs python3, tcpdump, GNU time; generates into ${BENCH_DIR:-/tmp/ghostport-bench}.
set -euo pipefail
cd "$(dirname "$0")/../.."
packets=${1:-2000000}
rounds=${2:-7}
dir=${BENCH_DIR:-/tmp/ghostport-bench}
gen=../shared/bench/genpcap.py
mkdir -p "$dir"
capture="$dir/default-$packets.pcap"
if [ ! -f "$capture" ]; then
    [ -f "$gen" ] || { echo "no $gen: cannot generate the capture" >&2; exit 2; }
    python3 "$gen" "$capture" --packets "$packets" >/dev/null
fi
swift build -c release --product ghostport >/dev/null
bin=.build/release/ghostport

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
wall() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

declare -A times
commands=(
    "tcpdump|tcpdump -nr $capture -w /dev/null"
    "decode|$bin decode --quiet $capture"
    "read|$bin read --quiet --output /dev/null $capture"
)
for _ in $(seq "$rounds"); do
    for entry in "${commands[@]}"; do
        name=${entry%%|*}
        times[$name]+="$(wall ${entry#*|}) "
    done
done
floor=$(echo "${times[tcpdump]}" | tr ' ' '\n' | grep . | median)
echo "capture: $capture ($(stat -c %s "$capture") bytes, $packets packets requested), $rounds rounds, medians"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(. /etc/os-release; echo "$PRETTY_NAME")"
printf "%-10s %10s %8s %14s\n" command "wall s" ratio "peak RSS MiB"
for entry in "${commands[@]}"; do
    name=${entry%%|*}
    m=$(echo "${times[$name]}" | tr ' ' '\n' | grep . | median)
    peak=$(rss ${entry#*|})
    printf "%-10s %10s %8.2f %14.1f\n" "$name" "$m" "$(echo "$m / $floor" | bc -l)" "$(echo "$peak / 1024" | bc -l)"
done
