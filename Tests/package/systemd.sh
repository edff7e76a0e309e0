#!/usr/bin/env bash
# The package under a real systemd (issue 15): a minimal Debian (debootstrap) booted with
# systemd-nspawn, sharing this machine's network; the .deb installed there, the unit started
# with its sandbox and system-call filter, a probe alerted to the EVE file and to syslog
# (journald), a reload, a configuration error that is not restarted, removal that stops it.
# Prints `systemd-analyze security`'s verdict on the running unit. Needs root and the Debian
# mirror. Usage: systemd.sh PACKAGE.deb [ROOTFS] (ROOTFS is kept when given, for reuse).
set -euo pipefail
deb="$(readlink -f "$1")"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root"
[ -f "$deb" ] || fail "$deb: no such package"
root="${2:-}"
keep=1
if [ -z "$root" ]; then
    root="$(mktemp -d /var/tmp/ghostport-systemd.XXXXXX)"
    # mktemp's 0700 would be the container's / : nobody but root could reach a file (dbus-daemon,
    # running as messagebus, then never starts and the boot never finishes).
    chmod 0755 "$root"
    keep=0
fi
if [ ! -x "$root/usr/lib/systemd/systemd" ]; then
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libpcap0.8,libhiredis0.14,python3-scapy,procps \
        bookworm "$root" http://deb.debian.org/debian > "$root.debootstrap.log" 2>&1 \
        || { tail -20 "$root.debootstrap.log"; fail "debootstrap failed"; }
fi

leader=""
cleanup() {
    if [ -n "$leader" ]; then
        nsenter -t "$leader" -a systemctl poweroff >/dev/null 2>&1 || kill "$leader" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$boot" 2>/dev/null || break; sleep 0.1; done
        kill "$boot" 2>/dev/null || true
    fi
    if [ "$keep" = 0 ]; then rm -rf "$root" "$root.debootstrap.log"; fi
}
trap cleanup EXIT

# Boot. Not registered with a machined (there may be no systemd outside): the container's
# systemd is found as nspawn's child, and commands run in it with nsenter.
systemd-nspawn -q -D "$root" --register=no --keep-unit --console=passive -b > "$root.boot.log" 2>&1 &
boot=$!
# The waits below are for events (systemd there, its boot finished), bounded only so that a
# hung boot fails the run instead of holding it: a busy machine boots slowly.
for _ in $(seq 1 6000); do
    leader="$(pgrep -P "$boot" -x systemd || true)"
    [ -n "$leader" ] && break
    kill -0 "$boot" 2>/dev/null || { cat "$root.boot.log"; fail "systemd-nspawn exited"; }
    sleep 0.1
done
[ -n "$leader" ] || fail "no systemd in the container after 600 s"
inside() { nsenter -t "$leader" -a "$@"; }
# Until the bus is up, systemctl cannot ask; then --wait returns when the boot is done.
for _ in $(seq 1 6000); do
    inside systemctl is-system-running >/dev/null 2>&1 && break
    case "$(inside systemctl is-system-running 2>/dev/null || true)" in starting|running|degraded) break ;; esac
    sleep 0.1
done
state="$(timeout 900 nsenter -t "$leader" -a systemctl is-system-running --wait 2>/dev/null || true)"
case "$state" in running|degraded) ;; *) fail "the container's systemd is '$state' (booting did not finish in 900 s)" ;; esac
echo "container: systemd $(inside systemctl --version | head -1 | cut -d' ' -f2), $state"

cp "$deb" "$root/root/ghostport.deb"
inside dpkg -P ghostport >/dev/null 2>&1 || true  # a reused root from an earlier run
inside dpkg -i /root/ghostport.deb
[ "$(inside systemctl is-enabled ghostport)" = enabled ] || fail "installing did not enable the unit"
[ "$(inside systemctl is-active ghostport || true)" = inactive ] || fail "installing started the sensor before it was configured"
inside sed -i -e 's/^#\{0,1\}interface:.*/interface: lo/' /etc/ghostport/ghostport.yaml
inside sh -c 'sed -i "/^  syslog:/{n;s/enabled: false/enabled: true/}" /etc/ghostport/ghostport.yaml'
inside grep -q '^interface: lo$' /etc/ghostport/ghostport.yaml || fail "could not set the interface"
inside ghostport run -T --config /etc/ghostport/ghostport.yaml

# Started by systemd: Type=notify says ready with a status line; the sandbox and the filter hold.
inside systemctl start ghostport
[ "$(inside systemctl show -p StatusText --value ghostport)" = "capturing on lo" ] \
    || fail "status after start: $(inside systemctl show -p StatusText --value ghostport)"
inside python3 -c "
from scapy.all import IP, TCP, UDP, send
send(IP(dst='127.0.0.1') / TCP(sport=40300, dport=571, flags='S'), verbose=0)
send(IP(dst='127.0.0.1') / TCP(sport=40301, dport=571, flags='FPU'), verbose=0)
send(IP(dst='127.0.0.1') / UDP(sport=40302, dport=571) / b'x', verbose=0)"
for _ in $(seq 1 3000); do
    [ "$(inside sh -c 'grep -c "\"event_type\":\"alert\"" /var/log/ghostport/eve.json' 2>/dev/null || echo 0)" -ge 3 ] && break
    sleep 0.1
done
alerts="$(inside sh -c 'grep -o "\"signature_id\":[0-9]*" /var/log/ghostport/eve.json | sort | tr "\n" " "')"
[ "$alerts" = '"signature_id":9005710 "signature_id":9005712 "signature_id":9005716 ' ] || fail "alerts in eve.json: $alerts"
# (The journal is read whole before grep looks: grep -q leaving early would fail the pipe.)
journal() { inside journalctl --no-pager -o cat "$@"; }
for _ in $(seq 1 3000); do
    grep -q '"src_port":40300' <<<"$(journal -t ghostport)" && break
    sleep 0.1
done
grep -q '"src_port":40300' <<<"$(journal -t ghostport)" || fail "no alert reached syslog (journald)"

# The sensor's lines reach the journal with their priority: notice and above without the info ones.
grep -q 'capturing on lo' <<<"$(journal -u ghostport -p notice)" || fail "no notice-level start line in the journal"
if grep -q 'kernel filter:' <<<"$(journal -u ghostport -p notice)"; then
    fail "an info line (kernel filter) came out at notice priority"
fi
grep -q '^ghostport: kernel filter:' <<<"$(journal -u ghostport -p info)" || fail "no info line, or a timestamp in it, in the journal"

# Rotation and reload, as logrotate does it.
inside mv /var/log/ghostport/eve.json /var/log/ghostport/eve.json.1
inside systemctl reload ghostport
inside python3 -c "
from scapy.all import IP, TCP, send
send(IP(dst='127.0.0.1') / TCP(sport=40310, dport=571, flags='S'), verbose=0)"
for _ in $(seq 1 3000); do
    inside grep -q '"src_port":40310' /var/log/ghostport/eve.json 2>/dev/null && break
    sleep 0.1
done
inside grep -q '"src_port":40310' /var/log/ghostport/eve.json || fail "no alert in the reopened eve.json after a reload"
[ "$(inside systemctl show -p NRestarts --value ghostport)" = 0 ] || fail "the sensor restarted"
inside systemd-analyze security ghostport --no-pager | tail -n 1

# A configuration error: exit 2, and systemd does not restart it every 5 s.
inside cp /etc/ghostport/ghostport.yaml /root/good.yaml
inside sh -c 'printf "stats:\n  interval: -1\n" >> /etc/ghostport/ghostport.yaml'
inside systemctl restart ghostport && fail "a bad configuration started"
sleep 12  # RestartSec=5s: a restart would have come by now
[ "$(inside systemctl show -p ExecMainStatus --value ghostport)" = 2 ] || fail "exit status $(inside systemctl show -p ExecMainStatus --value ghostport), not 2"
[ "$(inside systemctl show -p NRestarts --value ghostport)" = 0 ] || fail "systemd restarted a sensor that exited 2"
inside cp /root/good.yaml /etc/ghostport/ghostport.yaml
inside systemctl start ghostport

# Removal stops it; purge leaves nothing.
inside dpkg -r ghostport
[ "$(inside systemctl is-active ghostport || true)" = inactive ] || fail "the sensor runs after removal"
inside pgrep -x ghostport && fail "a ghostport process outlived the package"
inside dpkg -P ghostport
inside sh -c '! test -e /etc/ghostport && ! test -e /var/log/ghostport && ! getent passwd ghostport' || fail "purge left files or the account"
echo "systemd: installed, started (notify, sandbox, system-call filter), alerted to EVE and syslog, reloaded across a rotation, exit 2 not restarted, removed and purged: all checks passed"
