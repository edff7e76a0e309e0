#!/usr/bin/python3
"""Generate tunnel test captures and their ground truth, independently of ghostport.

Usage:
    gen_tunnels.py OUTDIR              writes OUTDIR/tunnels.pcap and OUTDIR/tunnels.truth.json
    gen_tunnels.py --malformed OUTDIR  also writes OUTDIR/tunnels-malformed.pcap and
                                       OUTDIR/tunnels-malformed.truth.json

Only the Python standard library and scapy (Debian python3-scapy, run with /usr/bin/python3)
are used. The output is deterministic: fixed addresses, fixed timestamps (starting at
2025-06-15T09:00:00Z, one frame per millisecond), fixed IDs, sequence numbers and ports. The
pcap files are classic libpcap, microsecond timestamps, link type 1 (Ethernet), snaplen 65535,
written by this script (not by scapy's writer) so that caplen and wirelen are exact.

Watched port: 571/tcp (a TCP SYN to it is a "probe"). Unwatched control: 80/tcp (never alerts).

Truth file format (JSON object):

    {
      "format": "ghostport-tunnel-truth/1",
      "pcap": "tunnels.pcap", "linktype": 1,
      "watched_ports": [571], "control_ports": [80],
      "frames": [FRAME, ...],            # one per pcap record, in order
      "summary": {"frames": N, "cases": {CASE: {...}, ...}}
    }

    FRAME = {
      "frame": N,               # 1-based pcap record number
      "case": "gre-key",        # case name; every case has its own outer endpoint pair and
                                # its own inner client/server addresses, so flows never merge
      "chain": ["eth","ipv4","gre","ipv4","tcp"],
                                # encapsulation layers, outermost first, lowercase names from:
                                # eth vlan ipv4 ipv6 gre erspan1 erspan2 erspan3 vxlan geneve
                                # teredo udp tcp. GRE source-route entries belong to "gre",
                                # the ERSPAN III platform-specific subheader to "erspan3", the
                                # Teredo origin-indication / authentication headers to "teredo"
                                # (a plain Teredo packet still has "teredo" between udp and
                                # ipv6). For malformed frames: only the layers a strict decoder
                                # can accept (complete and valid).
      "outer": {"src": "198.18.1.1", "dst": "198.19.1.1", "proto": 47},
                                # outermost IP header: addresses and protocol / next header.
                                # For UDP-based tunnels also "sport"/"dport" (outer UDP ports)
                                # when the outer UDP header is complete.
      "depth": 1,               # tunnel depth = number of complete IP headers in chain minus 1
                                # (0 = not tunneled; GRE/VXLAN/... around one inner IP = 1)
      "inner": {"src": "10.1.1.2", "dst": "10.2.1.1", "proto": 6, "sport": 40001,
                "dport": 571} or null,
                                # innermost IP addresses and TCP ports as they appear in this
                                # packet (a reply from 571 has sport 571); null when none is
                                # expected (all malformed frames)
      "tcp_flags": 2 or null,   # innermost TCP flags byte (SYN=0x02, SYN-ACK=0x12, ACK=0x10,
                                # PSH-ACK=0x18)
      "watched": true,          # the inner flow involves watched port 571
      "expect_alert": true,     # an alert is expected at this frame: the probe (SYN to 571)
                                # and the first reply from 571 (the "answered" alert); false
                                # for everything else, all port-80 frames and all malformed
                                # frames. Assumes needs_config (if any) is applied.
      "alert_kind": "probe" | "answered" | null,
      "needs_config": null or {"vxlan_ports": [8472]},
                                # sensor configuration without which this frame is not
                                # decoded as a tunnel (then it is just outer UDP, no alert)
      "malformed": false,
      # malformed frames only:
      "invalid_layer": "gre",   # the first layer that is incomplete or invalid
      "truncation": {"mode": "short"|"snap", "kept": L, "full": F} or null,
                                # "short": the outer IP total length (and outer UDP length and
                                # checksum) were rewritten so the packet is consistently L bytes
                                # after the outer IP header; "snap": caplen cut to L bytes after
                                # the outer IP header, wirelen and all length fields original
      "intended_inner": {...},  # the inner tuple the frame would carry if it were intact; a
                                # decoder must NOT report it
      "note": "..."
    }

    summary.cases[CASE] = {"frames": n, "alerts": k, "chain": [...] (first frame's chain),
                           "depth": d, "verdict_571": "answered" | "unanswered" | null,
                           "needs_config": ...}
      verdict_571 is the ghostport verdict expected for the case's flow to 571
      (null for malformed cases: no flow expected).
"""

import calendar
import json
import os
import struct
import sys

from scapy.config import conf
conf.verb = 0
from scapy.packet import Packet, Raw, NoPayload, bind_layers  # noqa: E402
from scapy.fields import ByteField, ShortField, IntField, XShortField, \
    FieldLenField, StrLenField, StrFixedLenField  # noqa: E402
from scapy.layers.l2 import Ether, Dot1Q, GRE, GRErouting  # noqa: E402
from scapy.layers.inet import IP, UDP, TCP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402
from scapy.contrib.erspan import ERSPAN_I, ERSPAN_II, ERSPAN_III, \
    ERSPAN_PlatformSpecific  # noqa: E402
from scapy.contrib.geneve import GENEVE, GeneveOptions  # noqa: E402
from scapy.utils import checksum  # noqa: E402

WATCHED = 571
CONTROL = 80
BASE_TS = calendar.timegm((2025, 6, 15, 9, 0, 0))
STEP_US = 1000
LINKTYPE_ETHERNET = 1


# --- Teredo headers (RFC 4380 section 5.1.1), as scapy layers -----------------------------

class TeredoOrigin(Packet):
    """Origin indication: 0x0000, obfuscated port, obfuscated IPv4 (8 bytes)."""
    name = "Teredo origin indication"
    fields_desc = [XShortField("indicator", 0x0000),
                   ShortField("obf_port", 0),
                   IntField("obf_addr", 0)]


class TeredoAuth(Packet):
    """Authentication: 0x0001, ID-len, AU-len, client id, auth value, nonce(8), confirmation."""
    name = "Teredo authentication"
    fields_desc = [XShortField("indicator", 0x0001),
                   FieldLenField("id_len", None, length_of="client_id", fmt="B"),
                   FieldLenField("au_len", None, length_of="auth", fmt="B"),
                   StrLenField("client_id", b"", length_from=lambda p: p.id_len),
                   StrLenField("auth", b"", length_from=lambda p: p.au_len),
                   StrFixedLenField("nonce", b"\0" * 8, 8),
                   ByteField("confirm", 0)]


# --- address plan ---------------------------------------------------------------------------
# Case index i (1..255) selects a /24 (or an IPv6 /64) at every level, so no two cases share
# tunnel endpoints or inner hosts. Level 0 is the outermost tunnel, level 1 the next, ...

def v4_tunnel(i, level):
    a = [(198, 18), (100, 64), (100, 66)][level]
    return ("%d.%d.%d.1" % (a[0], a[1], i), "%d.%d.%d.1" % (a[0], a[1] + 1, i))


def v6_tunnel(i, level):
    return ("2001:db8:f%d:%x::1" % (2 * level, i), "2001:db8:f%d:%x::1" % (2 * level + 1, i))


def v4_hosts(i):
    return ("10.1.%d.2" % i, "10.2.%d.1" % i)       # (client, server)


def v6_hosts(i):
    return ("fd00:c:0:%x::2" % i, "fd00:5:0:%x::1" % i)


def teredo_client_addr(server_v4, mapped_v4, mapped_port):
    """2001:0000:<server v4>:<flags>:<~port>:<~client v4> (RFC 4380 section 4)."""
    s = [int(x) for x in server_v4.split(".")]
    m = [int(x) ^ 0xFF for x in mapped_v4.split(".")]
    p = mapped_port ^ 0xFFFF
    return "2001:0:%02x%02x:%02x%02x:0:%x:%02x%02x:%02x%02x" % (
        s[0], s[1], s[2], s[3], p, m[0], m[1], m[2], m[3])


def mac(a, b):
    return "02:00:00:%02x:%02x:%02x" % (a, b >> 8, b & 0xFF)


# --- encapsulation builders -----------------------------------------------------------------
# A case is a list of tunnel levels, outermost first. Each level is a dict:
#   {"kind": ..., "fam": 4|6, ...options}
# The innermost packet is IP/TCP (fam of the case's "inner" field). Building goes innermost
# out; every level knows the case index i, the direction (replies swap tunnel endpoints,
# except ERSPAN which is a one-way mirror session) and its level number.

def ip_hdr(fam, src, dst, proto, ident):
    if fam == 4:
        return IP(src=src, dst=dst, proto=proto, id=ident & 0xFFFF, ttl=64, flags="DF")
    return IPv6(src=src, dst=dst, nh=proto, hlim=64)


ETH_PROTO = {4: 0x0800, 6: 0x86DD}
IP_PROTO_OF = {4: 4, 6: 41}      # IP protocol number to carry an IPv4 / IPv6 packet


def inner_eth(payload, i, level, reply, vlan=None, fam=4):
    a, b = mac(0x10 + level, i), mac(0x20 + level, i)
    if reply:
        a, b = b, a
    if vlan is not None:
        return Ether(src=a, dst=b, type=0x8100) / Dot1Q(vlan=vlan, prio=0, type=ETH_PROTO[fam]) / payload
    return Ether(src=a, dst=b, type=ETH_PROTO[fam]) / payload


def wrap(level_spec, payload, payload_fam, i, level, reply, ident):
    """Wrap payload (an IP packet of family payload_fam) in one tunnel level. Returns the
    outer IP packet of this level (IP or IPv6 object)."""
    k = level_spec["kind"]
    fam = level_spec.get("fam", 4)
    src, dst = (v4_tunnel if fam == 4 else v6_tunnel)(i, level)
    mirror = k.startswith("erspan")
    if reply and not mirror:
        src, dst = dst, src

    if k == "ip":                                     # IPIP, 6in4, 4in6, 6in6
        return ip_hdr(fam, src, dst, IP_PROTO_OF[payload_fam], ident) / payload

    if k == "gre":
        o = level_spec
        body = payload
        proto = ETH_PROTO[payload_fam]
        if o.get("teb"):
            body = inner_eth(payload, i, level, reply, vlan=o.get("vlan"), fam=payload_fam)
            proto = 0x6558
        g = GRE(chksum_present=int(o.get("csum", False)),
                routing_present=int(o.get("routing", False)),
                key_present=int(o.get("key", False)),
                seqnum_present=int(o.get("seq", False)),
                strict_route_source=0, recursion_control=0, flags=0,
                version=o.get("version", 0), proto=proto)
        if o.get("csum") or o.get("routing"):
            g.chksum = None if o.get("csum") else 0    # None: scapy computes it (RFC 1701)
            g.offset = 0                                # the first SRE is the active one
        if o.get("key"):
            g.key = 0x1000 + i
        if o.get("seq"):
            g.sequence_number = 100 + ident
        if o.get("rsvd_flags") is not None:
            g.flags = o["rsvd_flags"]
        if o.get("recursion") is not None:
            g.recursion_control = o["recursion"]
        if o.get("routing"):
            sres = o.get("sres")
            if sres is None:
                # RFC 1701: an IP source route SRE with two hops, then the NULL SRE
                sres = [GRErouting(address_family=0x0800, SRE_offset=0,
                                   routing_info=bytes([192, 0, 2, 10, 192, 0, 2, 11])),
                        GRErouting(address_family=0, SRE_offset=0, SRE_len=0)]
            for s in sres:
                g = g / s
        return ip_hdr(fam, src, dst, 47, ident) / g / body

    if k in ("erspan1", "erspan2", "erspan3"):
        o = level_spec
        frame = inner_eth(payload, i, level, reply, vlan=o.get("vlan"), fam=payload_fam)
        if k == "erspan1":
            g = GRE(proto=0x88BE) / ERSPAN_I()
        elif k == "erspan2":
            g = GRE(proto=0x88BE, seqnum_present=1, sequence_number=ident) / \
                ERSPAN_II(ver=o.get("ver", 1), vlan=0, cos=0,
                          en=3 if o.get("vlan") is not None else 0,   # 3: VLAN tag kept in frame
                          t=0,
                          session_id=(i & 0x3FF), reserved=0, index=i)
        else:
            e = ERSPAN_III(ver=o.get("ver", 2), vlan=0, cos=0, bso=0, t=0,
                           session_id=(i & 0x3FF), timestamp=0x10000 + ident,
                           sgt_other=0, p=1, ft=0, hw=1, d=0, gra=1,   # p=1, ft=0 as Linux sends
                           o=1 if o.get("platform") else 0)
            g = GRE(proto=0x22EB) / e
            if o.get("platform"):
                g = g / ERSPAN_PlatformSpecific(platf_id=3, info1=0x12345, info2=0x6789ABCD)
        return ip_hdr(fam, src, dst, 47, ident) / g / frame

    if k in ("vxlan", "geneve", "teredo"):
        o = level_spec
        if k == "vxlan":
            port = o.get("port", 4789)
            hdr = VXLAN(flags=o.get("flags", 0x08), vni=0x100 + i, reserved2=0)
            body = hdr / inner_eth(payload, i, level, reply, vlan=o.get("vlan"), fam=payload_fam)
        elif k == "geneve":
            port = 6081
            opts = o.get("options", [])
            optlen = o.get("optionlen", sum(len(bytes(x)) for x in opts) // 4)
            eth = o.get("eth", True)
            hdr = GENEVE(version=o.get("version", 0), optionlen=optlen, oam=0,
                         critical=0, reserved=0,
                         proto=0x6558 if eth else ETH_PROTO[payload_fam],
                         vni=0x200 + i, reserved2=0, options=opts)
            body = hdr / (inner_eth(payload, i, level, reply, fam=payload_fam) if eth else payload)
        else:
            port = 3544
            body = payload
            for h in reversed(o.get("headers", [])):
                body = h / body
        eport = 40000 + i if k == "teredo" else 49152 + i
        if k == "teredo":
            # client (mapped address = level src, port eport) <-> relay on 3544
            sport, dport = (port, eport) if reply else (eport, port)
        else:
            sport, dport = eport, port   # VXLAN/GENEVE: source port is a flow hash, dport fixed
        u = UDP(sport=sport, dport=dport)
        if fam == 4 and k != "teredo":
            u.chksum = 0                 # VXLAN/GENEVE over IPv4: zero checksum (as Linux)
        return ip_hdr(fam, src, dst, 17, ident) / u / body

    raise ValueError(k)


def build(case, i, reply, tcp, ident):
    """Return the full Ethernet frame (scapy packet) for case index i."""
    fam = case["inner"]
    if case.get("teredo"):
        public_v4 = v4_tunnel(i, 0)[0]      # the client's mapped address (outer source)
        client = teredo_client_addr("192.0.2.1", public_v4, 40000 + i)
        server = "2001:db8:5:%x::1" % i
        c, s = client, server
    else:
        c, s = (v4_hosts if fam == 4 else v6_hosts)(i)
    src, dst = (s, c) if reply else (c, s)
    pkt = ip_hdr(fam, src, dst, 6, ident) / tcp
    pfam = fam
    levels = case["levels"]
    for lvl in range(len(levels) - 1, -1, -1):
        pkt = wrap(levels[lvl], pkt, pfam, i, lvl, reply, ident)
        pfam = levels[lvl].get("fam", 4)
    a, b = mac(1, i), mac(2, i)
    mirror = levels and levels[0]["kind"].startswith("erspan")
    if reply and not mirror:
        a, b = b, a
    return Ether(src=a, dst=b, type=ETH_PROTO[pfam]) / pkt


# --- layer introspection --------------------------------------------------------------------

NAMES = {Ether: "eth", Dot1Q: "vlan", IP: "ipv4", IPv6: "ipv6", GRE: "gre",
         GRErouting: "gre", ERSPAN_I: "erspan1", ERSPAN_II: "erspan2", ERSPAN_III: "erspan3",
         ERSPAN_PlatformSpecific: "erspan3", VXLAN: "vxlan", GENEVE: "geneve",
         TeredoOrigin: "teredo", TeredoAuth: "teredo", UDP: "udp", TCP: "tcp"}


def layer_spans(pkt):
    """[(name, start, end)] of every protocol header, outermost first, merging continuation
    headers (SREs into gre, the platform subheader into erspan3, Teredo headers into teredo).
    A plain Teredo packet gets a zero-length "teredo" span after its UDP header."""
    total = len(bytes(pkt))
    spans = []
    layer = pkt
    while not isinstance(layer, NoPayload):
        if isinstance(layer, Raw):
            break
        name = NAMES[type(layer)]
        start = total - len(bytes(layer))
        end = total - len(bytes(layer.payload))
        if spans and spans[-1][0] == name and name in ("gre", "erspan3", "teredo") \
                and spans[-1][2] == start and type(layer) in (GRErouting, ERSPAN_PlatformSpecific, TeredoOrigin, TeredoAuth):
            spans[-1] = (name, spans[-1][1], end)
        else:
            spans.append((name, start, end))
        if isinstance(layer, UDP) and 3544 in (layer.sport, layer.dport) \
                and not isinstance(layer.payload, (TeredoOrigin, TeredoAuth)):
            spans.append(("teredo", end, end))
        layer = layer.payload
    return spans


def innermost(pkt, spans):
    """(fam, src, dst, tcp layer) of the innermost IP header."""
    ips = [l for l in pkt.iterpayloads() if isinstance(l, (IP, IPv6))]
    ip = ips[-1]
    return (4 if isinstance(ip, IP) else 6), ip.src, ip.dst, ip.getlayer(TCP)


def outer_info(pkt, upto=None):
    ip = pkt.getlayer(IP) if isinstance(pkt.payload, IP) else pkt.getlayer(IPv6)
    d = {"src": ip.src, "dst": ip.dst, "proto": ip.proto if isinstance(ip, IP) else ip.nh}
    if isinstance(ip.payload, UDP) and (upto is None or upto >= 8):
        d["sport"] = ip.payload.sport
        d["dport"] = ip.payload.dport
    return d


# --- cases ----------------------------------------------------------------------------------

def L(kind, **kw):
    d = {"kind": kind}
    d.update(kw)
    return d


GENEVE_OPTS = [GeneveOptions(classid=0x0102, type=0x01, length=2, data=b"\x00\x01\x02\x03\x04\x05\x06\x07"),
               GeneveOptions(classid=0xFFFF, type=0x7F, length=1, data=b"\xde\xad\xbe\xef")]

# name, inner family, levels (outermost first), answered session?, needs_config, extras
CASES = [
    dict(name="plain-ipv4", inner=4, levels=[], session=True),
    dict(name="plain-ipv6", inner=6, levels=[]),
    dict(name="gre-plain", inner=4, levels=[L("gre")], session=True),
    dict(name="gre-csum", inner=4, levels=[L("gre", csum=True)]),
    dict(name="gre-key", inner=4, levels=[L("gre", key=True)]),
    dict(name="gre-seq", inner=4, levels=[L("gre", seq=True)]),
    dict(name="gre-csum-key-seq", inner=4, levels=[L("gre", csum=True, key=True, seq=True)]),
    dict(name="gre-routing", inner=4, levels=[L("gre", routing=True)]),
    dict(name="gre-routing-csum-key-seq", inner=4,
         levels=[L("gre", routing=True, csum=True, key=True, seq=True)]),
    dict(name="gre-ipv6", inner=6, levels=[L("gre")]),
    dict(name="gre-key-ipv6", inner=6, levels=[L("gre", key=True)]),
    dict(name="gre-teb", inner=4, levels=[L("gre", teb=True)]),
    dict(name="gre-teb-vlan", inner=4, levels=[L("gre", teb=True, vlan=100)]),
    dict(name="gre-over-ipv6", inner=4, levels=[L("gre", fam=6, key=True)]),
    dict(name="erspan1", inner=4, levels=[L("erspan1")]),
    dict(name="erspan2", inner=4, levels=[L("erspan2")], session=True),
    dict(name="erspan2-vlan", inner=4, levels=[L("erspan2", vlan=200)]),
    dict(name="erspan3", inner=4, levels=[L("erspan3")]),
    dict(name="erspan3-platform", inner=4, levels=[L("erspan3", platform=True)]),
    dict(name="erspan3-ipv6", inner=6, levels=[L("erspan3")]),
    dict(name="vxlan", inner=4, levels=[L("vxlan")], session=True),
    dict(name="vxlan-ipv6", inner=6, levels=[L("vxlan")]),
    dict(name="vxlan-vlan", inner=4, levels=[L("vxlan", vlan=300)]),
    dict(name="vxlan-over-ipv6", inner=4, levels=[L("vxlan", fam=6)]),
    dict(name="vxlan-8472", inner=4, levels=[L("vxlan", port=8472)],
         needs_config={"vxlan_ports": [8472]}),
    dict(name="geneve", inner=4, levels=[L("geneve")]),
    dict(name="geneve-opts", inner=4, levels=[L("geneve", options=GENEVE_OPTS)], session=True),
    dict(name="geneve-opts-ipv6", inner=6, levels=[L("geneve", options=GENEVE_OPTS)]),
    dict(name="geneve-ipv4-noeth", inner=4, levels=[L("geneve", eth=False)]),
    dict(name="ipip", inner=4, levels=[L("ip", fam=4)], session=True),
    dict(name="6in4", inner=6, levels=[L("ip", fam=4)]),
    dict(name="4in6", inner=4, levels=[L("ip", fam=6)], session=True),
    dict(name="6in6", inner=6, levels=[L("ip", fam=6)]),
    dict(name="teredo", inner=6, teredo=True, levels=[L("teredo")], session=True),
    dict(name="teredo-origin", inner=6, teredo=True, levels=[L("teredo", origin=True)]),
    dict(name="teredo-auth", inner=6, teredo=True, levels=[L("teredo", auth=True)]),
    dict(name="teredo-auth-origin", inner=6, teredo=True,
         levels=[L("teredo", auth=True, origin=True)]),
    dict(name="nest-vxlan-in-gre", inner=4, levels=[L("gre"), L("vxlan")]),
    dict(name="nest-gre-in-gre", inner=4, levels=[L("gre", key=True), L("gre")]),
    dict(name="nest-ipip-in-vxlan", inner=4, levels=[L("vxlan"), L("ip", fam=4)]),
    dict(name="nest-6in4-in-geneve", inner=6, levels=[L("geneve", options=GENEVE_OPTS), L("ip", fam=4)]),
    dict(name="nest3-gre-vxlan-6in4", inner=6,
         levels=[L("gre", key=True), L("vxlan"), L("ip", fam=4)], session=True),
]


def teredo_headers(case, i):
    """(Re)build the Teredo header objects for case index i (they carry its addresses)."""
    for lv in case["levels"]:
        if lv["kind"] != "teredo":
            continue
        hs = []
        if lv.get("auth"):
            hs.append(TeredoAuth(client_id=b"cli%d" % (i % 10), auth=b"\x5a" * 8,
                                 nonce=bytes(range(1, 9)), confirm=0))
        if lv.get("origin"):
            relay = v4_tunnel(i, 0)[1]
            r = [int(x) for x in relay.split(".")]
            hs.append(TeredoOrigin(obf_port=3544 ^ 0xFFFF,
                                   obf_addr=((r[0] << 24) | (r[1] << 16) | (r[2] << 8) | r[3]) ^ 0xFFFFFFFF))
        lv["headers"] = hs


# --- TCP segments ---------------------------------------------------------------------------

def tcp_seg(kind, cport, sport_srv):
    if kind == "syn":
        return TCP(sport=cport, dport=sport_srv, flags="S", seq=1000, ack=0, window=64240,
                   options=[("MSS", 1460)])
    if kind == "synack":
        return TCP(sport=sport_srv, dport=cport, flags="SA", seq=5000, ack=1001, window=65160,
                   options=[("MSS", 1460)])
    if kind == "ack":
        return TCP(sport=cport, dport=sport_srv, flags="A", seq=1001, ack=5001, window=64240)
    if kind == "data":
        return TCP(sport=sport_srv, dport=cport, flags="PA", seq=5001, ack=1001,
                   window=65160) / Raw(b"220 test service ready\r\n")
    raise ValueError(kind)


REPLY = {"syn": False, "synack": True, "ack": False, "data": True}


# --- pcap -----------------------------------------------------------------------------------

def write_pcap(path, records):
    """records: [(bytes, wirelen)], timestamps BASE_TS + n ms."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for n, (data, wirelen) in enumerate(records):
            us = n * STEP_US
            f.write(struct.pack("<IIII", BASE_TS + us // 1000000, us % 1000000, len(data), wirelen))
            f.write(data)


# --- normal file ----------------------------------------------------------------------------

def frame_truth(pkt, case, i, seg_kind, dport_srv, frame_no):
    spans = layer_spans(pkt)
    chain = [s[0] for s in spans]
    fam, src, dst, tcp = innermost(pkt, spans)
    watched = dport_srv == WATCHED
    alert_kind = None
    if watched and seg_kind == "syn":
        alert_kind = "probe"
    elif watched and seg_kind == "synack":
        alert_kind = "answered"
    return {
        "frame": frame_no,
        "case": case["name"],
        "chain": chain,
        "outer": outer_info(pkt),
        "depth": sum(1 for c in chain if c in ("ipv4", "ipv6")) - 1,
        "inner": {"src": src, "dst": dst, "proto": 6, "sport": tcp.sport, "dport": tcp.dport},
        "tcp_flags": int(tcp.flags),
        "watched": watched,
        "expect_alert": alert_kind is not None,
        "alert_kind": alert_kind,
        "needs_config": case.get("needs_config"),
        "malformed": False,
    }


def self_check(pkt, case):
    """Byte-level checks of the tunnel headers this script relies on scapy for."""
    raw = bytes(pkt)
    for name, a, b in layer_spans(pkt):
        h = raw[a:b]
        if name == "vxlan":
            assert h[0] == 0x08 and h[1:4] == b"\0\0\0" and h[7] == 0, (case["name"], h.hex())
        elif name == "geneve":
            assert h[0] >> 6 == 0 and (h[0] & 0x3F) * 4 + 8 == len(h), (case["name"], h.hex())
        elif name == "erspan2":
            assert h[0] >> 4 == 1 and len(h) == 8, (case["name"], h.hex())
        elif name == "erspan3":
            assert h[0] >> 4 == 2 and len(h) == (20 if h[11] & 1 else 12), (case["name"], h.hex())
        elif name == "gre":
            fl = struct.unpack("!H", h[:2])[0]
            want = 4 + (4 if fl & 0xC000 else 0) + (4 if fl & 0x2000 else 0) + (4 if fl & 0x1000 else 0)
            if fl & 0x4000:
                # SRE list until the NULL SRE
                off = want
                while True:
                    af, _, ln = struct.unpack("!HBB", h[off:off + 4])
                    off += 4 + ln
                    if af == 0 and ln == 0:
                        break
                want = off
            assert len(h) == want and fl & 0x0007 == 0, (case["name"], h.hex())
            if fl & 0x8000:
                assert checksum(raw[a:]) == 0, ("bad GRE checksum", case["name"])


def generate_normal():
    records, frames, summary = [], [], {}
    for idx, case in enumerate(CASES, start=1):
        i = idx
        teredo_headers(case, i)
        seq = [("syn", WATCHED)]
        if case.get("session"):
            seq += [("synack", WATCHED), ("ack", WATCHED), ("data", WATCHED)]
        seq += [("syn", CONTROL)]
        alerts = 0
        for kind, port in seq:
            cport = 40000 + 2 * i + (0 if port == WATCHED else 1)
            tcp = tcp_seg(kind, cport, port)
            pkt = build(case, i, REPLY[kind], tcp, ident=len(records) + 1)
            self_check(pkt, case)
            t = frame_truth(pkt, case, i, kind, port, len(records) + 1)
            data = bytes(pkt)
            records.append((data, len(data)))
            frames.append(t)
            alerts += t["expect_alert"]
        first = next(f for f in frames if f["case"] == case["name"])
        summary[case["name"]] = {
            "frames": len(seq), "alerts": alerts, "chain": first["chain"],
            "depth": first["depth"],
            "verdict_571": "answered" if case.get("session") else "unanswered",
            "needs_config": case.get("needs_config"),
        }
    return records, frames, summary


# --- malformed file -------------------------------------------------------------------------

def ipv4_hdr_checksum(h):
    h = h[:10] + b"\0\0" + h[12:]
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:]


def shorten(raw, l3, ip_hlen, fam, keep, udp_ck_zero):
    """Cut the frame to `keep` bytes after the outer IP header and make the outer IP (and UDP,
    when complete) length fields and checksums consistent with the cut."""
    start = l3 + ip_hlen
    out = bytearray(raw[:start + keep])
    if fam == 4:
        out[l3 + 2:l3 + 4] = struct.pack("!H", ip_hlen + keep)
        out[l3:l3 + ip_hlen] = ipv4_hdr_checksum(bytes(out[l3:l3 + ip_hlen]))
        proto = out[l3 + 9]
    else:
        out[l3 + 4:l3 + 6] = struct.pack("!H", keep)
        proto = out[l3 + 6]
    if proto == 17 and keep >= 8:
        out[start + 4:start + 6] = struct.pack("!H", keep)
        out[start + 6:start + 8] = b"\0\0"
        if not (fam == 4 and udp_ck_zero):
            if fam == 4:
                ph = bytes(out[l3 + 12:l3 + 20]) + struct.pack("!BBH", 0, 17, keep)
            else:
                ph = bytes(out[l3 + 8:l3 + 40]) + struct.pack("!IxxxB", keep, 17)
            ck = checksum(ph + bytes(out[start:])) or 0xFFFF
            out[start + 6:start + 8] = struct.pack("!H", ck)
    return bytes(out)


def mal_frame(case_name, frame_no, pkt, chain, invalid, intended, note, trunc=None, keep=None):
    spans_ips = sum(1 for c in chain if c in ("ipv4", "ipv6"))
    return {
        "frame": frame_no, "case": case_name, "chain": chain,
        "outer": outer_info(pkt, upto=keep),
        "depth": max(spans_ips - 1, 0),
        "inner": None, "tcp_flags": None, "watched": False, "expect_alert": False,
        "alert_kind": None, "needs_config": None, "malformed": True,
        "invalid_layer": invalid, "truncation": trunc, "intended_inner": intended,
        "note": note,
    }


def corrupt_bytes(pkt, layer_name, fn, nth=0):
    """Apply fn(bytearray, start, end) to the nth span named layer_name and return the bytes
    (used only on headers no checksum covers)."""
    raw = bytearray(bytes(pkt))
    spans = [s for s in layer_spans(pkt) if s[0] == layer_name]
    _, a, b = spans[nth]
    fn(raw, a, b)
    return bytes(raw)


def generate_malformed(first_index):
    records, frames, summary = [], [], {}
    i = first_index

    def add_case(name, entries):
        summary[name] = {"frames": len(entries), "alerts": 0,
                         "chain": entries[0]["chain"] if entries else None,
                         "depth": entries[0]["depth"] if entries else None,
                         "verdict_571": None, "needs_config": None}

    # 1. truncations of every tunnel case
    for case in CASES:
        if not case["levels"]:
            continue
        for mode in ("short", "snap"):
            name = "trunc-%s-%s" % (mode, case["name"])
            teredo_headers(case, i)
            cport = 40000 + 2 * i
            pkt = build(case, i, False, tcp_seg("syn", cport, WATCHED), ident=i)
            raw = bytes(pkt)
            spans = layer_spans(pkt)
            fam, src, dst, tcp = innermost(pkt, spans)
            intended = {"src": src, "dst": dst, "proto": 6, "sport": cport, "dport": WATCHED}
            outer_ip = spans[1]
            start = outer_ip[2]
            # the innermost IP header: last ipv4/ipv6 span
            inner_ip = [s for s in spans if s[0] in ("ipv4", "ipv6")][-1]
            full = inner_ip[2] - start
            ofam = 4 if outer_ip[0] == "ipv4" else 6
            udp_zero = isinstance(pkt.payload.payload, UDP) and pkt.payload.payload.chksum == 0
            entries = []
            for keep in range(0, full):
                cut = start + keep
                # a span is complete when all its bytes are present; a zero-length "teredo"
                # span (plain Teredo) only once the IPv6 header after it is complete
                complete = []
                for n, s in enumerate(spans):
                    if s[1] == s[2]:
                        ok = n + 1 < len(spans) and spans[n + 1][2] <= cut
                    else:
                        ok = s[2] <= cut
                    if ok:
                        complete.append(s)
                chain = [s[0] for s in complete]
                invalid = next(s[0] for s in spans if s not in complete)
                if mode == "short":
                    data = shorten(raw, 14, outer_ip[2] - outer_ip[1], ofam, keep, udp_zero)
                    wirelen = len(data)
                else:
                    data, wirelen = raw[:cut], len(raw)
                t = mal_frame(name, 0, pkt, chain, invalid,
                              intended,
                              "%s truncated %d of %d bytes after the outer IP header (mode %s)"
                              % (case["name"], keep, full, mode),
                              trunc={"mode": mode, "kept": keep, "full": full}, keep=keep)
                entries.append(t)
                records_pending.append((data, wirelen))
            flush(records, frames, entries)
            add_case(name, entries)
            i += 1

    # 2. invalid headers
    def one(name, inner, levels, corrupt, chain, invalid, note, teredo=False, payload=None):
        nonlocal i
        case = dict(name=name, inner=inner, levels=levels, teredo=teredo)
        teredo_headers(case, i)
        cport = 40000 + 2 * i
        pkt = build(case, i, False, tcp_seg("syn", cport, WATCHED), ident=i)
        spans = layer_spans(pkt)
        fam, src, dst, tcp = innermost(pkt, spans)
        intended = {"src": src, "dst": dst, "proto": 6, "sport": cport, "dport": WATCHED}
        if payload is not None:
            pkt, intended = payload(pkt, i)
        data = corrupt(pkt) if corrupt else bytes(pkt)
        t = mal_frame(name, 0, pkt, chain, invalid, intended, note)
        records_pending.append((data, len(data)))
        flush(records, frames, [t])
        add_case(name, [t])
        i += 1

    E4 = ["eth", "ipv4"]
    one("gre-version-1", 4, [L("gre", key=True, version=1)], None, E4, "gre",
        "GRE version 1 (enhanced GRE/PPTP) with protocol 0x0800: version 1 carries only PPP "
        "(0x880B); not decoded")
    one("gre-version-7", 4, [L("gre", version=7)], None, E4, "gre", "GRE version 7: unknown")
    one("gre-reserved-flags", 4, [L("gre", rsvd_flags=0x1F)], None, E4, "gre",
        "GRE version 0 with reserved flag bits 8-12 set (0x00F8). Policy, not RFC: RFC 2784 says "
        "bits 6-12 MUST be ignored on receipt (tshark decodes the inner packet); Suricata stops "
        "(GRE_VERSION0_FLAGS) and this truth expects no inner tuple")
    one("gre-recursion", 4, [L("gre", recursion=7)], None, E4, "gre",
        "GRE version 0 with recursion control 7 (bits 5-7). Policy: RFC 2784 says discard when "
        "bits 1-5 are set unless RFC 1701 is implemented, RFC 1701 treats it as a counter "
        "(tshark decodes the inner packet); Suricata stops (GRE_VERSION0_RECUR) and this truth "
        "expects no inner tuple")
    one("gre-sre-overrun", 4, [L("gre", routing=True, sres=[
        GRErouting(address_family=0x0800, SRE_offset=0, SRE_len=200, routing_info=b"\xc0\x00\x02\x0a")])],
        None, E4, "gre",
        "GRE routing bit with an SRE whose length (200) runs past the packet and no NULL SRE")
    one("gre-sre-unterminated", 4, [L("gre", routing=True, sres=[
        GRErouting(address_family=0x0800, SRE_offset=0, routing_info=b"\xc0\x00\x02\x0a")])],
        None, E4, "gre",
        "GRE routing bit with one SRE and no NULL SRE: the inner IPv4 header is read as SREs")

    def set_ver(v):
        """Overwrite the 4-bit ERSPAN version (first nibble of the ERSPAN header)."""
        def f(raw, a, b):
            raw[a] = (raw[a] & 0x0F) | (v << 4)
        return f
    one("erspan2-version-7", 4, [L("erspan2")],
        lambda p: corrupt_bytes(p, "erspan2", set_ver(7)), E4 + ["gre"], "erspan2",
        "GRE 0x88BE with sequence bit (ERSPAN II) but ERSPAN version 7 (type II is version 1)")
    one("erspan2-version-2", 4, [L("erspan2")],
        lambda p: corrupt_bytes(p, "erspan2", set_ver(2)), E4 + ["gre"], "erspan2",
        "GRE 0x88BE with sequence bit but ERSPAN version 2 (the type III version, type III uses "
        "0x22EB)")
    one("erspan3-version-1", 4, [L("erspan3")],
        lambda p: corrupt_bytes(p, "erspan3", set_ver(1)), E4 + ["gre"], "erspan3",
        "GRE 0x22EB (ERSPAN III) with ERSPAN version 1 (type III is version 2)")
    one("erspan3-version-15", 4, [L("erspan3", platform=True)],
        lambda p: corrupt_bytes(p, "erspan3", set_ver(15)), E4 + ["gre"], "erspan3",
        "GRE 0x22EB with ERSPAN version 15")
    U4 = E4 + ["udp"]
    one("vxlan-i-flag-clear", 4, [L("vxlan", flags=0x00)], None, U4, "vxlan",
        "VXLAN on 4789 with flags 0x00 (I flag clear: VNI not valid, RFC 7348 says discard)")
    one("geneve-version-1", 4, [L("geneve", version=1)], None, U4, "geneve",
        "GENEVE version 1 (only version 0 is defined)")
    one("geneve-version-3-opts", 4, [L("geneve", version=3, options=GENEVE_OPTS)], None, U4,
        "geneve", "GENEVE version 3 with options")
    one("geneve-optlen-overrun", 4, [L("geneve", optionlen=63, options=GENEVE_OPTS)], None, U4,
        "geneve", "GENEVE option length 63 (252 bytes) running past the end of the packet")

    def teredo_ipv4(pkt, i):
        # replace the IPv6 payload by an IPv4/TCP packet
        udp = pkt.getlayer(UDP)
        v4 = IP(src="10.9.%d.2" % (i % 256), dst="10.9.%d.1" % (i % 256), proto=6, id=1, ttl=64) / \
            tcp_seg("syn", 40000 + 2 * i, WATCHED)
        udp.remove_payload()
        udp.add_payload(v4)
        udp.len = None
        udp.chksum = None
        pkt.getlayer(IP).len = None
        pkt.getlayer(IP).chksum = None
        pkt = Ether(bytes(pkt))
        return pkt, {"src": v4.src, "dst": v4.dst, "proto": 6, "sport": 40000 + 2 * i, "dport": WATCHED}

    def teredo_garbage(pkt, i):
        udp = pkt.getlayer(UDP)
        udp.remove_payload()
        udp.add_payload(Raw(b"\x00\x02" + bytes(range(2, 60))))
        udp.len = None
        udp.chksum = None
        pkt.getlayer(IP).len = None
        pkt.getlayer(IP).chksum = None
        return Ether(bytes(pkt)), None

    one("teredo-ipv4-payload", 6, [L("teredo")], None, U4, "teredo",
        "UDP 3544 carrying an IPv4/TCP packet instead of IPv6", teredo=True, payload=teredo_ipv4)
    one("teredo-garbage", 6, [L("teredo")], None, U4, "teredo",
        "UDP 3544 with indicator 0x0002 (unknown) followed by bytes that are not IPv6",
        teredo=True, payload=teredo_garbage)

    def inner_first_byte(v, nth=1):
        """Overwrite the version/IHL byte of the nth IP header. When the header was IPv4 its
        (20-byte) header checksum is recomputed, so only the version/IHL field is wrong."""
        def f(p):
            raw = bytearray(bytes(p))
            ips = [s for s in layer_spans(p) if s[0] in ("ipv4", "ipv6")]
            name, a, _ = ips[nth]
            raw[a] = v
            if name == "ipv4":
                raw[a:a + 20] = ipv4_hdr_checksum(bytes(raw[a:a + 20]))
            return bytes(raw)
        return f
    one("ipip-inner-ihl-4", 4, [L("ip", fam=4)], inner_first_byte(0x44), E4, "ipv4",
        "IPv4 proto 4 whose inner IPv4 header says IHL 4 (16 bytes, below the 20 minimum)")
    one("ipip-inner-ihl-0", 4, [L("ip", fam=4)], inner_first_byte(0x40), E4, "ipv4",
        "IPv4 proto 4 whose inner IPv4 header says IHL 0")
    one("ipip-inner-version-6", 4, [L("ip", fam=4)], inner_first_byte(0x65), E4, "ipv4",
        "IPv4 proto 4 whose inner header has version 6")
    one("ipip-inner-version-0", 4, [L("ip", fam=4)], inner_first_byte(0x05), E4, "ipv4",
        "IPv4 proto 4 whose inner header has version 0")

    def ipip_inner_total_short(p):
        raw = bytearray(bytes(p))
        ips = [s for s in layer_spans(p) if s[0] == "ipv4"]
        a = ips[1][1]
        raw[a + 2:a + 4] = struct.pack("!H", 12)       # total length 12 < header length 20
        raw[a:a + 20] = ipv4_hdr_checksum(bytes(raw[a:a + 20]))
        return bytes(raw)
    one("ipip-inner-totlen-12", 4, [L("ip", fam=4)], ipip_inner_total_short, E4, "ipv4",
        "IPv4 proto 4 whose inner IPv4 total length (12) is smaller than its header (20)")

    def ipip_inner_only_16(pkt, i):
        # outer IPv4 proto 4 carrying only 16 bytes (an incomplete IPv4 header)
        o = pkt.getlayer(IP)
        inner = bytes(o.payload)[:16]
        o.remove_payload()
        o.add_payload(Raw(inner))
        o.len = None
        o.chksum = None
        return Ether(bytes(pkt)), None
    one("ipip-inner-16-bytes", 4, [L("ip", fam=4)], None, E4, "ipv4",
        "IPv4 proto 4 whose payload is only 16 bytes (a cut inner IPv4 header), lengths consistent",
        payload=ipip_inner_only_16)
    one("6in4-inner-version-4", 6, [L("ip", fam=4)], inner_first_byte(0x45), E4, "ipv6",
        "IPv4 proto 41 whose inner header has version 4")
    one("4in6-inner-version-6", 4, [L("ip", fam=6)], inner_first_byte(0x65), ["eth", "ipv6"],
        "ipv4", "IPv6 next header 4 whose inner header has version 6")
    one("4in6-inner-ihl-3", 4, [L("ip", fam=6)], inner_first_byte(0x43), ["eth", "ipv6"],
        "ipv4", "IPv6 next header 4 whose inner IPv4 header says IHL 3")
    one("6in6-inner-version-4", 6, [L("ip", fam=6)], inner_first_byte(0x45), ["eth", "ipv6"],
        "ipv6", "IPv6 next header 41 whose inner header has version 4")
    return records, frames, summary


records_pending = []      # (bytes, wirelen) of the entries being built; flush() numbers them


def flush(records, frames, entries):
    assert len(entries) == len(records_pending)
    for e, r in zip(entries, records_pending):
        e["frame"] = len(records) + 1
        records.append(r)
        frames.append(e)
    records_pending.clear()


# --- main -----------------------------------------------------------------------------------

def write_truth(path, pcap_name, frames, summary):
    doc = {
        "format": "ghostport-tunnel-truth/1",
        "generator": "Tests/tunnels/gen_tunnels.py (scapy, independent of ghostport)",
        "pcap": pcap_name,
        "linktype": LINKTYPE_ETHERNET,
        "watched_ports": [WATCHED],
        "control_ports": [CONTROL],
        "frames": frames,
        "summary": {"frames": len(frames),
                    "expect_alert": sum(f["expect_alert"] for f in frames),
                    "cases": summary},
    }
    # one frame per line: small, diffable, still plain JSON
    text = json.dumps(doc, indent=1)
    frames_json = ",\n  ".join(json.dumps(fr) for fr in frames)
    head, tail = text.split('"frames": [', 1)
    tail = tail[tail.index('"summary":'):]
    with open(path, "w") as f:
        f.write(head + '"frames": [\n  ' + frames_json + "\n ],\n " + tail + "\n")


def main(argv):
    args = argv[1:]
    malformed = "--malformed" in args
    args = [a for a in args if a != "--malformed"]
    if len(args) != 1:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    out = args[0]
    os.makedirs(out, exist_ok=True)
    records, frames, summary = generate_normal()
    write_pcap(os.path.join(out, "tunnels.pcap"), records)
    write_truth(os.path.join(out, "tunnels.truth.json"), "tunnels.pcap", frames, summary)
    print("tunnels.pcap: %d frames, %d cases" % (len(records), len(summary)))
    if malformed:
        records, frames, summary = generate_malformed(first_index=len(CASES) + 1)
        write_pcap(os.path.join(out, "tunnels-malformed.pcap"), records)
        write_truth(os.path.join(out, "tunnels-malformed.truth.json"),
                    "tunnels-malformed.pcap", frames, summary)
        print("tunnels-malformed.pcap: %d frames, %d cases" % (len(records), len(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
