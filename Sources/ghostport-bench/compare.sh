#!/usr/bin/env bash
# One run, four questions, answered on generated captures:
#  (a) the default genpcap capture: ghostport decode and read against the libpcap floor
#      (tcpdump -w /dev/null), median wall times of alternating rounds, ratios, peak RSS;
#  (b) 100,000 concurrent flows under 10,000 rules, same packet count, every packet to a watched
#      port: against 1,000 flows under 1,148 rules (the shipped rules' count) on the same path,
#      and against (a)'s read (where most packets stop at the prefilter); and the same flows
#      with a handshake each, whose SYN alerts;
#  (c) a flood of 1,000,000 distinct flows: peak RSS against the flow table's bound, and the
#      evictions counted in the stats record, at the default bound and at a small one;
#  (d) mallocs per packet on the path that does not alert (ghostport-bench allocs).
#
# usage: Sources/ghostport-bench/compare.sh [PACKETS] [ROUNDS]
#   PACKETS  packets in the default and the concurrent-flows captures (default 2000000)
#   ROUNDS   alternating rounds per command (default 7)
# Environment: BENCH_DIR (captures, default /tmp/ghostport-bench; reused when present),
#   FLOWS (default 100000), RULES (default 10000), FLOOD (default 1000000),
#   SMALL_BOUND (MiB, default 32): the bound of (c)'s second run, small enough to evict.
# Needs python3, tcpdump, GNU time (/usr/bin/time); builds ghostport and ghostport-bench in release.
set -euo pipefail
cd "$(dirname "$0")/../.."
packets=${1:-2000000}
rounds=${2:-7}
dir=${BENCH_DIR:-/tmp/ghostport-bench}
flows=${FLOWS:-100000}
rule_count=${RULES:-10000}
flood=${FLOOD:-1000000}
small_bound=${SMALL_BOUND:-32}
gen=../shared/bench/genpcap.py
mkdir -p "$dir"

for tool in python3 tcpdump /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
swift build -c release --product ghostport >/dev/null
swift build -c release --product ghostport-bench >/dev/null
bin=.build/release/ghostport
bench=.build/release/ghostport-bench

# Captures: made once per size, then reused.
default_capture="$dir/default-$packets.pcap"
flows_capture="$dir/flows-$flows-$packets.pcap"
syn_capture="$dir/flows-syn-$flows-$packets.pcap"
base_flows=1000
base_rule_count=1148
base_capture="$dir/flows-$base_flows-$packets.pcap"
base_rules="$dir/rules-$base_rule_count.rules"
flood_capture="$dir/flood-$flood.pcap"
rules_file="$dir/rules-$rule_count.rules"
if [ ! -f "$default_capture" ]; then
    [ -f "$gen" ] || { echo "no $gen: cannot generate the default capture" >&2; exit 2; }
    python3 "$gen" "$default_capture" --packets "$packets" >/dev/null
fi
[ -f "$flows_capture" ] || $bench gen-flows "$flows_capture" --flows "$flows" --packets "$packets" >/dev/null
[ -f "$base_capture" ] || $bench gen-flows "$base_capture" --flows "$base_flows" --packets "$packets" >/dev/null
[ -f "$base_rules" ] || $bench gen-rules "$base_rule_count" "$base_rules"
[ -f "$syn_capture" ] || $bench gen-flows "$syn_capture" --flows "$flows" --packets "$packets" --syn >/dev/null
[ -f "$flood_capture" ] || $bench gen-flood "$flood_capture" --flows "$flood" >/dev/null
[ -f "$rules_file" ] || $bench gen-rules "$rule_count" "$rules_file"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# Wall seconds of one run, standard output and error discarded (GNU time's %e has 10 ms steps).
wall() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    awk -v ns=$((end - start)) 'BEGIN {printf "%.3f", ns / 1e9}'
}
# Runs a command with EVE output on standard output: prints its peak RSS in KiB, keeps the
# last record (the stats record) in $dir/stats.json.
checked() {
    /usr/bin/time -f %M -o "$dir/time.out" "$@" --output /dev/stdout 2>/dev/null | tail -n 1 > "$dir/stats.json"
    cat "$dir/time.out"
}
# r: Suricata's counters (stats), g: ghostport's own (ghostport.stats).
stat_field() { python3 -c "import json,sys; rec=json.load(open('$dir/stats.json')); r=rec['stats']; g=rec['ghostport']['stats']; print($1)"; }
size_mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN {printf "%.0f MB", b / 1e6}'; }

echo "machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "swift: $(swift --version 2>/dev/null | head -n 1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (anything above 0 means other work shared the cores)"
echo "captures: default $default_capture ($(size_mb "$default_capture")), flows $flows_capture ($(size_mb "$flows_capture")), with handshakes $syn_capture ($(size_mb "$syn_capture")), flood $flood_capture ($(size_mb "$flood_capture"))"
echo "$rounds alternating rounds; medians of wall time; peak RSS from one more run of each"
echo

declare -A times
commands=(
    "tcpdump|tcpdump -nr $default_capture -w /dev/null"
    "decode|$bin decode --quiet $default_capture"
    "read|$bin read --quiet --output /dev/null $default_capture"
    "tcpdump-flows|tcpdump -nr $flows_capture -w /dev/null"
    "read-flows|$bin read --quiet --rules $rules_file --output /dev/null $flows_capture"
    "read-base|$bin read --quiet --rules $base_rules --output /dev/null $base_capture"
    "read-syn|$bin read --quiet --rules $rules_file --output /dev/null $syn_capture"
)
for _ in $(seq "$rounds"); do
    for entry in "${commands[@]}"; do
        times[${entry%%|*}]+="$(wall ${entry#*|}) "
    done
done
declare -A med
for entry in "${commands[@]}"; do
    name=${entry%%|*}
    med[$name]=$(echo "${times[$name]}" | tr ' ' '\n' | grep . | median)
done

echo "(a) default capture, $packets packets requested, shipped rules"
printf "%-44s %8s %12s %14s\n" command "wall s" "x tcpdump" "peak RSS MiB"
rss_tcpdump=$(/usr/bin/time -f %M -o "$dir/time.out" tcpdump -nr "$default_capture" -w /dev/null 2>/dev/null; cat "$dir/time.out")
rss_decode=$(/usr/bin/time -f %M -o "$dir/time.out" $bin decode --quiet "$default_capture" >/dev/null 2>&1; cat "$dir/time.out")
rss_read=$(checked $bin read --quiet "$default_capture")
default_packets=$(stat_field "r['decoder']['pkts']")
printf "%-44s %8s %12s %14s\n" "tcpdump -w /dev/null" "${med[tcpdump]}" 1.00 "$(mib "$rss_tcpdump")"
printf "%-44s %8s %12s %14s\n" "ghostport decode" "${med[decode]}" "$(ratio "${med[decode]}" "${med[tcpdump]}")" "$(mib "$rss_decode")"
printf "%-44s %8s %12s %14s\n" "ghostport read --output /dev/null" "${med[read]}" "$(ratio "${med[read]}" "${med[tcpdump]}")" "$(mib "$rss_read")"
echo "targets: read <= 1.10x tcpdump, peak RSS < 64 MiB; stats: $(stat_field "'%d packets, %d flows created, %d alerts' % (r['decoder']['pkts'], g['flow']['created'], r['detect']['alert'])")"
echo

echo "(b) $flows concurrent flows (open from their first packet to the end, picked up mid-stream, so no alerts), $rule_count rules"
rss_flows=$(checked $bin read --quiet --rules "$rules_file" "$flows_capture")
flows_packets=$(stat_field "r['decoder']['pkts']")
printf "%-44s %8s %12s %14s\n" command "wall s" "x tcpdump" "peak RSS MiB"
printf "%-44s %8s %12s\n" "tcpdump -w /dev/null (flows capture)" "${med[tcpdump-flows]}" 1.00
printf "%-44s %8s %12s %14s\n" "ghostport read --rules $rule_count rules" "${med[read-flows]}" \
    "$(ratio "${med[read-flows]}" "${med[tcpdump-flows]}")" "$(mib "$rss_flows")"
echo "stats: $(stat_field "'%d packets, %d flows created, %d timed out, %d evicted, %d alerts, %d uninspected' % (r['decoder']['pkts'], g['flow']['created'], g['flow']['timed_out'], g['flow']['evicted'], r['detect']['alert'], g['detect']['uninspected'])")"
echo "against $base_flows flows under $base_rule_count rules on the same path (every packet to a watched port): ${med[read-base]} s;"
# Each round ran the two back to back: the median of the per-round ratios follows the machine's
# drifts in speed (on a shared VM, a minute can be half again slower) better than medians apart.
paired=$(paste -d' ' <(echo "${times[read-flows]}" | tr ' ' '\n' | grep .) <(echo "${times[read-base]}" | tr ' ' '\n' | grep .) \
    | awk '{printf "%.4f\n", $1 / $2}' | median)
echo "  $flows flows under $rule_count rules cost $(ratio "${med[read-flows]}" "${med[read-base]}")x that (target <= 1.25x);"
echo "  the median of the $rounds per-round ratios (the two run back to back): $(awk -v r="$paired" 'BEGIN {printf "%.2f", r}')x"
per_default=$(awk -v t="${med[read]}" -v n="$default_packets" 'BEGIN {printf "%.0f", t * 1e9 / n}')
per_flows=$(awk -v t="${med[read-flows]}" -v n="$flows_packets" 'BEGIN {printf "%.0f", t * 1e9 / n}')
echo "cost against (a)'s read: $per_flows ns/packet vs $per_default ns/packet = $(ratio "$per_flows" "$per_default")x"
echo "  against each capture's own tcpdump floor: $(ratio "${med[read-flows]}" "${med[tcpdump-flows]}")x vs $(ratio "${med[read]}" "${med[tcpdump]}")x"
rss_syn=$(checked $bin read --quiet --rules "$rules_file" "$syn_capture")
echo "the same with a handshake per flow (each SYN alerts once): ${med[read-syn]} s, $(ratio "${med[read-syn]}" "${med[read]}")x (a)'s read, peak RSS $(mib "$rss_syn") MiB;"
echo "  stats: $(stat_field "'%d packets, %d flows created, %d alerts' % (r['decoder']['pkts'], g['flow']['created'], r['detect']['alert'])")"
echo

echo "(c) flood of $flood distinct flows (one SYN each to 571/tcp), shipped rules"
printf "%-26s %14s %14s %12s %12s %10s\n" "flow table bound" "capacity" "peak RSS MiB" "created" "evicted" "alerts"
for bound in 256 "$small_bound"; do
    capacity=$($bench capacity "$bound")
    if [ "$bound" = 256 ]; then
        rss=$(checked $bin read --quiet "$flood_capture"); label="256 MiB (default)"
    else
        rss=$(checked $bin read --quiet --flow-memory "$bound" "$flood_capture"); label="$bound MiB (--flow-memory)"
    fi
    printf "%-26s %14s %14s %12s %12s %10s\n" "$label" "$capacity" "$(mib "$rss")" "$(stat_field "g['flow']['created']")" \
        "$(stat_field "g['flow']['evicted']")" "$(stat_field "r['detect']['alert']")"
done
echo "target: peak RSS under the bound; evictions counted in the stats record (flow.evicted)"
echo

echo "(d) allocations on the packet path (ghostport-bench allocs)"
$bench allocs --packets 100000
