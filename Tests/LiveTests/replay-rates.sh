#!/usr/bin/env bash
# Replays genpcap.py traffic over a veth pair at increasing rates and prints, for each rate, what
# `ghostport run` and `tcpdump -w /dev/null` dropped capturing the same veth end, so the highest
# zero-drop rate of each can be read off.
#
# usage (as root): Tests/LiveTests/replay-rates.sh [GHOSTPORT_BINARY]
#   default binary: .build/release/ghostport, else .build/debug/ghostport
#   RATES="10000 50000 100000 200000 topspeed"  SECONDS_PER_RATE=4  PACKETS=400000
#   (topspeedN: N tcpreplay --topspeed at once, e.g. RATES="topspeed topspeed2")
#   GHOSTPORT_ARGS="--kernel-filter off" adds options to ghostport run (compare with and without)
#
# Each rate sends min(rate * SECONDS_PER_RATE, PACKETS) packets (topspeed: PACKETS, topspeedN:
# N * PACKETS) with tcpreplay from inside a private network namespace; the sensor or tcpdump captures the
# root-namespace end. The frames carry genpcap's addresses and MACs: the root kernel sees them as
# addressed to another host and discards them after capture; nothing leaves the veth pair.
# ghostport's drops are its final stats record's kernel_drops + ring_drops; tcpdump's are its
# "packets dropped by kernel". Both use their default kernel buffers (ghostport 64 MiB, tcpdump
# 2 MiB) unless TCPDUMP_BUFFER_KIB is set (tcpdump -B).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
ghostport=${1:-}
if [[ -z $ghostport ]]; then
    if [[ -x $repo/.build/release/ghostport ]]; then ghostport=$repo/.build/release/ghostport; else ghostport=$repo/.build/debug/ghostport; fi
fi
genpcap=$repo/../shared/bench/genpcap.py
[[ -f $genpcap ]] || genpcap=/work/shared/bench/genpcap.py
rates=${RATES:-10000 50000 100000 200000 topspeed}
seconds=${SECONDS_PER_RATE:-4}
packets=${PACKETS:-400000}

[[ $(id -u) == 0 ]] || { echo "replay-rates.sh: needs root" >&2; exit 2; }
for tool in ip tcpreplay tcpdump python3; do
    command -v "$tool" >/dev/null || { echo "replay-rates.sh: $tool not found" >&2; exit 2; }
done
[[ -x $ghostport ]] || { echo "replay-rates.sh: no ghostport binary at $ghostport (swift build -c release)" >&2; exit 2; }
[[ -f $genpcap ]] || { echo "replay-rates.sh: genpcap.py not found (../shared/bench)" >&2; exit 2; }

tag=$(printf '%06x' $(( (RANDOM << 15 | RANDOM) % 16777216 )))
ns=gpt-$tag root_end=gpt${tag}r peer_end=gpt${tag}p
work=$(mktemp -d /tmp/ghostport-rates-XXXXXX)
capture_pid=
cleanup() {
    [[ -n $capture_pid ]] && kill -KILL "$capture_pid" 2>/dev/null || true
    ip link del "$root_end" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

python3 "$genpcap" "$work/replay.pcap" --packets "$packets" --seed 7
total=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets"])' "$work/replay.truth.json")
ip netns add "$ns"
ip link add "$root_end" type veth peer name "$peer_end" netns "$ns"
ip link set "$root_end" up
ip netns exec "$ns" ip link set "$peer_end" up
ip netns exec "$ns" ip link set lo up
sleep 0.5

# waits (at most 10 s) until FILE contains TEXT
wait_for() { for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# replay RATE: sends this rate's packets, prints tcpreplay's achieved pps
replay() {
    local rate=$1 out
    if [[ $rate == topspeed* ]]; then
        local n=${rate#topspeed} i
        for i in $(seq "${n:-1}"); do
            ip netns exec "$ns" tcpreplay -i "$peer_end" --topspeed --limit "$total" "$work/replay.pcap" >"$work/tcpreplay.$i" 2>&1 &
        done
        wait $(jobs -p | grep -vx "$capture_pid")
        out=$(cat "$work"/tcpreplay.*); rm -f "$work"/tcpreplay.*
        sent=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' <<<"$out" | paste -sd+ | bc)
        achieved=$(sed -n 's/.*Rated: .* Bps, .* Mbps, \([0-9.]*\) pps.*/\1/p' <<<"$out" | paste -sd+ | bc)
        return
    else
        local count=$(( rate * seconds < total ? rate * seconds : total ))
        out=$(ip netns exec "$ns" tcpreplay -i "$peer_end" --pps "$rate" --limit "$count" "$work/replay.pcap" 2>&1)
    fi
    sent=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' <<<"$out" | head -1)
    achieved=$(sed -n 's/.*Rated: .* Bps, .* Mbps, \([0-9.]*\) pps.*/\1/p' <<<"$out" | head -1)
}

run_ghostport() {
    rm -f "$work/eve.json"
    # shellcheck disable=SC2086 # GHOSTPORT_ARGS is a list of words
    "$ghostport" run -i "$root_end" -o "$work/eve.json" --allow-root --stats-interval 0 ${GHOSTPORT_ARGS:-} 2>"$work/gp.err" &
    capture_pid=$!
    wait_for "$work/gp.err" "capturing on" || { echo "ghostport did not start:" >&2; cat "$work/gp.err" >&2; exit 1; }
    replay "$1"
    sleep 1
    kill -TERM "$capture_pid"; wait "$capture_pid" || true; capture_pid=
    read -r gp_packets gp_kernel gp_ring < <(tail -1 "$work/eve.json" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
c = r["stats"].get("capture", {})
print(c.get("kernel_packets", -1), c.get("kernel_drops", -1), r["ghostport"]["stats"]["capture"]["ring_drops"])')
}

run_tcpdump() {
    local buffer=()
    [[ -n ${TCPDUMP_BUFFER_KIB:-} ]] && buffer=(-B "$TCPDUMP_BUFFER_KIB")
    tcpdump -i "$root_end" -n "${buffer[@]}" -w /dev/null 2>"$work/td.err" &
    capture_pid=$!
    wait_for "$work/td.err" "listening on" || { echo "tcpdump did not start:" >&2; cat "$work/td.err" >&2; exit 1; }
    replay "$1"
    sleep 1
    kill -TERM "$capture_pid"; wait "$capture_pid" || true; capture_pid=
    td_captured=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$work/td.err")
    td_received=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$work/td.err")
    td_dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$work/td.err")
}

echo "ghostport: $ghostport ${GHOSTPORT_ARGS:-}"

echo "capture: $total packets (genpcap --seed 7), ${seconds} s per rate, veth $root_end <- $ns/$peer_end"
printf '%-9s | %-8s %-10s | %-10s %-8s %-8s %-6s | %-8s %-10s %-10s %-8s %-6s\n' \
    rate sent "gp pps" "gp kernel" "k.drops" "r.drops" drops sent "td pps" "td recv" "k.drops" drops
for rate in $rates; do
    run_ghostport "$rate"
    gp_sent=$sent gp_rate=$achieved
    run_tcpdump "$rate"
    printf '%-9s | %-8s %-10s | %-10s %-8s %-8s %-6s | %-8s %-10s %-10s %-8s %-6s\n' \
        "$rate" "$gp_sent" "$gp_rate" "$gp_packets" "$gp_kernel" "$gp_ring" $(( gp_kernel + gp_ring )) \
        "$sent" "$achieved" "$td_received" "$td_dropped" "$td_dropped"
done
