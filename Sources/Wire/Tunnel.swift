// Tunnels: GRE (version 0, with ERSPAN types I, II and III), VXLAN, GENEVE, Teredo, and IP in
// IP (4in4, 6in4, 4in6, 6in6). The packet's fields become the innermost packet's; the tunnel
// (the outermost packet's IP layer, the kinds crossed, an identity for the flow key) is kept
// in `DecodedPacket.tunnel`.

/// An encapsulation the decoder crossed.
public enum TunnelKind: UInt8, Sendable, CaseIterable {
    case none = 0
    case gre, erspan1, erspan2, erspan3, vxlan, geneve, teredo
    /// IP in IP by the inner version: IPv4 in IPv4 (protocol 4), IPv6 in IPv4 (41), IPv4 in
    /// IPv6 (next header 4), IPv6 in IPv6 (41).
    case ipv4InIPv4, ipv6InIPv4, ipv4InIPv6, ipv6InIPv6

    /// Lower-case text for records and `decode`'s rows.
    public var name: StaticString {
        switch self {
        case .none: "none"
        case .gre: "gre"
        case .erspan1: "erspan1"
        case .erspan2: "erspan2"
        case .erspan3: "erspan3"
        case .vxlan: "vxlan"
        case .geneve: "geneve"
        case .teredo: "teredo"
        case .ipv4InIPv4: "ipip"
        case .ipv6InIPv4: "6in4"
        case .ipv4InIPv6: "4in6"
        case .ipv6InIPv6: "6in6"
        }
    }

    /// What Suricata writes as the inner packet's `pkt_src`.
    public var packetSource: StaticString {
        switch self {
        case .none: "wire/pcap"
        case .gre, .erspan1, .erspan2, .erspan3: "gre tunnel"
        case .vxlan: "vxlan encapsulation"
        case .geneve: "geneve encapsulation"
        case .teredo: "teredo tunnel"
        case .ipv4InIPv4, .ipv6InIPv4: "ipv4 tunnel"
        case .ipv4InIPv6, .ipv6InIPv6: "ipv6 tunnel"
        }
    }
}

/// The UDP ports that carry tunnels, which the operator may change (VXLAN often runs on Linux's
/// old default 8472). Held by the packet the decoder fills, so it survives `reset`.
public struct TunnelPorts: Sendable, Equatable {
    public var vxlan: (UInt16, UInt16, UInt16, UInt16) = (4789, 0, 0, 0)
    public var geneve: UInt16 = 6081
    public var teredo: UInt16 = 3544
    /// Whether tunnels are decoded at all.
    public var enabled = true

    public init() {}

    /// `ports` (at most four; zeros are unused slots) as the VXLAN ports.
    public mutating func setVXLAN(_ ports: [UInt16]) {
        let p = ports + [0, 0, 0, 0]
        vxlan = (p[0], p[1], p[2], p[3])
    }

    public var vxlanPorts: [UInt16] { [vxlan.0, vxlan.1, vxlan.2, vxlan.3].filter { $0 != 0 } }

    @inline(__always)
    func isVXLAN(_ port: UInt16) -> Bool {
        port != 0 && (port == vxlan.0 || port == vxlan.1 || port == vxlan.2 || port == vxlan.3)
    }

    public static func == (a: TunnelPorts, b: TunnelPorts) -> Bool {
        a.vxlanPorts == b.vxlanPorts && a.geneve == b.geneve && a.teredo == b.teredo && a.enabled == b.enabled
    }
}

/// The tunnels a packet came through. Empty (`depth` 0) for a plain packet.
public struct TunnelInfo: Sendable, Equatable {
    /// How many encapsulations were crossed (at most `Decoder.maxTunnelDepth`).
    public var depth = 0
    /// The kinds crossed, outermost first; `depth` of them are set.
    public var kinds: (TunnelKind, TunnelKind, TunnelKind) = (.none, .none, .none)
    /// The outermost packet's IP layer: what Suricata's `tunnel` object describes.
    public var outerIPVersion: UInt8 = 0
    public var outerSrc = IPAddress.zero
    public var outerDst = IPAddress.zero
    public var outerProto: UInt8 = 0
    public var outerHasPorts = false
    public var outerSport: UInt16 = 0
    public var outerDport: UInt16 = 0
    /// The innermost tunnel's own identifier when it has one: a GRE key, a VXLAN or GENEVE VNI,
    /// an ERSPAN session id.
    public var id: UInt32 = 0
    public var hasID = false
    /// A hash of the whole path (each level's endpoints, kind and identifier), 0 when there is no
    /// tunnel: flows of the same inner tuple in two tunnels stay apart in the flow table.
    public var key: UInt64 = 0

    public init() {}

    public var isPresent: Bool { depth > 0 }

    public func kind(at index: Int) -> TunnelKind {
        switch index {
        case 0: kinds.0
        case 1: kinds.1
        default: kinds.2
        }
    }

    /// The innermost kind crossed.
    public var innermost: TunnelKind { depth > 0 ? kind(at: depth - 1) : .none }

    public static func == (a: TunnelInfo, b: TunnelInfo) -> Bool {
        a.depth == b.depth && a.kinds == b.kinds && a.outerIPVersion == b.outerIPVersion && a.outerSrc == b.outerSrc
            && a.outerDst == b.outerDst && a.outerProto == b.outerProto && a.outerHasPorts == b.outerHasPorts
            && a.outerSport == b.outerSport && a.outerDport == b.outerDport && a.id == b.id && a.hasID == b.hasID
            && a.key == b.key
    }
}

enum GREField {
    static let flagsVersion = 0
    static let protocolType = 2
    static let headerLength = 4
    static let checksum: UInt16 = 0x8000
    static let routing: UInt16 = 0x4000
    static let key: UInt16 = 0x2000
    static let sequence: UInt16 = 0x1000
    static let recursion: UInt16 = 0x0700
    /// Bits 5-12 of RFC 1701: none defined.
    static let reservedFlags: UInt16 = 0x00F8
    static let version: UInt16 = 0x0007
}

enum GREProtocol {
    static let transparentEthernet: UInt16 = 0x6558
    static let erspan2: UInt16 = 0x88BE
    static let erspan3: UInt16 = 0x22EB
}

enum VXLANField {
    static let headerLength = 8
    /// The I flag: the VNI is valid.
    static let validVNI: UInt8 = 0x08
}

enum GENEVEField {
    static let headerLength = 8
}

extension Decoder {
    /// Deeper than this is left undecoded (`decoder.tunnel.too_many_layers`).
    public static let maxTunnelDepth = 3

    /// Starts decoding the packet inside a tunnel of `kind`: remembers the outer packet (the
    /// outermost, at the first level), folds this level into the tunnel's key and clears the
    /// fields the inner packet fills. False when the depth is used up.
    static func enterTunnel(_ kind: TunnelKind, id: UInt32? = nil, into packet: inout DecodedPacket) -> Bool {
        guard packet.tunnel.depth < maxTunnelDepth else {
            packet.events.insert(.tunnelTooManyLayers)
            return false
        }
        var tunnel = packet.tunnel
        if tunnel.depth == 0 {
            tunnel.outerIPVersion = packet.ipVersion
            tunnel.outerSrc = packet.src
            tunnel.outerDst = packet.dst
            tunnel.outerProto = packet.proto
            tunnel.outerHasPorts = packet.hasPorts
            tunnel.outerSport = packet.sport
            tunnel.outerDport = packet.dport
        }
        switch tunnel.depth {
        case 0: tunnel.kinds.0 = kind
        case 1: tunnel.kinds.1 = kind
        default: tunnel.kinds.2 = kind
        }
        tunnel.depth += 1
        tunnel.id = id ?? 0
        tunnel.hasID = id != nil
        // Each level's endpoints (the tunnel's, not the inner flow's; in either order, since the
        // way back comes from the far end), kind and identifier.
        let (low, high) = packet.src < packet.dst ? (packet.src, packet.dst) : (packet.dst, packet.src)
        var key = tunnel.key ^ 0x7475_6E6E_656C_0000 ^ UInt64(kind.rawValue)
        for word in [low.high, low.low, high.high, high.low, UInt64(id ?? 0) << 8 | UInt64(kind.rawValue)] {
            key = (key ^ word) &* 0x9E37_79B9_7F4A_7C15
            key ^= key >> 31
        }
        tunnel.key = key | 1  // never 0, which means "no tunnel"
        let ports = packet.tunnelPorts, vlanCount = packet.vlanCount, vlanIDs = packet.vlanIDs
        let events = packet.events, extenderTags = packet.extenderTags
        packet.reset(linkType: packet.linkType, capturedLength: packet.capturedLength)
        packet.tunnelPorts = ports
        packet.vlanCount = vlanCount
        packet.vlanIDs = vlanIDs
        packet.extenderTags = extenderTags
        packet.events = events
        packet.tunnel = tunnel
        return true
    }

    /// GRE (RFC 2784, 2890; RFC 1701's routing), version 0. Version 1 (PPTP) is not decapsulated.
    static func gre(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        guard frame.count - offset >= GREField.headerLength else {
            packet.events.insert(.grePktTooSmall)
            return
        }
        let flags = frame.u16(offset + GREField.flagsVersion)
        switch flags & GREField.version {
        case 0: break
        case 1: return  // enhanced GRE (PPTP): PPP inside, not decoded
        default:
            packet.events.insert(.greWrongVersion)
            return
        }
        guard flags & GREField.recursion == 0 else {
            packet.events.insert(.greVersion0Recur)
            return
        }
        guard flags & GREField.reservedFlags == 0 else {
            packet.events.insert(.greVersion0Flags)
            return
        }
        var length = GREField.headerLength
        if flags & (GREField.checksum | GREField.routing) != 0 { length += 4 }  // checksum and offset
        var key: UInt32?
        if flags & GREField.key != 0 {
            guard frame.count - offset >= length + 4 else {
                packet.events.insert(.greVersion0HdrTooBig)
                return
            }
            key = frame.u32(offset + length)
            length += 4
        }
        if flags & GREField.sequence != 0 { length += 4 }
        guard frame.count - offset >= length else {
            packet.events.insert(.greVersion0HdrTooBig)
            return
        }
        if flags & GREField.routing != 0 {
            // Source route entries: address family, offset, length, then `length` bytes; a
            // null entry (family 0, length 0) ends the list.
            var ended = false
            for _ in 0..<16 {
                guard frame.count - offset >= length + 4 else { break }
                let family = frame.u16(offset + length), entry = Int(frame.u8(offset + length + 3))
                length += 4 + entry
                if family == 0 && entry == 0 {
                    ended = true
                    break
                }
            }
            guard ended, frame.count - offset >= length else {
                packet.events.insert(.greVersion0MalformedSREHdr)
                return
            }
        }
        let inner = offset + length
        switch frame.u16(offset + GREField.protocolType) {
        case EtherType.ipv4, EtherType.ipv6:
            let etherType = frame.u16(offset + GREField.protocolType)
            guard enterTunnel(.gre, id: key, into: &packet) else { return }
            network(frame, etherType: etherType, offset: inner, into: &packet)
        case GREProtocol.transparentEthernet:
            guard enterTunnel(.gre, id: key, into: &packet) else { return }
            innerEthernet(frame, offset: inner, into: &packet)
        case GREProtocol.erspan2:
            // Type I has no header of its own (and no sequence number); type II has both.
            if flags & GREField.sequence == 0 {
                guard enterTunnel(.erspan1, into: &packet) else { return }
                innerEthernet(frame, offset: inner, into: &packet)
            } else {
                erspan(frame, offset: inner, version: 1, into: &packet)
            }
        case GREProtocol.erspan3:
            erspan(frame, offset: inner, version: 2, into: &packet)
        default:
            break  // another payload (MPLS, PPP, keepalives ...): not decapsulated
        }
    }

    /// ERSPAN type II (header version 1, 8 bytes) or III (version 2, 12 bytes and an optional
    /// 8-byte platform subheader), then the mirrored Ethernet frame.
    static func erspan(_ frame: UnsafeRawBufferPointer, offset: Int, version: UInt8, into packet: inout DecodedPacket) {
        let headerLength = version == 1 ? 8 : 12
        guard frame.count - offset >= headerLength else {
            packet.events.insert(.erspanHeaderTooSmall)
            return
        }
        guard frame.u8(offset) >> 4 == version else {
            packet.events.insert(.erspanUnsupportedVersion)
            return
        }
        let session = UInt32(frame.u16(offset + 2) & 0x03FF)
        var length = headerLength
        if version == 2 && frame.u8(offset + 11) & 0x01 != 0 {
            length += 8
            guard frame.count - offset >= length else {
                packet.events.insert(.erspanHeaderTooSmall)
                return
            }
        }
        guard enterTunnel(version == 1 ? .erspan2 : .erspan3, id: session, into: &packet) else { return }
        innerEthernet(frame, offset: offset + length, into: &packet)
    }

    /// An Ethernet frame inside a tunnel: its tags count with the outer frame's.
    static func innerEthernet(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        guard frame.count - offset >= EthernetField.headerLength else {
            packet.events.insert(.ethernetPktTooSmall)
            return
        }
        let etherType = frame.u16(offset + EthernetField.etherType)
        guard etherType >= 0x0600 else { return }
        network(frame, etherType: etherType, offset: offset + EthernetField.headerLength, into: &packet)
    }

    /// A UDP datagram to a tunnel port: VXLAN, GENEVE or Teredo inside. `offset` is its payload.
    @inline(__always)
    static func udpTunnel(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        let ports = packet.tunnelPorts
        if ports.isVXLAN(packet.dport) {
            vxlan(frame, offset: offset, into: &packet)
        } else if packet.dport == ports.geneve && ports.geneve != 0 {
            geneve(frame, offset: offset, into: &packet)
        } else if ports.teredo != 0 && (packet.dport == ports.teredo || packet.sport == ports.teredo) {
            teredo(frame, offset: offset, into: &packet)
        }
    }

    /// VXLAN (RFC 7348): flags with the I bit, the 24-bit VNI, then an Ethernet frame.
    static func vxlan(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        guard frame.count - offset >= VXLANField.headerLength else {
            packet.events.insert(.vxlanPktTooSmall)
            return
        }
        guard frame.u8(offset) & VXLANField.validVNI != 0 else {
            packet.events.insert(.vxlanInvalidFlags)
            return
        }
        guard enterTunnel(.vxlan, id: frame.u32(offset + 4) >> 8, into: &packet) else { return }
        innerEthernet(frame, offset: offset + VXLANField.headerLength, into: &packet)
    }

    /// GENEVE (RFC 8926), version 0: options skipped, then Ethernet, IPv4 or IPv6.
    static func geneve(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        guard frame.count - offset >= GENEVEField.headerLength else {
            packet.events.insert(.genevePktTooSmall)
            return
        }
        let first = frame.u8(offset)
        guard first >> 6 == 0 else {
            packet.events.insert(.geneveWrongVersion)
            return
        }
        let length = GENEVEField.headerLength + Int(first & 0x3F) * 4
        guard frame.count - offset >= length else {
            packet.events.insert(.geneveOptionsTooLong)
            return
        }
        let protocolType = frame.u16(offset + 2)
        guard protocolType == GREProtocol.transparentEthernet || protocolType == EtherType.ipv4
            || protocolType == EtherType.ipv6 else {
            packet.events.insert(.geneveUnknownPayloadType)
            return
        }
        guard enterTunnel(.geneve, id: frame.u32(offset + 4) >> 8, into: &packet) else { return }
        if protocolType == GREProtocol.transparentEthernet {
            innerEthernet(frame, offset: offset + length, into: &packet)
        } else {
            network(frame, etherType: protocolType, offset: offset + length, into: &packet)
        }
    }

    /// Teredo (RFC 4380): an authentication and an origin indication header may come first,
    /// then an IPv6 packet. Anything else on the port is left as the UDP datagram it is.
    static func teredo(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        var position = offset
        if frame.count - position >= 4 && frame.u16(position) == 0x0001 {
            // Authentication: type, id length, auth length, id, auth, 8-byte nonce, confirmation.
            let length = 4 + Int(frame.u8(position + 2)) + Int(frame.u8(position + 3)) + 9
            guard frame.count - position >= length else {
                packet.events.insert(.teredoPktTooSmall)
                return
            }
            position += length
        }
        if frame.count - position >= 2 && frame.u16(position) == 0x0000 {
            guard frame.count - position >= 8 else {
                packet.events.insert(.teredoPktTooSmall)
                return
            }
            position += 8  // origin indication: type, obfuscated port and address
        }
        guard frame.count - position >= IPv6Field.headerLength, frame.u8(position) >> 4 == 6 else { return }
        // The IPv6 payload length must fit the datagram, as Suricata checks before calling it Teredo.
        guard IPv6Field.headerLength + Int(frame.u16(position + IPv6Field.payloadLength)) <= frame.count - position else { return }
        guard enterTunnel(.teredo, into: &packet) else { return }
        ipv6(frame, offset: position, into: &packet)
    }

    /// IP in IP: protocol 4 (IPv4 inside) or 41 (IPv6 inside), after IPv4 or IPv6.
    static func ipInIP(_ frame: UnsafeRawBufferPointer, offset: Int, innerVersion: UInt8, into packet: inout DecodedPacket) {
        let outerIsIPv6 = packet.ipVersion == 6
        let minimum = innerVersion == 4 ? IPv4Field.minHeaderLength : IPv6Field.headerLength
        if outerIsIPv6 {
            // Suricata's events for these two; inside IPv4 the inner decoder's own name the fault.
            guard frame.count - offset >= minimum else {
                packet.events.insert(innerVersion == 4 ? .ipv6IPv4InIPv6TooSmall : .ipv6IPv6InIPv6TooSmall)
                return
            }
            guard frame.u8(offset) >> 4 == innerVersion else {
                packet.events.insert(innerVersion == 4 ? .ipv6IPv4InIPv6WrongVersion : .ipv6IPv6InIPv6WrongVersion)
                return
            }
        }
        let kind: TunnelKind = switch (outerIsIPv6, innerVersion) {
        case (false, 4): .ipv4InIPv4
        case (false, _): .ipv6InIPv4
        case (true, 4): .ipv4InIPv6
        case (true, _): .ipv6InIPv6
        }
        guard enterTunnel(kind, into: &packet) else { return }
        if innerVersion == 4 {
            ipv4(frame, offset: offset, into: &packet)
        } else {
            ipv6(frame, offset: offset, into: &packet)
        }
    }
}
