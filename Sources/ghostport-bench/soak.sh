#!/usr/bin/env bash
# A soak of the live sensor, because it runs for months: `ghostport run` on one end of a veth pair
# while generated traffic is replayed into the other at a steady rate for DURATION seconds
# (default 1200), the EVE file rotated and the rules reloaded (SIGHUP) every ROTATE seconds
# (default 30), and the sensor's resident memory, open descriptors and threads sampled every
# SAMPLE seconds (default 10). The traffic is TrafficGen scenarios (ghostport-bench gen-scenario),
# one after another, each with its own addresses, so no flow of one meets a flow of another.
# At the end every watched flow the scenarios sent must have exactly one flow record with its
# planned verdict, across all the rotated files, and every scanner one scan alert.
#
# Prints the samples as a table, the slope of each after the warm-up (WARMUP seconds, default
# 120), and the flow accounting. Needs root (a network namespace), tcpreplay and python3.
# usage: soak.sh [GHOSTPORT_BINARY [GHOSTPORT_BENCH_BINARY]]
#   (defaults: .build/release/ghostport and .build/release/ghostport-bench)
set -euo pipefail
bin=$(realpath "${1:-.build/release/ghostport}")
bench=$(realpath "${2:-.build/release/ghostport-bench}")
duration=${DURATION:-1200}
rotate=${ROTATE:-30}
sample=${SAMPLE:-10}
rate=${RATE:-2000}
warmup=${WARMUP:-120}
per_capture=$(( rate * 30 ))  # about 30 s of traffic each
captures=$(( duration * rate / per_capture + 2 ))
rules=$(cd "$(dirname "$0")/../.." && pwd)/rules
work=$(mktemp -d /tmp/ghostport-soak.XXXXXX)
ns=gpsoak$$
a=gps$$a
b=gps$$b
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
    [ -n "${traffic:-}" ] && kill "$traffic" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$a" 2>/dev/null || true
}
trap cleanup EXIT

echo "soak: ${duration} s at ${rate} packets/s, rotation and reload every ${rotate} s, samples every ${sample} s; work in $work"
echo "generating $captures captures of $per_capture packets"
for i in $(seq 1 "$captures"); do
    "$bench" gen-scenario "$work/traffic$i.pcap" --packets "$per_capture" --seed "$i" --first-address $(( i * 100000 )) >/dev/null
done

ip netns add "$ns"
ip link add "$a" type veth peer name "$b"
ip link set "$b" netns "$ns"
ip addr add 10.99.0.1/24 dev "$a"
ip link set "$a" up
ip netns exec "$ns" ip addr add 10.99.0.2/24 dev "$b"
ip netns exec "$ns" ip link set "$b" up
sysctl -qw "net.ipv6.conf.$a.disable_ipv6=1"
ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$b.disable_ipv6=1"

cd "$work"
"$bin" run -i "$a" -o eve.json --rules "$rules" --stats-interval "$sample" --allow-root 2>sensor.log &
pid=$!
for _ in $(seq 600); do grep -q "capturing on" sensor.log && break; sleep 0.1; done
grep -q "capturing on" sensor.log || { cat sensor.log; exit 1; }

# The traffic: the captures one after another at the rate, until the duration is over.
(
    for i in $(seq 1 "$captures"); do
        ip netns exec "$ns" tcpreplay -q -i "$b" --pps "$rate" "traffic$i.pcap" >"replay$i.log" 2>&1 && echo "$i" >>replayed.txt
        [ -f stop ] && break
    done
) &
traffic=$!

start=$(date +%s)
next_rotation=$(( start + rotate ))
rotation=0
printf 'seconds\trss_kib\tfds\tthreads\n' >samples.tsv
while [ $(( $(date +%s) - start )) -lt "$duration" ]; do
    now=$(date +%s)
    rss=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status)
    fds=$(ls /proc/"$pid"/fd | wc -l)
    threads=$(ls /proc/"$pid"/task | wc -l)
    printf '%d\t%d\t%d\t%d\n' $(( now - start )) "$rss" "$fds" "$threads" >>samples.tsv
    if [ "$now" -ge "$next_rotation" ]; then
        rotation=$(( rotation + 1 ))
        mv eve.json "eve.json.$rotation"
        kill -HUP "$pid"
        next_rotation=$(( next_rotation + rotate ))
    fi
    sleep "$sample"
done
touch stop
wait "$traffic" || true
traffic=
# A marker to a watched port no scenario uses (43/udp): once its alert is written, the sensor has
# seen everything replayed before it.
ip netns exec "$ns" python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("", 64999)); s.sendto(b"marker", ("10.99.0.1", 43))' 2>/dev/null || true
for _ in $(seq 1200); do grep -q '"dest_port":43,' eve.json 2>/dev/null && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid" || true
pid=

/usr/bin/python3 - "$work" "$warmup" <<'PY'
import glob, json, os, sys
work, warmup = sys.argv[1], int(sys.argv[2])
os.chdir(work)
rows = [line.split("\t") for line in open("samples.tsv").read().split("\n")[1:] if line]
samples = [tuple(int(x) for x in row) for row in rows]
print("\nseconds  RSS MiB  descriptors  threads")
for seconds, rss, fds, threads in samples:
    print("%7d  %7.1f  %11d  %7d" % (seconds, rss / 1024, fds, threads))

def slope(points):
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else 0.0

after = [s for s in samples if s[0] >= warmup]
print("after the %d s warm-up (%d samples): RSS %+.1f KiB/min (%.1f to %.1f MiB), descriptors %+.3f/min (%d to %d), threads %+.3f/min (%d to %d)" % (
    warmup, len(after),
    slope([(s[0], s[1]) for s in after]) * 60, min(s[1] for s in after) / 1024, max(s[1] for s in after) / 1024,
    slope([(s[0], s[2]) for s in after]) * 60, min(s[2] for s in after), max(s[2] for s in after),
    slope([(s[0], s[3]) for s in after]) * 60, min(s[3] for s in after), max(s[3] for s in after)))

replayed = [int(x) for x in open("replayed.txt").read().split()] if os.path.exists("replayed.txt") else []
expected, scanners = {}, set()
for i in replayed:
    truth = json.load(open("traffic%d.truth.json" % i))
    for f in truth["watched_flows"]:
        expected[(f["client"], f["client_port"], f["server"], f["server_port"], f["proto"], f.get("vlan"))] = f["verdict"]
    scanners.update(truth["scanners"])
seen, scans, records, broken = {}, set(), 0, 0
files = sorted(glob.glob("eve.json*"))
for path in files:
    for line in open(path, encoding="utf-8"):
        records += 1
        try:
            r = json.loads(line)
        except ValueError:
            broken += 1
            continue
        g = r.get("ghostport", {})
        if r["event_type"] == "alert" and g.get("kind") == "scan":
            scans.add(g["scan"]["source"])
        if r["event_type"] == "flow" and "verdict" in g and r.get("dest_port") != 43:
            key = (r["src_ip"], r.get("src_port"), r["dest_ip"], r.get("dest_port"), r["proto"].lower(), (r.get("vlan") or [None])[0])
            seen.setdefault(key, []).append(g["verdict"])
missing = [k for k in expected if k not in seen]
wrong = [k for k in expected if k in seen and seen[k] != [expected[k]]]
extra = [k for k in seen if k not in expected]
stats = [json.loads(l) for p in files for l in open(p) if '"event_type":"stats"' in l]
last = stats[-1] if stats else {}
drops = (last.get("stats", {}).get("capture", {}).get("kernel_drops", -1), last.get("ghostport", {}).get("stats", {}).get("capture", {}).get("ring_drops", -1))
print("%d captures replayed, %d EVE files (%d rotations), %d records, %d cut lines" % (len(replayed), len(files), len(files) - 1, records, broken))
print("flow accounting: %d watched flows sent, %d with exactly one record and their verdict, %d missing, %d with another verdict or twice, %d records not sent; scanners %d sent, %d alerted%s" % (
    len(expected), len(expected) - len(missing) - len(wrong), len(missing), len(wrong), len(extra), len(scanners), len(scans & scanners),
    "" if scans >= scanners else " (missed %s)" % sorted(scanners - scans)))
print("final stats: kernel_drops %s, ring_drops %s" % drops)
for k in (missing + wrong)[:10]:
    print("  ", k, expected[k], seen.get(k))
sys.exit(0 if not missing and not wrong and not broken and scans >= scanners else 1)
PY
