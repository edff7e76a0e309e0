#!/usr/bin/env bash
# A random-source SYN flood to 571/tcp, as spoofed floods look (every packet a new flow from a
# new address), sent by trafgen (netsniff-ng) on one core over a veth pair, at each rate of
# RATES (thousands of packets/s, default "100 200 350") for SECONDS_PER_RATE seconds each
# (default 20): first to `tcpdump -w /dev/null` (TCPDUMP=0 skips it), then to `ghostport run`
# with the shipped rules and default settings (alert limits, flood budget, EVE size bound). Into
# each ghostport run go needles, answered and rejected 571/tcp sessions replayed by tcpreplay at
# their capture's timing, spread over the flood (ghostport-bench gen-flood-scenario --flows 0),
# and a SIGHUP (rules reload and EVE reopen, as logrotate sends) every RELOAD_EVERY seconds
# (default 5) while the flood lasts.
#
# Prints a row per rate: what trafgen sent, what tcpdump and ghostport saw and dropped, the EVE
# bytes written and the flood records among them, the sensor's CPU seconds and peak RSS, the
# needles found with their verdict and the reloads done; then ghostport's ring drops per second
# (from a stats record every second). Its RSS every SAMPLE seconds (default 10) is in
# rateN/rss.tsv in the work directory. Needs root (a network namespace), trafgen, tcpdump,
# tcpreplay and python3.
# usage: flood.sh [GHOSTPORT_BINARY [GHOSTPORT_BENCH_BINARY]]
#   (defaults: .build/release/ghostport and .build/release/ghostport-bench)
set -euo pipefail
bin=$(realpath "${1:-.build/release/ghostport}")
bench=$(realpath "${2:-.build/release/ghostport-bench}")
rates=${RATES:-"100 200 350"}
seconds=${SECONDS_PER_RATE:-20}
rules=$(cd "$(dirname "$0")/../.." && pwd)/rules
work=$(mktemp -d /tmp/ghostport-flood.XXXXXX)
ns=gpflood$$
a=gpf$$a
b=gpf$$b
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$a" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$ns"
ip link add "$a" type veth peer name "$b"
ip link set "$b" netns "$ns"
ip link set "$a" up
ip netns exec "$ns" ip link set "$b" up
sysctl -qw "net.ipv6.conf.$a.disable_ipv6=1"
ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$b.disable_ipv6=1"
mac=$(cat /sys/class/net/"$a"/address | tr ':' ' ' | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g')

# Ethernet to the sensor's end, IPv4 from a random address to 192.168.100.1, TCP SYN from a
# random port to 571; trafgen fills the checksums.
cat >"$work/flood.cfg" <<EOF
{
  ${mac} 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, c16(0x0800),
  0x45, 0x00, c16(40), drnd(2), c16(0x4000), 64, 6, csumip(14, 33),
  drnd(4), 192, 168, 100, 1,
  drnd(2), c16(571), drnd(4), c32(0), 0x50, 0x02, c16(65535), csumtcp(14, 34), c16(0),
}
EOF
"$bench" gen-flood-scenario "$work/needles.pcap" --flows 0 --backscatter 0 --answered 20 --rejected 20 --seconds "$seconds" >/dev/null

printf 'kpps\tsent\ttcpdump_seen\ttcpdump_dropped\tsensor_packets\tkernel_drops\tring_drops\teve_bytes\tflood_records\tcpu_s\tpeak_rss_mib\tneedles\treloads\n' >"$work/results.tsv"
for rate in $rates; do
    count=$(( rate * 1000 * seconds ))
    # tcpdump, the floor (TCPDUMP=0 skips it: a long run at a rate tcpdump was already measured at).
    if [ "${TCPDUMP:-1}" = 0 ]; then
        t_seen=-
        t_dropped=-
    else
    tcpdump -ni "$a" -w /dev/null 2>"$work/tcpdump.log" &
    tpid=$!
    for _ in $(seq 100); do grep -q "listening on" "$work/tcpdump.log" && break; sleep 0.1; done
    ip netns exec "$ns" trafgen --dev "$b" --conf "$work/flood.cfg" --rate "$(( rate * 1000 ))pps" --cpus 1 --num "$count" >"$work/trafgen-tcpdump-$rate.log" 2>&1
    sleep 1
    kill -INT "$tpid"
    wait "$tpid" || true
    t_seen=$(awk '/packets received by filter/ {print $1}' "$work/tcpdump.log")
    t_dropped=$(awk '/packets dropped by kernel/ {print $1}' "$work/tcpdump.log")
    fi

    # ghostport, with the needles replayed into the flood.
    dir="$work/rate$rate"
    mkdir -p "$dir"
    cd "$dir"
    "$bin" run -i "$a" -o eve.json --rules "$rules" --stats-interval 1 --allow-root 2>sensor.log &
    pid=$!
    for _ in $(seq 600); do grep -q "capturing on" sensor.log && break; sleep 0.1; done
    grep -q "capturing on" sensor.log || { cat sensor.log; exit 1; }
    # Peak RSS, and RSS every SAMPLE seconds (default 10) while the sensor runs.
    ( started=$(date +%s); next=0
      printf 'seconds\trss_kib\n' >rss.tsv
      while kill -0 "$pid" 2>/dev/null; do
          awk '/^VmHWM/ {print $2}' /proc/"$pid"/status 2>/dev/null >peak_kib.txt || true
          elapsed=$(( $(date +%s) - started ))
          if [ "$elapsed" -ge "$next" ]; then
              printf '%d\t%s\n' "$elapsed" "$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status 2>/dev/null)" >>rss.tsv
              next=$(( next + ${SAMPLE:-10} ))
          fi
          sleep 0.5
      done ) &
    ip netns exec "$ns" tcpreplay -q -i "$b" "$work/needles.pcap" >replay.log 2>&1 &
    replay=$!
    ( sleep "${RELOAD_EVERY:-5}"; while [ ! -f flood-done ]; do kill -HUP "$pid"; sleep "${RELOAD_EVERY:-5}"; done ) &
    reloads=$!
    ip netns exec "$ns" trafgen --dev "$b" --conf "$work/flood.cfg" --rate "$(( rate * 1000 ))pps" --cpus 1 --num "$count" >trafgen.log 2>&1
    touch flood-done
    wait "$reloads" || true
    wait "$replay" || true
    sleep 1
    cpu=$(awk '{print ($14 + $15) / 100}' /proc/"$pid"/stat)
    peak=$(cat peak_kib.txt)
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    reloaded=$(grep -c "rules reloaded" sensor.log || true)
    /usr/bin/python3 - "$work/needles.truth.json" "$rate" "$count" "$t_seen" "$t_dropped" "$cpu" "$peak" "$reloaded" >>"$work/results.tsv" <<'PY'
import json, os, sys
truth = json.load(open(sys.argv[1]))
rate, count, t_seen, t_dropped, cpu, peak, reloaded = sys.argv[2:9]
stats, floods, needles = None, 0, {}
for line in open("eve.json", encoding="utf-8"):
    r = json.loads(line)
    if r["event_type"] == "stats":
        stats = r
    elif r["event_type"] == "flood":
        floods += 1
    elif r["event_type"] == "flow" and r.get("dest_port") == 571:
        needles[(r["src_ip"], r.get("src_port"))] = r["ghostport"].get("verdict")
found = sum(needles.get((n["client"], n["client_port"])) == "answered" for n in truth["answered"])
found += sum(needles.get((n["client"], n["client_port"])) == "rejected" for n in truth["rejected"])
capture = stats["stats"].get("capture", {})
ring = stats["ghostport"]["stats"]["capture"]["ring_drops"]
print("\t".join(str(x) for x in [rate, count, t_seen, t_dropped, stats["stats"]["decoder"]["pkts"], capture.get("kernel_drops"),
                                 ring, os.path.getsize("eve.json"), floods, cpu, round(int(peak) / 1024, 1),
                                 "%d/%d" % (found, len(truth["answered"]) + len(truth["rejected"])), reloaded]))
PY
    # Ring drops per second, from the stats records.
    /usr/bin/python3 -c '
import json
last, row = 0, []
for line in open("eve.json", encoding="utf-8"):
    if "\"event_type\":\"stats\"" in line:
        r = json.loads(line)
        d = r["ghostport"]["stats"]["capture"]["ring_drops"]
        row.append(d - last)
        last = d
print("ring drops per second: " + " ".join(str(x) for x in row))' >"$work/per-second-$rate.txt"
    cd "$work"
done

column -t "$work/results.tsv"
for rate in $rates; do echo "$rate kpps $(cat "$work/per-second-$rate.txt")"; done
echo "work in $work"
