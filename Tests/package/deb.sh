#!/usr/bin/env bash
# The Debian package, as an operator meets it (issue 15): built with `make deb`, installed with
# dpkg -i, used from / as the service's own account, then removed and purged with nothing left.
# Needs root and a machine where installing a package is fine (.ci/run's). Every check that
# fails prints what it expected and exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "the package test installs a package: run it as root"
if dpkg-query -W -f='${Status}' ghostport 2>/dev/null | grep -q installed; then
    fail "a ghostport package is already installed here; the test would replace it"
fi

deb="$(make deb | tail -n 1)"
[ -f "$deb" ] || fail "make deb's last line is not a file: $deb"
echo "built $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'

dpkg -i "$deb"
work="$(mktemp -d)"
trap 'dpkg -P ghostport >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
chmod 0755 "$work"

# Installed where the package says, the account made, the configuration readable by its group.
for f in /usr/bin/ghostport /usr/share/ghostport/rules/abandoned-ports.rules \
         /usr/share/ghostport/rules/registry.tsv /usr/share/ghostport/rules/classification.config \
         /usr/share/doc/ghostport/eve.schema.json /usr/lib/systemd/system/ghostport.service \
         /usr/lib/sysusers.d/ghostport.conf /usr/lib/tmpfiles.d/ghostport.conf \
         /etc/logrotate.d/ghostport /usr/share/bash-completion/completions/ghostport \
         /usr/share/zsh/vendor-completions/_ghostport /usr/share/fish/vendor_completions.d/ghostport.fish; do
    [ -f "$f" ] || fail "$f is not installed"
done
getent passwd ghostport >/dev/null || fail "installing did not create the ghostport account"
[ "$(stat -c %U:%G:%a /var/log/ghostport)" = ghostport:ghostport:750 ] || fail "/var/log/ghostport: $(stat -c %U:%G:%a /var/log/ghostport)"
[ "$(stat -c %G:%a /etc/ghostport/ghostport.yaml)" = ghostport:640 ] || fail "/etc/ghostport/ghostport.yaml: $(stat -c %G:%a /etc/ghostport/ghostport.yaml)"
# The Swift runtime is linked in: nothing of the toolchain is needed.
if grep -q -i swift <<<"$(ldd /usr/bin/ghostport)"; then fail "the packaged binary links a Swift library"; fi
man -w ghostport | grep -q '^/usr/share/man/man1/ghostport.1.gz$' || fail "man ghostport is not found"
man -w ghostport.read >/dev/null || fail "man ghostport.read is not found"
systemd-analyze verify /usr/lib/systemd/system/ghostport.service
# The commit is there when the tree is a git checkout (make asks git describe).
if commit="$(git describe --always --dirty --abbrev=12 2>/dev/null)"; then
    /usr/bin/ghostport --version | grep -qF "ghostport $(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/ghostport/Version.swift) (commit $commit; libpcap version" \
        || fail "--version: $(/usr/bin/ghostport --version), expected commit $commit"
else
    /usr/bin/ghostport --version | grep -qE '^ghostport [0-9.]+ \(libpcap version' || fail "--version: $(/usr/bin/ghostport --version)"
fi

# From /, far from the source tree: the shipped rules are found under /usr/share/ghostport.
cd /
ghostport rules list > "$work/list.txt"
grep -qE '^571 +tcp +meter' "$work/list.txt" || fail "rules list from / does not list 571/tcp"
ghostport rules check /usr/share/ghostport/rules

# A capture made here: a SYN and a FIN probe to 571/tcp, and a port-80 session as control.
/usr/bin/python3 - "$work/probes.pcap" <<'EOF'
import sys
from scapy.all import Ether, IP, TCP, wrpcap
a, b = "192.0.2.10", "198.51.100.7"
frames = [Ether() / IP(src=a, dst=b) / TCP(sport=40000, dport=571, flags="S"),
          Ether() / IP(src=a, dst=b) / TCP(sport=40001, dport=571, flags="F"),
          Ether() / IP(src=a, dst=b) / TCP(sport=40002, dport=80, flags="S")]
for i, f in enumerate(frames):
    f.time = 1700000000 + i
wrpcap(sys.argv[1], frames)
EOF
chmod 0644 "$work/probes.pcap"
# Read as the service's account.
setpriv --reuid=ghostport --regid=ghostport --init-groups \
    ghostport read --quiet -o - "$work/probes.pcap" > "$work/eve.json"
sids="$(jq -r 'select(.event_type == "alert") | "\(.alert.signature_id) \(.dest_port) \(.ghostport.scan_kind)"' "$work/eve.json" | sort | tr '\n' ';')"
[ "$sids" = "9005710 571 syn;9005716 571 fin;" ] || fail "read from / as ghostport: alerts '$sids', expected a SYN and a FIN alert on 571"

# The sensor as the unit starts it: the ghostport account with the unit's ambient capabilities,
# the installed configuration, on loopback; one probe, then SIGTERM.
start_sensor() {
    setpriv --reuid=ghostport --regid=ghostport --init-groups \
        --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin \
        /usr/bin/ghostport run --config /etc/ghostport/ghostport.yaml -i lo --stats-interval 0 \
        > "$work/run.out" 2>&1 &
    sensor=$!
    for _ in $(seq 1 3000); do
        grep -q 'capturing on lo' "$work/run.out" && return 0
        kill -0 "$sensor" 2>/dev/null || { cat "$work/run.out"; fail "the sensor exited before capturing"; }
        sleep 0.1
    done
    cat "$work/run.out"; fail "the sensor did not start capturing in 300 s"
}
start_sensor
/usr/bin/python3 -c "
from scapy.all import IP, TCP, send
send(IP(dst='127.0.0.1') / TCP(sport=40100, dport=571, flags='S'), verbose=0)"
for _ in $(seq 1 3000); do
    grep -q '"signature_id":9005710' /var/log/ghostport/eve.json 2>/dev/null && break
    sleep 0.1
done
kill -TERM "$sensor"
wait "$sensor" || fail "the sensor exited $? on SIGTERM"
cat "$work/run.out"
grep -q '"signature_id":9005710' /var/log/ghostport/eve.json || fail "the installed sensor wrote no alert for the probe to 571/tcp"
[ "$(stat -c %U /var/log/ghostport/eve.json)" = ghostport ] || fail "eve.json is not the service account's"

# --check-config on the installed configuration: the account exists and may write its log.
ghostport run -T --config /etc/ghostport/ghostport.yaml -i lo > "$work/check.out" \
    || fail "run -T on the installed configuration: $(cat "$work/check.out")"
grep -qE '^configuration OK: /etc/ghostport/ghostport.yaml, [0-9]+ rules, capturing on lo as ghostport$' "$work/check.out" \
    || fail "run -T said: $(cat "$work/check.out")"
# A bad configuration is exit 2, which the unit does not restart on.
printf 'capture:\n  snaplen: 20\n' > "$work/bad.yaml"
set +e
ghostport run --config "$work/bad.yaml" 2> "$work/bad.err"
status=$?
set -e
[ "$status" = 2 ] || fail "a bad configuration exited $status, not 2: $(cat "$work/bad.err")"
grep -q '^RestartPreventExitStatus=2$' /usr/lib/systemd/system/ghostport.service || fail "the unit restarts on exit 2"

# Removal: a running sensor is stopped (here without systemd: the package's binary gets SIGTERM
# and drains), no file is left but the logs and the configuration; purge takes those too.
start_sensor
dpkg -r ghostport
wait "$sensor" || fail "the sensor stopped by removal exited $?"
grep -q 'ghostport: stopped: ' "$work/run.out" || { cat "$work/run.out"; fail "the sensor did not drain and stop on removal"; }
# The package's own binary: its processes' executable is /usr/bin/ghostport (deleted by now).
for pid in $(pgrep -x ghostport || true); do
    case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in
        /usr/bin/ghostport*) fail "ghostport (pid $pid) outlived the package" ;;
    esac
done
left="$(dpkg -L ghostport 2>/dev/null | grep -v -e '^/etc/ghostport' -e '^/etc/logrotate.d' | while read -r p; do [ -f "$p" ] && echo "$p"; done || true)"
[ -z "$left" ] || fail "removal left: $left"
[ ! -e /usr/bin/ghostport ] || fail "removal left /usr/bin/ghostport"
[ ! -e /usr/share/ghostport ] || fail "removal left /usr/share/ghostport"
[ -f /etc/ghostport/ghostport.yaml ] || fail "removal took the configuration (a conffile stays until purge)"
[ -f /var/log/ghostport/eve.json ] || fail "removal took the logs"
dpkg -P ghostport
for p in /etc/ghostport /var/log/ghostport /var/lib/ghostport /etc/logrotate.d/ghostport; do
    [ ! -e "$p" ] || fail "purge left $p"
done
if getent passwd ghostport >/dev/null; then fail "purge left the ghostport account"; fi
if dpkg-query -W ghostport >/dev/null 2>&1; then fail "dpkg still knows ghostport after purge"; fi
echo "package: built, installed, read and run from / as ghostport, removed and purged: all checks passed"
