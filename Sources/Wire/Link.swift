// Link layers: Ethernet with VLAN tags, PPPoE, MPLS, Linux cooked SLL/SLL2, BSD null/loop.

enum EthernetField {
    static let etherType = 12
    static let headerLength = 14
}

enum DCEField {
    static let tagLength = 2
}

enum VLANField {
    static let tci = 0
    static let etherType = 2
    static let headerLength = 4
}

enum PPPoEField {
    static let versionType = 0
    static let code = 1
    static let headerLength = 6
    static let pppHeaderLength = 2
}

enum PPPProtocol {
    static let ipv4: UInt16 = 0x0021
    static let ipv6: UInt16 = 0x0057
}

enum SLLField {
    static let hatype = 2
    static let protocolType = 14
    static let headerLength = 16
}

enum SLL2Field {
    static let protocolType = 0
    static let hatype = 8
    static let headerLength = 20
}

enum ARPHRD {
    static let ipgre: UInt16 = 778
    static let netlink: UInt16 = 824
}

/// BSD address families a NULL/LOOP header names.
enum NullFamily {
    static let inet: UInt32 = 2
    /// Linux, NetBSD/OpenBSD, FreeBSD, macOS.
    static func isInet6(_ family: UInt32) -> Bool { family == 10 || family == 24 || family == 28 || family == 30 }
}

extension Decoder {
    static func ethernet(_ frame: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        guard frame.count >= EthernetField.headerLength else {
            packet.events.insert(.ethernetPktTooSmall)
            return
        }
        let etherType = frame.u16(EthernetField.etherType)
        // Below 1536 the field is an 802.3 length: an LLC frame, no IP.
        guard etherType >= 0x0600 else { return }
        network(frame, etherType: etherType, offset: EthernetField.headerLength, into: &packet)
    }

    static func vlan(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        guard packet.vlanCount + packet.extenderTags < maxVLANTags else {
            packet.events.insert(.vlanTooManyLayers)
            return
        }
        guard frame.count >= offset + VLANField.headerLength else {
            packet.events.insert(.vlanHeaderTooSmall)
            return
        }
        let id = frame.u16(offset + VLANField.tci) & 0x0FFF
        switch packet.vlanCount {
        case 0: packet.vlanIDs.0 = id
        case 1: packet.vlanIDs.1 = id
        default: packet.vlanIDs.2 = id
        }
        packet.vlanCount += 1
        network(frame, etherType: frame.u16(offset + VLANField.etherType), offset: offset + VLANField.headerLength, into: &packet)
    }

    static func pppoeSession(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        guard frame.count >= offset + PPPoEField.headerLength else {
            packet.events.insert(.pppoePktTooSmall)
            return
        }
        guard frame.u8(offset + PPPoEField.code) == 0 else {
            packet.events.insert(.pppoeWrongCode)
            return
        }
        let ppp = offset + PPPoEField.headerLength
        guard frame.count > ppp else {
            packet.events.insert(.pppPktTooSmall)
            return
        }
        // RFC 1661 protocol-field compression: an odd first byte is the whole protocol.
        let compressed = frame.u8(ppp) & 1 == 1
        let payload = ppp + (compressed ? 1 : PPPoEField.pppHeaderLength)
        guard frame.count >= payload else {
            packet.events.insert(.pppPktTooSmall)
            return
        }
        let pppProtocol = compressed ? UInt16(frame.u8(ppp)) : frame.u16(ppp)
        switch pppProtocol {
        case PPPProtocol.ipv4:
            network(frame, etherType: EtherType.ipv4, offset: payload, into: &packet)
        case PPPProtocol.ipv6:
            network(frame, etherType: EtherType.ipv6, offset: payload, into: &packet)
        case let proto where proto & 0x8000 != 0 || proto < 0x0021:
            break  // link control (LCP, IPCP, PAP, CHAP ...): no IP
        default:
            packet.events.insert(.pppUnsupProto)
        }
    }

    static func mpls(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        var position = offset
        for _ in 0..<maxMPLSLabels {
            guard frame.count >= position + 4 else {
                packet.events.insert(.mplsHeaderTooSmall)
                return
            }
            let entry = frame.u32(position)
            position += 4
            guard entry & 0x100 != 0 else { continue }  // bottom of stack not reached
            let label = entry >> 12
            switch label {
            case 0: ipv4(frame, offset: position, into: &packet)  // IPv4 explicit null
            case 2: ipv6(frame, offset: position, into: &packet)  // IPv6 explicit null
            default:
                guard position < frame.count else {
                    packet.events.insert(.mplsHeaderTooSmall)
                    return
                }
                switch frame.u8(position) >> 4 {
                case 4: ipv4(frame, offset: position, into: &packet)
                case 6: ipv6(frame, offset: position, into: &packet)
                default: packet.events.insert(.mplsUnknownPayloadType)  // pseudowire or other
                }
            }
            return
        }
        packet.events.insert(.mplsTooManyLabels)
    }

    /// Cisco FabricPath (DCE): two bytes of tag, then a whole inner Ethernet header.
    static func fabricPath(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        guard !packet.insideFabricPath else {
            packet.events.insert(.ethernetUnknownEthertype)
            return
        }
        let inner = offset + DCEField.tagLength
        guard frame.count >= inner + EthernetField.headerLength else {
            packet.events.insert(.dcePktTooSmall)
            return
        }
        packet.insideFabricPath = true
        let etherType = frame.u16(inner + EthernetField.etherType)
        guard etherType >= 0x0600 else { return }
        network(frame, etherType: etherType, offset: inner + EthernetField.headerLength, into: &packet)
    }

    /// Port-extender tags (802.1BR E-Tag, Cisco VN-Tag) sit where a VLAN tag would and count
    /// against the same depth.
    static func portExtenderTag(_ frame: UnsafeRawBufferPointer, etherType: UInt16, offset: Int,
                                into packet: inout DecodedPacket) {
        guard packet.vlanCount + packet.extenderTags < maxVLANTags else {
            packet.events.insert(.vlanTooManyLayers)
            return
        }
        let tagLength = etherType == EtherType.eTag ? 6 : 4
        guard frame.count >= offset + tagLength + 2 else {
            packet.events.insert(.vlanHeaderTooSmall)
            return
        }
        packet.extenderTags += 1
        network(frame, etherType: frame.u16(offset + tagLength), offset: offset + tagLength + 2, into: &packet)
    }

    static func linuxSLL(_ frame: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        guard frame.count >= SLLField.headerLength else {
            packet.events.insert(.sllPktTooSmall)
            return
        }
        cooked(frame, hatype: frame.u16(SLLField.hatype), protocolType: frame.u16(SLLField.protocolType),
               offset: SLLField.headerLength, into: &packet)
    }

    static func linuxSLL2(_ frame: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        guard frame.count >= SLL2Field.headerLength else {
            packet.events.insert(.sll2PktTooSmall)
            return
        }
        cooked(frame, hatype: frame.u16(SLL2Field.hatype), protocolType: frame.u16(SLL2Field.protocolType),
               offset: SLL2Field.headerLength, into: &packet)
    }

    private static func cooked(_ frame: UnsafeRawBufferPointer, hatype: UInt16, protocolType: UInt16, offset: Int,
                               into packet: inout DecodedPacket) {
        // Netlink and GRE devices put something other than an EtherType in the protocol field.
        guard hatype != ARPHRD.netlink && hatype != ARPHRD.ipgre else { return }
        // Values below 1536 are Linux's own (802.3, 802.2, CAN ...): no IP.
        guard protocolType >= 0x0600 else { return }
        network(frame, etherType: protocolType, offset: offset, into: &packet)
    }

    /// DLT_NULL's family is in the capturing host's byte order; DLT_LOOP's in network order.
    /// Either way, read it both ways and take the one that is a small number.
    static func null(_ frame: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        guard frame.count >= 4 else {
            packet.events.insert(.nullPktTooSmall)
            return
        }
        let bigEndian = frame.u32(0)
        let family = bigEndian & 0xFFFF_0000 == 0 ? bigEndian : bigEndian.byteSwapped
        if family == NullFamily.inet {
            network(frame, etherType: EtherType.ipv4, offset: 4, into: &packet)
        } else if NullFamily.isInet6(family) {
            network(frame, etherType: EtherType.ipv6, offset: 4, into: &packet)
        } else {
            packet.events.insert(.nullUnsupportedType)
        }
    }
}
