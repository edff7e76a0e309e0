#!/usr/bin/env bash
# The drop table: at each rate, what tcpdump and ghostport run drop of what trafgen sends over a
# veth pair. tcpreplay tops out near 300,000 packets/s here; trafgen (netsniff-ng) sends from a
# memory-mapped TX ring, its packets converted from a TrafficGen scenario (ghostport-bench
# gen-scenario, 10,000 packets sent round and round). For each rate and each consumer:
# the consumer starts on the far end (in a namespace of its own), trafgen sends RATE x SECONDS
# packets, the consumer drains and stops, and the table gets the rate trafgen reached (its own
# count over its own time) and what the consumer counted: received and dropped by the kernel
# (tcpdump's summary; ghostport's final stats record: kernel packets, kernel drops, ring drops).
# Both capture with a 64 MiB kernel buffer (tcpdump -B 65536, ghostport's default).
# Consumers: tcpdump -w /dev/null; ghostport run (its kernel filter passes only what a rule
# can match); ghostport run --kernel-filter off (every packet to the sensor's prefilter), with
# one worker and with two (--workers 2: two sockets in a PACKET_FANOUT group, two engines).
# A benchmark, not a test: it measures, it asserts nothing. SENDERS=2 runs trafgen on two CPUs
# (faster than one, but on a two-core machine they take the consumer's CPU time). LOAD=alerts
# sends an alert flood instead (ghostport-bench gen-flood: 20,000 SYNs to 571/tcp, sent round
# and round) to a sensor alerting on every packet (--per-packet, no alert limit): an EVE record
# per packet, the heaviest work per packet the sensor does.
# usage: [SENDERS=N] [LOAD=gateway|alerts] droptable.sh GHOSTPORT_BINARY [SECONDS [RATE...]]
# (root; trafgen, tcpdump, ip, python3)
set -eu
bin=$(realpath "$1")
seconds=${2:-5}
shift $(($# >= 2 ? 2 : 1))
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(100000 200000 300000 400000 500000 600000 800000 1000000)
bench="$(dirname "$bin")/ghostport-bench"
# The repository's rules unless told otherwise.
export GHOSTPORT_RULES=${GHOSTPORT_RULES:-$(realpath "$(dirname "$0")/../../rules")}
out=$(mktemp -d)
ns=gpdrop$$
cleanup() {
    pkill -f "ip netns exec $ns" 2>/dev/null || true
    ip link del gpd$$a 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$out"
}
trap cleanup EXIT

extra=()
if [ "${LOAD:-gateway}" = alerts ]; then
    "$bench" gen-flood "$out/load.pcap" --flows 20000 >/dev/null
    extra=(--per-packet --alert-limit-per-sid 0 --alert-limit-per-source 0)
else
    "$bench" gen-scenario "$out/load.pcap" --packets 10000 --seed 42 >/dev/null
fi
# The capture's packets as trafgen's configuration: one { bytes } block each.
/usr/bin/python3 - "$out/load.pcap" "$out/load.cfg" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
offset, blocks = 24, []
while offset + 16 <= len(data):
    caplen = struct.unpack_from(endian + "I", data, offset + 8)[0]
    packet = data[offset + 16:offset + 16 + caplen]
    offset += 16 + caplen
    blocks.append("{ " + ", ".join("0x%02x" % b for b in packet) + " }")
open(sys.argv[2], "w").write("\n".join(blocks) + "\n")
print(f"{len(blocks)} packets", file=sys.stderr)
PY

ip netns add "$ns"
ip link add gpd$$a type veth peer name gpd$$b
ip link set gpd$$b netns "$ns"
ip link set gpd$$a up
ip netns exec "$ns" ip link set gpd$$b up
ip netns exec "$ns" ip link set lo up
sender=gpd$$a receiver=gpd$$b

# wait_for FILE TEXT: until the consumer says it is capturing (at most 20 s).
wait_for() {
    for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "consumer did not start: $(cat "$1")" >&2
    return 1
}

# send RATE: trafgen's packets and the rate it reached, as "SENT RATE".
send() {
    local count=$(($1 * seconds))
    trafgen -o "$sender" -i "$out/load.cfg" -n "$count" -b "$1pps" -P "${SENDERS:-1}" -q >"$out/trafgen.txt" 2>&1
    /usr/bin/python3 - "$out/trafgen.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
sent = int(re.search(r"(\d+) packets outgoing", text).group(1))
# One line per sending CPU: the run took as long as the slowest.
seconds = max(int(s) + int(us) / 1e6 for s, us in re.findall(r"(\d+) sec, (\d+) usec on CPU", text))
print(sent, round(sent / seconds))
PY
}

# The consumer's CPU time (user + system seconds, /usr/bin/time): its headroom where nothing drops.
cpu() { awk '{ printf "%.2f", $1 + $2 }' "$out/time.txt"; }
row() { printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }
echo "| asked (pkt/s) | reached (pkt/s) | consumer | sent | received | dropped | consumer CPU s |"
echo "| ---: | ---: | --- | ---: | ---: | ---: | ---: |"
for rate in "${rates[@]}"; do
    # tcpdump -w /dev/null
    ip netns exec "$ns" /usr/bin/time -f "%U %S" -o "$out/time.txt" tcpdump -i "$receiver" -B 65536 -w /dev/null -q \
        2>"$out/tcpdump.err" &
    wait_for "$out/tcpdump.err" "listening on"
    read -r sent reached < <(send "$rate")
    sleep 1
    ip netns exec "$ns" pkill -INT -x tcpdump || true
    wait
    received=$(sed -n 's/^\([0-9]*\) packets received by filter/\1/p' "$out/tcpdump.err")
    dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel/\1/p' "$out/tcpdump.err")
    row "$rate" "$reached" "tcpdump -w /dev/null" "$sent" "$received" "$dropped" "$(cpu)"
    for consumer in "auto 1" "auto 2" "off 1" "off 2"; do
        read -r filter workers <<<"$consumer"
        rm -f "$out/eve.json"
        ip netns exec "$ns" /usr/bin/time -f "%U %S" -o "$out/time.txt" "$bin" run -i "$receiver" --allow-root --kernel-filter "$filter" --workers "$workers" \
            "${extra[@]}" --stats-interval 0 -o "$out/eve.json" 2>"$out/run.err" &
        wait_for "$out/run.err" "capturing on"
        read -r sent reached < <(send "$rate")
        sleep 1
        ip netns exec "$ns" pkill -TERM -f "^$bin run -i $receiver" || true
        wait
        read -r received dropped < <(/usr/bin/python3 - "$out/eve.json" <<'PY'
import json, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"stats"' in l][-1]
kernel = stats["stats"].get("capture", {})
ring = stats["ghostport"]["stats"]["capture"]
print(kernel.get("kernel_packets", 0), kernel.get("kernel_drops", 0) + kernel.get("kernel_ifdrops", 0) + ring.get("ring_drops", 0))
PY
)
        row "$rate" "$reached" "ghostport run --workers $workers, kernel filter $filter" "$sent" "$received" "$dropped" "$(cpu)"
    done
done
