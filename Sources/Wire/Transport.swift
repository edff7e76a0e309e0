// TCP, UDP, SCTP (common header) and ICMP/ICMPv6 (with the packet an error quotes).

enum TCPField {
    static let sport = 0
    static let dport = 2
    static let dataOffsetFlags = 12
    static let minHeaderLength = 20
}

enum UDPField {
    static let sport = 0
    static let dport = 2
    static let length = 4
    static let headerLength = 8
}

enum SCTPField {
    static let sport = 0
    static let dport = 2
    static let commonHeaderLength = 12
}

enum ICMPField {
    static let type = 0
    static let code = 1
    /// Errors quote the offending packet after the 8-byte ICMP header.
    static let quoted = 8
    static let headerLength = 4
}

extension Decoder {
    /// Dispatches on the protocol after IP. `end` is where the IP packet's captured bytes stop.
    @inline(__always)
    static func transport(_ frame: UnsafeRawBufferPointer, proto: UInt8, offset: Int, end: Int, into packet: inout DecodedPacket) {
        packet.l4Offset = offset
        packet.l4Length = max(0, end - offset)
        let segment = frame.slice(from: offset, length: max(0, end - offset))
        switch proto {
        case IPProtocol.tcp: tcp(segment, into: &packet)
        case IPProtocol.udp:
            udp(segment, into: &packet)
            if packet.tunnelPorts.enabled && packet.hasPorts && segment.count >= UDPField.headerLength {
                let payload = offset + UDPField.headerLength
                udpTunnel(UnsafeRawBufferPointer(rebasing: frame[0..<(payload + packet.payloadLength)]), offset: payload,
                          into: &packet)
            }
        case IPProtocol.sctp: sctp(segment, into: &packet)
        case IPProtocol.icmp: icmpv4(segment, into: &packet)
        case IPProtocol.icmpv6: icmpv6(segment, into: &packet)
        case IPProtocol.gre where packet.tunnelPorts.enabled:
            gre(UnsafeRawBufferPointer(rebasing: frame[0..<end]), offset: offset, into: &packet)
        case IPProtocol.ipv4 where packet.tunnelPorts.enabled:
            ipInIP(UnsafeRawBufferPointer(rebasing: frame[0..<end]), offset: offset, innerVersion: 4, into: &packet)
        case IPProtocol.ipv6 where packet.tunnelPorts.enabled:
            ipInIP(UnsafeRawBufferPointer(rebasing: frame[0..<end]), offset: offset, innerVersion: 6, into: &packet)
        default: break
        }
    }

    /// The ports of a truncated header are still reported: they are what rules match on.
    static func tcp(_ segment: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        if segment.count >= 4 {
            packet.hasPorts = true
            packet.sport = segment.u16(TCPField.sport)
            packet.dport = segment.u16(TCPField.dport)
        }
        guard segment.count >= TCPField.minHeaderLength else {
            packet.events.insert(.tcpPktTooSmall)
            return
        }
        let word = segment.u16(TCPField.dataOffsetFlags)
        packet.hasTCPFlags = true
        packet.tcpFlags = word & 0x0FFF
        let headerLength = Int(word >> 12) * 4
        guard headerLength >= TCPField.minHeaderLength else {
            packet.events.insert(.tcpHlenTooSmall)
            return
        }
        guard headerLength <= segment.count else {
            // Only a header longer than the IP packet is malformed; a snapped capture is not.
            if !packet.isSnapped { packet.events.insert(.tcpInvalidOptlen) }
            return
        }
        packet.payloadLength = segment.count - headerLength
        tcpOptions(segment.slice(from: TCPField.minHeaderLength, length: headerLength - TCPField.minHeaderLength), into: &packet)
    }

    private static func tcpOptions(_ options: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        var position = 0
        while position < options.count {
            let kind = options.u8(position)
            if kind == 0 { return }
            if kind == 1 { position += 1; continue }
            guard position + 1 < options.count else {
                packet.events.insert(.tcpOptInvalidLen)
                return
            }
            let length = Int(options.u8(position + 1))
            guard length >= 2, position + length <= options.count else {
                packet.events.insert(.tcpOptInvalidLen)
                return
            }
            position += length
        }
    }

    static func udp(_ segment: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        if segment.count >= 4 {
            packet.hasPorts = true
            packet.sport = segment.u16(UDPField.sport)
            packet.dport = segment.u16(UDPField.dport)
        }
        guard segment.count >= UDPField.headerLength else {
            packet.events.insert(.udpPktTooSmall)
            return
        }
        let length = Int(segment.u16(UDPField.length))
        // Length 0 is legal only for IPv6 jumbograms; anything below the header is not.
        if length < UDPField.headerLength && !(length == 0 && packet.ipVersion == 6) {
            packet.events.insert(.udpHlenInvalid)
            return
        }
        if length > segment.count && !packet.isFragment && !packet.isSnapped {
            packet.events.insert(.udpLenInvalid)  // longer than the IP packet, not merely snapped
        }
        packet.payloadLength = max(0, min(length, segment.count) - UDPField.headerLength)
    }

    static func sctp(_ segment: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        if segment.count >= 4 {
            packet.hasPorts = true
            packet.sport = segment.u16(SCTPField.sport)
            packet.dport = segment.u16(SCTPField.dport)
        }
        if segment.count < SCTPField.commonHeaderLength {
            packet.events.insert(.sctpPktTooSmall)
        }
    }

    static func icmpv4(_ segment: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        guard segment.count >= ICMPField.headerLength else {
            packet.events.insert(.icmpv4PktTooSmall)
            return
        }
        packet.hasICMP = true
        packet.icmpType = segment.u8(ICMPField.type)
        packet.icmpCode = segment.u8(ICMPField.code)
        switch packet.icmpType {
        case 3, 4, 5, 11, 12:  // unreachable, source quench, redirect, time exceeded, parameter problem
            quotedIPv4(segment.slice(from: ICMPField.quoted), into: &packet)
        case 0, 8, 9, 10, 13, 14, 15, 16, 17, 18, 30, 40, 41, 42, 43, 253, 254:
            break
        default:
            packet.events.insert(.icmpv4UnknownType)
        }
    }

    static func icmpv6(_ segment: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        guard segment.count >= ICMPField.headerLength else {
            packet.events.insert(.icmpv6PktTooSmall)
            return
        }
        packet.hasICMP = true
        packet.icmpType = segment.u8(ICMPField.type)
        packet.icmpCode = segment.u8(ICMPField.code)
        switch packet.icmpType {
        case 1...4:  // unreachable, too big, time exceeded, parameter problem
            quotedIPv6(segment.slice(from: ICMPField.quoted), into: &packet)
        case 100, 101, 127, 128...161, 200, 201, 255:
            break
        default:
            packet.events.insert(.icmpv6UnknownType)
        }
    }

    /// The quoted header and the first 8 bytes after it (RFC 792): enough for the ports.
    private static func quotedIPv4(_ quote: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        guard quote.count >= IPv4Field.minHeaderLength else {
            packet.events.insert(.icmpv4IPv4TruncPkt)
            return
        }
        let versionIHL = quote.u8(0)
        guard versionIHL >> 4 == 4 else {
            packet.events.insert(.icmpv4IPv4UnknownVer)
            return
        }
        let headerLength = Int(versionIHL & 0x0F) * 4
        guard headerLength >= IPv4Field.minHeaderLength, quote.count >= headerLength else {
            packet.events.insert(.icmpv4IPv4TruncPkt)
            return
        }
        packet.quoted.ipVersion = 4
        packet.quoted.src = IPAddress(ipv4: quote.u32(IPv4Field.src))
        packet.quoted.dst = IPAddress(ipv4: quote.u32(IPv4Field.dst))
        packet.quoted.proto = quote.u8(IPv4Field.proto)
        let fragmentOffset = quote.u16(IPv4Field.flagsFragment) & 0x1FFF
        if fragmentOffset == 0 {
            quotedPorts(quote.slice(from: headerLength), into: &packet)
        }
    }

    private static func quotedIPv6(_ quote: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        guard quote.count >= IPv6Field.headerLength else {
            packet.events.insert(.icmpv6IPv6TruncPkt)
            return
        }
        guard quote.u8(0) >> 4 == 6 else {
            packet.events.insert(.icmpv6IPv6UnknownVersion)
            return
        }
        packet.quoted.ipVersion = 6
        packet.quoted.src = IPAddress(high: quote.u64(IPv6Field.src), low: quote.u64(IPv6Field.src + 8), isIPv6: true)
        packet.quoted.dst = IPAddress(high: quote.u64(IPv6Field.dst), low: quote.u64(IPv6Field.dst + 8), isIPv6: true)
        // Follow the quoted extension headers, bounded like the outer chain.
        var next = quote.u8(IPv6Field.nextHeader)
        var position = IPv6Field.headerLength
        for _ in 0..<maxIPv6ExtensionHeaders {
            guard next == IPProtocol.hopByHop || next == IPProtocol.routing
                || next == IPProtocol.destinationOptions || next == IPProtocol.fragment else { break }
            guard quote.count >= position + 8 else { break }
            if next == IPProtocol.fragment && quote.u16(position + 2) >> 3 != 0 {
                packet.quoted.proto = quote.u8(position)
                return  // a later fragment quotes no ports
            }
            let length = next == IPProtocol.fragment ? 8 : (Int(quote.u8(position + 1)) + 1) * 8
            next = quote.u8(position)
            position += length
        }
        packet.quoted.proto = next
        quotedPorts(quote.slice(from: position), into: &packet)
    }

    private static func quotedPorts(_ transport: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        let proto = packet.quoted.proto
        guard proto == IPProtocol.tcp || proto == IPProtocol.udp || proto == IPProtocol.sctp,
              transport.count >= 4 else { return }
        packet.quoted.hasPorts = true
        packet.quoted.sport = transport.u16(0)
        packet.quoted.dport = transport.u16(2)
    }
}
