import Flow
import Wire

/// What the first packet of a watched TCP flow was, from its TCP flags and payload (the
/// `ghostport.scan_kind` of its alerts and flow record). ECN's ECE and CWR and the NS bit are
/// ignored: they ride on ordinary SYNs.
public enum ScanKind: UInt8, Sendable, CaseIterable {
    /// Not a TCP flow whose client was seen first.
    case none = 0
    /// SYN alone (nmap -sS, and every connection's start).
    case syn
    /// No flags at all (nmap -sN).
    case null
    /// FIN alone (nmap -sF).
    case fin
    /// FIN, PSH and URG (nmap -sX).
    case xmas
    /// ACK alone, no data (nmap -sA and -sW; also a quiet session's keep-alive).
    case ack
    /// FIN and ACK, no data (nmap -sM, after Uriel Maimon).
    case maimon
    /// ACK with data: a session already under way when the sensor first saw it.
    case midstream
    /// Any other combination (SYN with FIN, RST, SYN-ACK sent to the port ...).
    case other

    private static let ignored: UInt16 = 0x1C0  // ECE, CWR, NS

    /// The kind of a first packet with these TCP flags and payload bytes.
    public static func of(tcpFlags: UInt16, payloadLength: Int) -> ScanKind {
        let flags = tcpFlags & ~ignored & 0xFFF
        switch flags {
        case TCPFlag.syn: return .syn
        case 0: return .null
        case TCPFlag.fin: return .fin
        case TCPFlag.fin | TCPFlag.psh | TCPFlag.urg: return .xmas
        default: break
        }
        if flags & TCPFlag.ack != 0 && flags & (TCPFlag.syn | TCPFlag.rst | TCPFlag.urg) == 0 {
            if payloadLength > 0 { return .midstream }
            if flags == TCPFlag.ack { return .ack }
            if flags == TCPFlag.fin | TCPFlag.ack { return .maimon }
        }
        return .other
    }

    public var name: StaticString {
        switch self {
        case .none: "none"
        case .syn: "syn"
        case .null: "null"
        case .fin: "fin"
        case .xmas: "xmas"
        case .ack: "ack"
        case .maimon: "maimon"
        case .midstream: "midstream"
        case .other: "other"
        }
    }
}

/// A scanner a probe's header names (`ghostport.tool`). Each is a constant or a relation its
/// source code writes into every probe it sends:
/// - Mirai and its descendants: the TCP sequence number is the destination IPv4 address
///   (`tcph->seq = iph->daddr` in Mirai's bot/scanner.c).
/// - Masscan: the IPv4 identification is the destination address XOR the destination port XOR
///   the sequence number, cut to 16 bits (`ip_id = ip_them ^ port_them ^ seqno` in
///   src/templ-pkt.c).
/// - ZMap: the IPv4 identification is 54321 (`make_ip_header` in src/probe_modules/packet.c),
///   for its TCP and UDP probes alike.
/// - nmap's raw TCP probes: window 1024 (`build_tcp_raw` in tcpip.cc: "Who cares"), no payload,
///   and as options exactly MSS 1460 on a SYN (`\x02\x04\x05\xb4` in scan_engine_raw.cc) and
///   none on the other scans.
/// Checked in that order: Mirai's 32-bit relation cannot hold by chance (2^-32), Masscan's and
/// ZMap's 16-bit ones hold for one unrelated packet in 65,536, nmap's shape is rarest in
/// ordinary traffic but the weakest evidence, so it comes last.
public enum ScannerTool: UInt8, Sendable, CaseIterable {
    case none = 0
    case mirai, masscan, zmap, nmap

    public var name: StaticString {
        switch self {
        case .none: "none"
        case .mirai: "mirai"
        case .masscan: "masscan"
        case .zmap: "zmap"
        case .nmap: "nmap"
        }
    }

    static let zmapIdentification: UInt16 = 54321
    static let nmapWindow: UInt16 = 1024

    /// The tool `frame`'s probe carries the fingerprint of (`packet` is its decoding: the
    /// innermost IP and transport headers when tunneled). Reads the headers in place; called
    /// once per new watched flow, not per packet.
    public static func identify(_ frame: UnsafeRawBufferPointer, _ packet: borrowing DecodedPacket) -> ScannerTool {
        let l3 = packet.l3Offset, l4 = packet.l4Offset
        let isIPv4 = packet.ipVersion == 4 && frame.count >= l3 + 20
        let identification = isIPv4 ? UInt16(frame[l3 + 4]) << 8 | UInt16(frame[l3 + 5]) : 0
        guard packet.proto == IPProtocol.tcp, packet.hasTCPFlags, frame.count >= l4 + 20 else {
            // A UDP or SCTP probe: only ZMap's constant is in the IP header.
            return isIPv4 && identification == zmapIdentification ? .zmap : .none
        }
        func u16(_ offset: Int) -> UInt16 { UInt16(frame[offset]) << 8 | UInt16(frame[offset + 1]) }
        let sequence = UInt32(u16(l4 + 4)) << 16 | UInt32(u16(l4 + 6))
        if isIPv4 {
            let destination = UInt32(truncatingIfNeeded: packet.dst.low)
            if sequence == destination { return .mirai }
            if identification == UInt16(truncatingIfNeeded: destination ^ UInt32(packet.dport) ^ sequence) { return .masscan }
            if identification == zmapIdentification { return .zmap }
        }
        let headerLength = Int(frame[l4 + 12] >> 4) * 4
        guard u16(l4 + 14) == nmapWindow, packet.payloadLength == 0 else { return .none }
        if packet.tcpFlags & TCPFlag.syn != 0 {
            guard headerLength == 24, frame.count >= l4 + 24 else { return .none }
            return frame[l4 + 20] == 2 && frame[l4 + 21] == 4 && u16(l4 + 22) == 1460 ? .nmap : .none
        }
        return headerLength == 20 ? .nmap : .none
    }
}
