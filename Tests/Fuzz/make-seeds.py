#!/usr/bin/env python3
"""Regenerates the seed corpora under corpus/ from the shared test captures and the shipped rules.

    python3 Tests/Fuzz/make-seeds.py [/work/shared/corpus/pcaps]

Deterministic: the same captures give the same seeds. Keeps the corpus small (about 100 files,
a few hundred KB): a handful of distinct frames per link type, a few short captures, rule lines.
"""
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PCAPS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../shared/corpus/pcaps")
RULES = os.path.join(HERE, "../../rules/abandoned-ports.rules")
EXAMPLE_CONFIG = os.path.join(HERE, "../../systemd/ghostport.yaml")
CORPUS = os.path.join(HERE, "corpus")

# fuzz-decoder's first byte: an index into its linkTypes (EN10MB, LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6).
SELECTOR = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 101: 5, 12: 5, 14: 5, 228: 6, 229: 7}
MAX_FRAME = 600


def read_pcap(path):
    """(link type, header bytes, [(record header, frame)]) of a classic pcap, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return None
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        return None
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    records, offset = [], 24
    while offset + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[offset + 8:offset + 12])[0]
        if caplen > 262144 or offset + 16 + caplen > len(data):
            break
        records.append((data[offset:offset + 16], data[offset + 16:offset + 16 + caplen]))
        offset += 16 + caplen
    return linktype, data[:24], records


def signature(linktype, frame):
    """A rough protocol path, so the seeds differ in what they exercise, not only in bytes."""
    if linktype == 1 and len(frame) >= 14:
        ethertype = frame[12:14]
        rest = frame[14:]
        for _ in range(3):
            if ethertype in (b"\x81\x00", b"\x88\xa8", b"\x91\x00") and len(rest) >= 4:
                ethertype, rest = rest[2:4], rest[4:]
        proto = rest[9] if ethertype == b"\x08\x00" and len(rest) > 9 else rest[6] if ethertype == b"\x86\xdd" and len(rest) > 6 else -1
        return (ethertype, proto, len(frame) < 60)
    ip = {113: 16, 276: 20, 0: 4, 108: 4}.get(linktype, 0)
    rest = frame[ip:]
    if not rest:
        return (None,)
    version = rest[0] >> 4
    proto = rest[9] if version == 4 and len(rest) > 9 else rest[6] if version == 6 and len(rest) > 6 else -1
    return (version, proto)


def write(target, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def all_pcaps():
    for root, _, files in sorted(os.walk(PCAPS)):
        for name in sorted(files):
            path = os.path.join(root, name)
            if os.path.getsize(path) <= 200_000:
                yield path


def decoder_and_pcap_seeds():
    per_type = {}  # selector -> {signature: frame}
    captures = {}  # linktype -> [(size, path)]
    wanted = {0: 14, 1: 5, 2: 3, 3: 4, 4: 0, 5: 5, 6: 3, 7: 4}
    for path in all_pcaps():
        parsed = read_pcap(path)
        if not parsed:
            continue
        linktype, header, records = parsed
        if linktype not in SELECTOR or not records:
            continue
        captures.setdefault(linktype, []).append((os.path.getsize(path), path))
        selector = SELECTOR[linktype]
        seen = per_type.setdefault(selector, {})
        for _, frame in records[:20]:
            if len(frame) > MAX_FRAME or len(seen) >= wanted[selector]:
                continue
            seen.setdefault(signature(linktype, frame), frame)
        # NULL frames become LOOP frames: the same family, always in network byte order.
        if linktype == 0:
            loops = per_type.setdefault(4, {})
            for _, frame in records[:5]:
                if len(frame) >= 4 and len(frame) <= MAX_FRAME and len(loops) < 3:
                    family = struct.unpack("<I", frame[:4])[0]
                    loops.setdefault(signature(0, frame), struct.pack(">I", family) + frame[4:])
    for selector, frames in sorted(per_type.items()):
        for frame in frames.values():
            write("decoder", bytes([selector]) + frame)

    # fuzz-pcap: the first three records of the smallest captures of each link type.
    for linktype, files in sorted(captures.items()):
        for _, path in sorted(files)[:3]:
            _, header, records = read_pcap(path)
            body = b"".join(h + f for h, f in records[:3] if len(f) <= MAX_FRAME)
            write("pcap", header + body)
    # A big-endian nanosecond capture and a LOOP capture, which the shared corpus lacks.
    _, _, records = read_pcap(sorted(captures[0])[0][1])
    loop = struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 108)
    for h, f in records[:3]:
        sec, frac, caplen, length = struct.unpack("<IIII", h)
        loop += struct.pack(">IIII", sec, frac * 1000, caplen, length) + struct.pack(">I", struct.unpack("<I", f[:4])[0]) + f[4:]
    write("pcap", loop)
    # Small pcapng files as they are.
    ng = []
    for path in all_pcaps():
        with open(path, "rb") as f:
            head = f.read(4)
        if head == b"\x0a\x0d\x0d\x0a" and os.path.getsize(path) <= 1500:
            ng.append((os.path.getsize(path), path))
    for _, path in sorted(ng)[:8]:
        with open(path, "rb") as f:
            write("pcap", f.read())


TUNNEL_WORDS = ("gre", "erspan", "vxlan", "geneve", "teredo", "_over_ipv", "tunnel", "4in6", "6in4", "ipip")


def tunnel_seeds():
    """fuzz-decoder seeds through every encapsulation: the first frames of the tunnel captures."""
    for path in all_pcaps():
        name = os.path.basename(path).lower()
        if not any(word in name for word in TUNNEL_WORDS):
            continue
        parsed = read_pcap(path)
        if not parsed or parsed[0] != 1:
            continue
        for _, frame in parsed[2][:2]:
            if len(frame) <= MAX_FRAME:
                write("decoder", bytes([0]) + frame)


def rules_seeds():
    with open(RULES, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.startswith(("alert", "pass"))]
    # One probe and one answered rule per protocol, and a short file of several.
    picked = []
    for proto in ("tcp", "udp", "sctp"):
        of_proto = [line for line in lines if line.split()[1] == proto]
        picked += of_proto[:2]
    for line in picked:
        write("rules", (line + "\n").encode())
    with open(RULES, encoding="utf-8") as f:
        write("rules", "".join(f.readlines()[:24]).encode())
    edge_cases = [
        'alert ip any any -> any any (msg:"everything"; sid:1;)\n',
        'alert tcp $EXTERNAL_NET any -> [$HOME_NET, !10.0.0.5] [80:82, 1024:, !1030] (msg:"a \\"quoted\\" \\; msg\\\\"; sid:2; rev:3;)\n',
        'alert tcp any any <> any [1:80,![2,4]] (flags:S+,CE; flow:to_server,established; sid:3;)\n',
        'alert udp any any -> any 571 (threshold: type both, track by_src, count 5, seconds 60; classtype:attempted-recon; priority:2; sid:4;)\n',
        'alert sctp any any -> any 9 (detection_filter: track by_dst, count 2, seconds 1; metadata:k v, k2 v2; reference:url,example.com; gid:3; sid:5;)\n',
        'alert icmp 2001:db8::/32 any -> 10.0.0.0/255.0.0.0 any (msg:"\u00e9 \u00fc \U0001f47b"; sid:6;)\n',
        'alert tcp any any -> any 1 (sid:7;)\r\nalert tcp any any -> any 2 (content:"x"; sid:8;)\r\n',
        'alert tcp any any -> any 571 \\\n  (msg:"continued"; \\\n   sid:9;)\n',
        '# a comment\n\n   \nalert tcp any any -> any 1 (sid:10;)\nalert tcp any any -> any 1 (sid:10;)\n',
        'alert ip [10.0.0.0/8, ![10.1.0.0/16, [10.2.0.0/16]]] any -> ![1.0.0.0/8, 2.0.0.0/8] any (sid:11;)\n',
        'alert tcp any any -> any 65536 (sid:4294967296;)\nalert tcp [1.1.1.1 any -> any any (sid:12\n',
        'pass tcp any any -> any any (flags:!R; sid:13;)\nalert tcp 10.0.0.1-10.0.0.9 any -> any 0: (flow:stateless; sid:14;)\n',
        'drop tcp any any -> any 571 (sid:15;)\nreject udp any any -> any 571 (sid:16;)\nrejectboth tcp any any -> any 1 (sid:17;)\n',
        # threshold.config lines: fuzz-rules parses its input as one too.
        'suppress gen_id 1, sig_id 15\nsuppress gen_id 1, sig_id 16, track by_src, ip [$HOME_NET, !10.1.1.1, 2001:db8::/32]\n'
        'threshold gen_id 1, sig_id 15, type limit, track by_rule, count 1, seconds 60\n'
        'event_filter gen_id 0, sig_id 0, type both, track by_both, count 2, seconds 9\n'
        'rate_filter gen_id 1, sig_id 1, track by_src, count 1, seconds 1, new_action drop, timeout 5\n'
        'suppress gen_id 1, sig_id 15, track by_either, ip [1.2.3.4\nalert tcp any any -> any 571 (sid:15;)\n',
    ]
    for text in edge_cases:
        write("rules", text.encode())


def json_seeds():
    samples = [
        b"", b"GHOSTPORT probe to abandoned port 571/tcp (meter, udemon)",
        b'quote " backslash \\ slash / tab \t newline \n cr \r nul \x00 del \x7f',
        "line sep \u2028 para sep \u2029 bom \ufeff nonchar \uffff".encode(),
        "caf\u00e9 \u00fc \u4e2d\u6587 \U0001f47b \U0010ffff".encode(),
        b"invalid \xff \xc3 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf end",
        bytes(range(0, 64)), "e\u0301 \u00e9 \u212b \u00c5".encode(),
    ]
    for sample in samples:
        write("json", sample)


def config_seeds():
    """The shipped example, and the shapes Tests/ConfigTests checks: good, bad and broken files."""
    with open(EXAMPLE_CONFIG, "rb") as f:
        write("config", f.read())
    samples = [
        "",
        "interface: eth0\ncapture: {snaplen: 1500, promiscuous: false, immediate: true, buffer_mib: 8, bpf: \"not port 22\"}\n",
        "rules: [/etc/ghostport/rules, /etc/ghostport/local.rules]\n",
        "rules:\n  paths: /x\n  strict: yes\n  vars:\n    HOME_NET: [10.0.0.0/8, \"!10.1.0.0/16\"]\n    EXTERNAL_NET: \"!$HOME_NET\"\n    HTTP_PORTS: \"[80,8080]\"\n",
        "outputs:\n  eve: {enabled: true, path: /var/log/ghostport/eve.json, anomalies: on}\n  syslog:\n    enabled: true\n    facility: auth\n    format: text\n    level: {1: alert, 2: crit, 3: err, 4: warning}\n  evidence:\n    dir: /var/lib/ghostport/evidence\n",
        "outputs:\n  eve: {enabled: false}\n  redis:\n    url: redis://al%40ce:pw@[::1]:6380/2\n    mode: stream\n    key: ghostport\n    stream_maxlen: 0\n    queue_mib: 1\n",
        "outputs:\n  redis: {enabled: yes, url: unix:///run/redis.sock?db=x, mode: lpop, key: \"\", queue_mib: 0}\n",
        "stats:\n  interval: 0\n  prometheus_textfile: /var/lib/node_exporter/textfile/ghostport.prom\nuser: nobody\nallow_root: true\n",
        "flow:\n  memory_mib: 1\n  timeouts:\n    tcp: {new: 1, established: 2, closed: 0}\n    other: {new: 86400}\n  per_packet: true\n  community_id_seed: 65535\n",
        "scan: {ports: 1, hosts: 65535, seconds: 86400}\nalerts: {per_source: 0, per_sid: 1000000000, window_seconds: 1, max_sources: 1024}\n",
        "baseline:\n  file: /var/lib/ghostport/baseline.txt\n  learn_until: 2026-12-11T00:00:00Z\n  known: silent\n  max_listeners: 1\n  flush_seconds: 86400\n",
        "baseline:\n  learn_days: 3650\n  learn_until: 2026-02-30T00:00:00Z\n  known: loud\n",
        "capture:\n  snaplen: 20\n  colour: red\nscan:\n  ports: x\n  ports: 6\n",
        "rules:\n  vars:\n    EXTERNAL_NET: !$HOME_NET\n    9NET: any\n    HOME_NET: 10.0.0.300\n",
        "capture: 5\noutputs:\n  - eve\nuser: {name: x}\n- a\n",
        "capture:\n  snaplen: [1\n  bpf: \"unterminated\n",
        "a: &x {b: *x}\n<<: *y\n%TAG ! tag:x\n--- !!map\n? [a, b]\n: c\n",
        "interface: eth0\r\ncapture:\r  snaplen: 100\u0085user: x\u2028flow: 1\n",
    ]
    for sample in samples:
        write("config", sample.encode("utf-8"))
    write("config", b"interface: eth0\nuser: \xff\xfe\ncapture:\n  snaplen: 100\n")


if __name__ == "__main__":
    decoder_and_pcap_seeds()
    tunnel_seeds()
    rules_seeds()
    json_seeds()
    config_seeds()
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, name)) for name in files)
        print(f"{target}: {len(files)} files, {size} bytes")
