#!/usr/bin/env bash
# What an idle sensor costs: `ghostport run` on one end of a veth pair that carries nothing,
# for SECONDS (default 60) each; the CPU time it used (utime + stime, from /proc) and the
# wake-ups (voluntary context switches) of all its threads. Then the wake-up latency of the
# first packet after a long quiet spell: ROUNDS times (default 5), a SYN to 571/tcp sent after
# QUIET seconds (default 10) of silence, timed from the send to its alert in the EVE file
# (capture.immediate on, so libpcap's block timeout is not what is measured).
# Needs root (a network namespace), python3. Several binaries are measured one after the other.
# usage: idle.sh [GHOSTPORT_BINARY...]      (default: .build/release/ghostport)
set -euo pipefail
seconds=${SECONDS_IDLE:-60}
rounds=${ROUNDS:-5}
quiet=${QUIET:-10}
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=(.build/release/ghostport)
work=$(mktemp -d)
ns=gpidle$$
cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    ip link del "gpi$$a" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip link add "gpi$$a" type veth peer name "gpi$$b"
ip link set "gpi$$b" netns "$ns"
ip addr add 10.251.0.1/24 dev "gpi$$a"
ip link set "gpi$$a" up
ip netns exec "$ns" ip addr add 10.251.0.2/24 dev "gpi$$b"
ip netns exec "$ns" ip link set "gpi$$b" up
ip netns exec "$ns" ip link set lo up
# No IPv6 router solicitations or neighbour discovery on an idle link.
sysctl -qw "net.ipv6.conf.gpi$$a.disable_ipv6=1"
ip netns exec "$ns" sysctl -qw "net.ipv6.conf.gpi$$b.disable_ipv6=1"
ticks=$(getconf CLK_TCK)
printf 'capture:\n  immediate: true\nstats:\n  interval: 0\n' >"$work/config.yaml"

threads_switches() {  # voluntary context switches of every thread of $1
    local total=0 n
    for status in /proc/"$1"/task/*/status; do
        n=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$status" 2>/dev/null || echo 0)
        total=$((total + n))
    done
    echo "$total"
}
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }

printf '%-40s %12s %14s %16s %s\n' binary "cpu s/min" "wake-ups/s" "first-packet ms" "(each round)"
for bin in "${binaries[@]}"; do
    eve="$work/eve.json"
    rm -f "$eve"
    "$bin" run --config "$work/config.yaml" -i "gpi$$a" -o "$eve" --allow-root 2>"$work/log" &
    pid=$!
    for _ in $(seq 100); do grep -q "capturing on" "$work/log" && break; sleep 0.1; done
    sleep 2
    start_cpu=$(cpu_ticks "$pid")
    start_switches=$(threads_switches "$pid")
    sleep "$seconds"
    cpu=$(( $(cpu_ticks "$pid") - start_cpu ))
    switches=$(( $(threads_switches "$pid") - start_switches ))
    latencies=()
    for round in $(seq "$rounds"); do
        sleep "$quiet"
        before=$(grep -c '"event_type":"alert"' "$eve" 2>/dev/null || true)
        latency=$(ip netns exec "$ns" python3 - "$eve" "$before" "$round" <<'PY'
import socket, sys, time
eve, before, round_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setblocking(False)
start = time.monotonic()
try:
    s.connect(("10.251.0.1", 571))
except BlockingIOError:
    pass
while time.monotonic() - start < 5:
    with open(eve, "rb") as f:
        if f.read().count(b'"event_type":"alert"') > before:
            print("%.2f" % ((time.monotonic() - start) * 1000))
            sys.exit(0)
    time.sleep(0.0002)
print("timeout")
PY
)
        latencies+=("$latency")
    done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    per_minute=$(python3 -c "print('%.3f' % ($cpu / $ticks * 60 / $seconds))")
    rate=$(python3 -c "print('%.1f' % ($switches / $seconds))")
    sorted=$(printf '%s\n' "${latencies[@]}" | sort -n | tr '\n' ' ')
    median=$(printf '%s\n' "${latencies[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-40s %12s %14s %16s (%s)\n' "$bin" "$per_minute" "$rate" "$median" "$sorted"
done
