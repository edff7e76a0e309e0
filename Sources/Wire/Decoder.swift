/// Decodes frames in place: no copies, no allocation, every read behind a length guard.
/// Malformed input becomes a `DecodeEvent` on the packet; decoding stops at that layer and
/// keeps what the outer layers said.
public enum Decoder {
    public static let maxVLANTags = 3
    public static let maxMPLSLabels = 8
    public static let maxIPv6ExtensionHeaders = 8

    /// `capturedLength` is what libpcap captured when `frame` holds only its first bytes (a ring
    /// slot keeps a bounded prefix): truncation is judged against it, reads stay inside `frame`.
    public static func decode(_ frame: UnsafeRawBufferPointer, linkType: LinkType, capturedLength: Int? = nil,
                              into packet: inout DecodedPacket) {
        packet.reset(linkType: linkType, capturedLength: max(frame.count, capturedLength ?? frame.count))
        switch linkType {
        case .ethernet:
            ethernet(frame, into: &packet)
        case .linuxSLL:
            linuxSLL(frame, into: &packet)
        case .linuxSLL2:
            linuxSLL2(frame, into: &packet)
        case .null, .loop:
            null(frame, into: &packet)
        case .raw, .rawOpenBSD, .linktypeRaw:
            rawIP(frame, offset: 0, into: &packet)
        case .ipv4:
            ipv4(frame, offset: 0, into: &packet)
        case .ipv6:
            ipv6(frame, offset: 0, into: &packet)
        default:
            break
        }
    }

    /// The network layer named by an EtherType (or the equivalent field of SLL, SLL2, PPP).
    @inline(__always)
    static func network(_ frame: UnsafeRawBufferPointer, etherType: UInt16, offset: Int, into packet: inout DecodedPacket) {
        packet.etherType = etherType
        switch etherType {
        case EtherType.ipv4:
            ipv4(frame, offset: offset, into: &packet)
        case EtherType.ipv6:
            ipv6(frame, offset: offset, into: &packet)
        case EtherType.vlan, EtherType.qinq, EtherType.qinqOld:
            vlan(frame, offset: offset, into: &packet)
        case EtherType.pppoeSession:
            pppoeSession(frame, offset: offset, into: &packet)
        case EtherType.mplsUnicast, EtherType.mplsMulticast:
            mpls(frame, offset: offset, into: &packet)
        case EtherType.fabricPath:
            fabricPath(frame, offset: offset, into: &packet)
        case EtherType.eTag, EtherType.vnTag:
            portExtenderTag(frame, etherType: etherType, offset: offset, into: &packet)
        case EtherType.arp, EtherType.rarp, EtherType.pppoeDiscovery, EtherType.lldp, EtherType.loopback,
             EtherType.slowProtocols, EtherType.eapol, EtherType.ieee1588, EtherType.macsec, EtherType.fcoe,
             EtherType.cfm, EtherType.ipx, EtherType.appletalk, EtherType.aarp, EtherType.decnet, EtherType.wol:
            break  // known, carries no IP
        default:
            if etherType > 1500 { packet.events.insert(.ethernetUnknownEthertype) }
        }
    }

    /// A raw IP packet: the version nibble says which.
    static func rawIP(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        guard offset < frame.count else {
            packet.events.insert(.ipv4PktTooSmall)
            return
        }
        switch frame.u8(offset) >> 4 {
        case 4: network(frame, etherType: EtherType.ipv4, offset: offset, into: &packet)
        case 6: network(frame, etherType: EtherType.ipv6, offset: offset, into: &packet)
        default: packet.events.insert(.iprawInvalidIPVersion)
        }
    }
}

/// EtherTypes the decoder knows.
public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let arp: UInt16 = 0x0806
    public static let wol: UInt16 = 0x0842
    public static let decnet: UInt16 = 0x6003
    public static let rarp: UInt16 = 0x8035
    public static let appletalk: UInt16 = 0x809B
    public static let aarp: UInt16 = 0x80F3
    public static let vlan: UInt16 = 0x8100
    public static let ipx: UInt16 = 0x8137
    public static let ipv6: UInt16 = 0x86DD
    public static let slowProtocols: UInt16 = 0x8809
    public static let mplsUnicast: UInt16 = 0x8847
    public static let mplsMulticast: UInt16 = 0x8848
    public static let pppoeDiscovery: UInt16 = 0x8863
    public static let pppoeSession: UInt16 = 0x8864
    public static let eapol: UInt16 = 0x888E
    public static let qinq: UInt16 = 0x88A8
    public static let lldp: UInt16 = 0x88CC
    public static let macsec: UInt16 = 0x88E5
    public static let ieee1588: UInt16 = 0x88F7
    public static let cfm: UInt16 = 0x8902
    public static let fabricPath: UInt16 = 0x8903
    /// Cisco VN-Tag: 4 bytes of tag, then the EtherType.
    public static let vnTag: UInt16 = 0x8926
    /// IEEE 802.1BR E-Tag: 6 bytes of tag, then the EtherType.
    public static let eTag: UInt16 = 0x893F
    public static let fcoe: UInt16 = 0x8906
    public static let loopback: UInt16 = 0x9000
    public static let qinqOld: UInt16 = 0x9100
}
