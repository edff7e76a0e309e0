#!/usr/bin/env python3
"""Wraps a share of a capture's packets in tunnels, for the tunnel benchmark (issue 13).

    wrap_tunnels.py IN.pcap OUT.pcap [--every N]

Every Nth Ethernet frame (default 5: 20%) goes into a tunnel, alternately:
- VXLAN: outer Ethernet, IPv4 198.18.0.1 > 198.18.0.2, UDP 49152 > 4789, VXLAN VNI 100, the
  whole original frame;
- GRE: outer Ethernet, IPv4 198.18.1.1 > 198.18.1.2, GRE (no options) carrying the original
  frame's IPv4 or IPv6 packet (protocol type its EtherType); frames that are not plain IP
  (VLAN-tagged, ARP ...) go in as transparent Ethernet bridging (0x6558).
The rest are copied as they are. Headers are written here byte by byte (no ghostport code);
checksums of the outer IPv4 headers are correct, the outer UDP checksum is 0 (allowed over IPv4).
Only classic pcap with Ethernet (linktype 1) is read: what genpcap.py writes.
"""
import struct
import sys


def checksum(header: bytes) -> int:
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, ident: int) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0, 64, proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


ETHERNET = bytes.fromhex("020000000aa1" "020000000aa2")


def vxlan(frame: bytes, ident: int) -> bytes:
    payload = struct.pack("!BBBBI", 0x08, 0, 0, 0, 100 << 8) + frame
    udp = struct.pack("!HHHH", 49152, 4789, 8 + len(payload), 0) + payload
    return ETHERNET + b"\x08\x00" + ipv4(bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]), 17, udp, ident)


def gre(frame: bytes, ident: int) -> bytes:
    ether_type = struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
    if ether_type in (0x0800, 0x86DD):
        payload = struct.pack("!HH", 0, ether_type) + frame[14:]
    else:
        payload = struct.pack("!HH", 0, 0x6558) + frame
    return ETHERNET + b"\x08\x00" + ipv4(bytes([198, 18, 1, 1]), bytes([198, 18, 1, 2]), 47, payload, ident)


def main() -> int:
    args = sys.argv[1:]
    every = 5
    if "--every" in args:
        i = args.index("--every")
        every = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2 or every < 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], "rb") as source, open(args[1], "wb") as out:
        header = source.read(24)
        magic = struct.unpack("<I", header[:4])[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D) or struct.unpack("<I", header[20:24])[0] != 1:
            print(f"{args[0]}: not a little-endian Ethernet pcap", file=sys.stderr)
            return 2
        out.write(header[:16] + struct.pack("<I", 262144) + header[20:24])
        count = wrapped = 0
        while True:
            record = source.read(16)
            if len(record) < 16:
                break
            seconds, fraction, captured, original = struct.unpack("<IIII", record)
            frame = source.read(captured)
            count += 1
            if count % every == 0:
                frame = vxlan(frame, count) if (count // every) % 2 else gre(frame, count)
                original = len(frame) + max(0, original - captured)
                captured = len(frame)
                wrapped += 1
            out.write(struct.pack("<IIII", seconds, fraction, captured, original) + frame)
    print(f"{count} packets, {wrapped} wrapped ({100 * wrapped / max(1, count):.1f}%)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
