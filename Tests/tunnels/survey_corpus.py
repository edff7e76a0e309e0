#!/usr/bin/python3
"""Survey the shared pcap corpus for tunnel captures with tshark; writes a Markdown report.

Usage: survey_corpus.py [--corpus DIR] [--out FILE] [--jobs N]
  --corpus  default /work/shared/corpus/pcaps (subdirectories zeek, suricata-verify, tcpdump)
  --out     default: print to stdout

A file is a candidate when its name contains a tunnel word (gre, erspan, vxlan, geneve, teredo,
ipip, ip_in_ip, 6in4, 4in6, 6in6, ip6ip, ipv4_over_ipv*, ipv6_over_ipv*, tunnel, gtp, ayiya,
nsh, pptp), or when tshark finds an encapsulation in it. Per frame, frame.protocols (with
"ethertype" dropped) is walked from the first IP header on:

  * encapsulation layers: gre, erspan, vxlan, geneve, teredo (in scope for ghostport) and
    gtp, ayiya, nsh, mpls, l2tp, ppp (out of scope); an IP header directly inside an IP header
    (IPIP, 6in4, 4in6, 6in6; IPv6 extension headers may sit between) is also one;
  * the walk stops at icmp, icmpv6, pim, sflow, openflow*, cflow: IP headers after those are
    quoted or sampled, not tunneled;
  * a frame is "encapsulated" when the walk meets at least one encapsulation layer, and has an
    "inner tuple" when, in addition, the header right after its innermost IP header is tcp or
    udp.

The chain shown is frame.protocols cut after the transport of the innermost IP header (or at
the stop token), so application layers are not listed.
"""

import argparse
import collections
import concurrent.futures
import os
import re
import subprocess
import sys

DIRS = ["zeek", "suricata-verify", "tcpdump"]
NAME_RE = re.compile(r"(^|[^a-z])(gre|erspan|vxlan|geneve|teredo|ipip|ip_in_ip|ip-in-ip|6in4|4in6|"
                     r"6in6|ip6ip|ip4ip|ipv4_over_ipv[46]|ipv6_over_ipv[46]|tunnels?|gtp|ayiya|"
                     r"nsh|pptp)", re.I)
IN_SCOPE = {"gre", "erspan", "vxlan", "geneve", "teredo"}
OUT_SCOPE = {"gtp", "ayiya", "nsh", "mpls", "l2tp", "ppp"}
STOP = {"icmp", "icmpv6", "pim", "sflow", "cflow", "openflow", "openflow_v1", "openflow_v4",
        "openflow_v5", "openflow_v6"}
IPS = {"ip", "ipv6"}

# tshark options a file needs (found by inspecting its undecoded UDP ports)
OPTIONS = {
    "tcpdump/vxlan_port_8472.pcap": ["-d", "udp.port==8472,vxlan"],
}


# Facts checked by hand with tshark -V / field dumps (tshark 4.0.17), shown under the table.
NOTES = [
    ("zeek/tunnels__Teredo.pcap, zeek/tunnels__teredo_bubble_with_payload.pcap, "
     "suricata-verify/decode-teredo-01__input.pcap",
     "Most Teredo packets run between a relay and a client on ports other than 3544 (e.g. "
     "32900 <-> 3797 in zeek/tunnels__Teredo.pcap); tshark dissects them only with the "
     "heuristic `--enable-heuristic teredo_udp` (off by default). The suricata-verify file is "
     "byte-identical to zeek/tunnels__Teredo.pcap."),
    ("tcpdump/vxlan_port_8472.pcap",
     "VXLAN on UDP 8472 (Linux default): needs `-d udp.port==8472,vxlan`."),
    ("tcpdump/bigtcp-*.pcap (8 files)",
     "One 80 KB BIG TCP/GSO frame each, as captured on the sending host: IPv4 total length 0 "
     "(or IPv6 payload length 0 with no jumbo option) and UDP length 0; tshark 4.0 does not "
     "dissect past the outer UDP header, so no VXLAN/GENEVE layer is counted. The tcpdump/gso-* "
     "files are the same encapsulations with normal lengths."),
    ("zeek/tunnels__gre-pptp.pcap, tcpdump/pptp.pcap",
     "GRE version 1 (enhanced GRE, PPTP), protocol 0x880B (PPP)."),
    ("suricata-verify/defrag__bug-6942-6887-...-max-ip-packet.pcap",
     "GRE version 0 with protocol 0x880B (PPP), 1024 frames; 1023 of them carry IPv4 fragments "
     "(`ip:data`), the reassembled datagram is UDP."),
    ("zeek/tunnels__gre-over-udp-4754.pcap",
     "GRE inside UDP (RFC 8086, port 4754), dissected by tshark by default."),
    ("suricata-verify/bug-6402-01__input.pcap, zeek/tunnels__geneve-vxlan-dns-truncated.pcap",
     "GENEVE with protocol type 0x0800 (IPv4 directly, no inner Ethernet), then GRE / VXLAN."),
    ("zeek/tunnels__gre-aruba-amsdu.pcap", "GRE protocol 0x8240 (Aruba 802.11 frame)."),
    ("tcpdump/various_gre.pcap",
     "GRE protocol 0x8909 (Cisco MetaData, `cmd`), 0x0000 and 0x2000 (CDP); no TCP/UDP inside."),
    ("tcpdump/erspan-type-iii-ft-7.pcap",
     "ERSPAN III with frame type 7 (not Ethernet): tshark shows the payload as data."),
    ("tcpdump/erspan-type-iii-pb-1.pcap, tcpdump/gre-heapoverflow-1.pcap, "
     "tcpdump/gre-heapoverflow-2.pcap",
     "Fuzzer-style inputs: pb-1 is raw IPv6, GRE flags S, s and recursion 5, ERSPAN III, 79 of "
     "a claimed 188109 bytes captured; heapoverflow-1 has a bogus IPv4 version; heapoverflow-2 "
     "has GRE flags/version 0xC030 and protocol 0x3030, 48 of a claimed 262144 bytes captured."),
    ("zeek/tunnels__geneve-truncated.pcapng",
     "Captured 58 of 156 bytes: ends right after 8 bytes of GENEVE options, before the inner "
     "Ethernet header."),
    ("suricata-verify/decode-nsh-type1/2__input.pcap, tcpdump/nsh.pcap",
     "NSH directly on Ethernet: below the first IP header, so not counted as an encapsulation."),
]


def walk(protocols):
    """-> (chain shown, encapsulation layers list, encapsulated?, inner tuple?)"""
    toks = [t for t in protocols.split(":") if t and t != "ethertype"]
    shown, layers = [], []
    ip_seen = False
    prev_net = None          # the previous token was ip/ipv6 or an IPv6 extension header
    last_ip = last_enc = -1  # indexes in shown
    for t in toks:
        if t in STOP and ip_seen:
            shown.append(t)
            break
        shown.append(t)
        k = len(shown) - 1
        if t in IPS:
            if ip_seen and prev_net:
                layers.append({"ip": "ipip", "ipv6": "ip6"}[t] + "-in-" + prev_net)
                last_enc = k
            ip_seen = True
            prev_net = t
            last_ip = k
            continue
        if t.startswith("ipv6.") and prev_net:
            continue
        prev_net = None
        if ip_seen and (t in IN_SCOPE or t in OUT_SCOPE):
            layers.append(t)
            last_enc = k
    enc = bool(layers)
    # inner tuple: the innermost IP header lies inside the last encapsulation layer and is
    # followed by tcp/udp
    inner = enc and last_ip >= last_enc and last_ip + 1 < len(shown) \
        and shown[last_ip + 1] in ("tcp", "udp")
    # show the chain up to the innermost IP's transport; when there is no IP inside the last
    # encapsulation layer, up to 3 tokens after that layer
    if shown and shown[-1] not in STOP:
        if last_ip >= last_enc and last_ip >= 0:
            shown = shown[:last_ip + 2]
        elif enc:
            shown = shown[:last_enc + 4]
    return ":".join(shown), layers, enc, inner


def tshark_protocols(path, opts):
    cmd = ["tshark", "-n", "-r", path] + opts + ["-T", "fields", "-e", "frame.protocols"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=300)
    except subprocess.TimeoutExpired:
        return None
    return p.stdout.splitlines()


HEURISTIC = ["--enable-heuristic", "teredo_udp"]   # Teredo on ports other than 3544


def count(lines, opts):
    chains = collections.Counter()
    layers_seen = collections.Counter()
    n = enc = inner = udp_data = 0
    for line in lines:
        n += 1
        shown, layers, e, i = walk(line)
        if e:
            enc += 1
            chains[shown] += 1
            for l in set(layers):
                layers_seen[l] += 1
        inner += i
        if line.endswith("udp:data"):
            udp_data += 1
    return {"frames": n, "enc": enc, "inner": inner, "chains": chains,
            "layers": layers_seen, "opts": opts, "udp_data": udp_data}


def survey_file(corpus, rel):
    """Default decoding (plus OPTIONS); when some frames end in undissected UDP data, try
    again with the (off by default) Teredo heuristic and keep that if it finds more."""
    opts = OPTIONS.get(rel, [])
    lines = tshark_protocols(os.path.join(corpus, rel), opts)
    if lines is None:
        return rel, None
    r = count(lines, opts)
    if opts:
        r0 = count(tshark_protocols(os.path.join(corpus, rel), []) or [], [])
        r["default_enc"], r["default_inner"] = r0["enc"], r0["inner"]
    if r["udp_data"]:
        lines2 = tshark_protocols(os.path.join(corpus, rel), opts + HEURISTIC)
        if lines2 is not None:
            r2 = count(lines2, opts + HEURISTIC)
            if r2["enc"] > r["enc"]:
                r2["default_enc"] = r.get("default_enc", r["enc"])
                r2["default_inner"] = r.get("default_inner", r["inner"])
                return rel, r2
    return rel, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/work/shared/corpus/pcaps")
    ap.add_argument("--out")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    files = []
    for d in DIRS:
        for f in sorted(os.listdir(os.path.join(a.corpus, d))):
            files.append(d + "/" + f)
    results = {}
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        for rel, r in ex.map(lambda f: survey_file(a.corpus, f), files):
            results[rel] = r
    named = [f for f in files if NAME_RE.search(os.path.basename(f))]
    cands = [f for f in files if results[f] and (results[f]["enc"] or f in named)]
    timeouts = [f for f in files if results[f] is None]
    out = []
    w = out.append
    w("# Tunnel captures in the shared corpus")
    w("")
    ver = subprocess.run(["tshark", "--version"], stdout=subprocess.PIPE, text=True,
                         stderr=subprocess.DEVNULL).stdout.splitlines()[0].rstrip(".")
    w("Generated by `Tests/tunnels/survey_corpus.py` with %s over `%s` (%d files in %s)."
      % (ver, a.corpus, len(files), ", ".join(DIRS)))
    w("")
    w("A file is listed when its name contains a tunnel word or tshark finds an encapsulation "
      "in it. *Encapsulated* frames have at least one encapsulation layer (GRE, ERSPAN, VXLAN, "
      "GENEVE, Teredo, IP directly in IP; out of scope for ghostport: GTP, AYIYA, NSH, MPLS, "
      "L2TP, PPP); IP headers quoted in ICMP/PIM or sampled in sFlow/OpenFlow do not count. "
      "*Inner tuple* frames are encapsulated frames whose innermost IP header is followed by "
      "TCP or UDP as tshark dissects it. Chains are `frame.protocols` without `ethertype`, cut "
      "after the innermost transport; at most 6 per file are shown, most frequent first. "
      "`ipip-in-ip` = IPv4 in IPv4, `ip6-in-ip` = IPv6 in IPv4 (6in4), `ipip-in-ipv6` = 4in6, "
      "`ip6-in-ipv6` = 6in6.")
    w("")
    w("| file | encapsulation layers (frames) | chains (frames) | frames | encapsulated | inner tuple | tshark options |")
    w("| --- | --- | --- | ---: | ---: | ---: | --- |")
    tot = collections.Counter()
    nonenc = []
    for f in cands:
        r = results[f]
        if not r["enc"]:
            nonenc.append(f)
            continue
        layers = ", ".join("%s (%d)" % kv for kv in sorted(r["layers"].items(), key=lambda kv: (-kv[1], kv[0])))
        ch = r["chains"].most_common()
        chs = "<br>".join("`%s` (%d)" % (c, k) for c, k in ch[:6])
        if len(ch) > 6:
            chs += "<br>(+%d more chains, %d frames)" % (len(ch) - 6, sum(k for _, k in ch[6:]))
        optcol = "`%s`" % " ".join(r["opts"]) if r["opts"] else "none"
        if "default_enc" in r:
            optcol += " (without: %d encapsulated, %d inner tuple)" % (r["default_enc"], r["default_inner"])
        w("| %s | %s | %s | %d | %d | %d | %s |" % (
            f, layers, chs, r["frames"], r["enc"], r["inner"], optcol))
        tot["files"] += 1
        tot["frames"] += r["frames"]
        tot["enc"] += r["enc"]
        tot["inner"] += r["inner"]
        for l in r["layers"]:
            tot["L:" + l] += 1
    w("")
    w("Totals: %d files, %d frames, %d encapsulated, %d with an inner tuple." %
      (tot["files"], tot["frames"], tot["enc"], tot["inner"]))
    w("")
    w("Files per encapsulation layer: " + ", ".join(
        "%s %d" % (k[2:], v) for k, v in sorted(tot.items()) if k.startswith("L:")) + ".")
    w("")
    w("## Notes")
    w("")
    for files, text in NOTES:
        w("- %s: %s" % (files, text))
    w("")
    w("## Name matches with no encapsulation inside an IP packet (as tshark dissects them)")
    w("")
    w("| file | frames | frames ending in `udp:data` | top chains |")
    w("| --- | ---: | ---: | --- |")
    for f in nonenc:
        r = results[f]
        lines = tshark_protocols(os.path.join(a.corpus, f), r["opts"])
        c = collections.Counter(":".join(t for t in l.split(":") if t != "ethertype") for l in lines)
        w("| %s | %d | %d | %s |" % (f, r["frames"], r["udp_data"],
                                     "<br>".join("`%s` (%d)" % kv for kv in c.most_common(3))))
    if timeouts:
        w("")
        w("tshark timed out on: " + ", ".join(timeouts))
    text = "\n".join(out) + "\n"
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
