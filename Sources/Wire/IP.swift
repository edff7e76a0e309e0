// IPv4 (header length, options, total length, fragments) and IPv6 with its extension headers.

enum IPv4Field {
    static let versionIHL = 0
    static let totalLength = 2
    static let flagsFragment = 6
    static let proto = 9
    static let src = 12
    static let dst = 16
    static let minHeaderLength = 20
}

enum IPv6Field {
    static let payloadLength = 4
    static let nextHeader = 6
    static let src = 8
    static let dst = 24
    static let headerLength = 40
}

public enum IPProtocol {
    public static let hopByHop: UInt8 = 0
    public static let icmp: UInt8 = 1
    /// IPv4 encapsulated in IP.
    public static let ipv4: UInt8 = 4
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    /// IPv6 encapsulated in IP.
    public static let ipv6: UInt8 = 41
    public static let routing: UInt8 = 43
    public static let fragment: UInt8 = 44
    public static let gre: UInt8 = 47
    public static let esp: UInt8 = 50
    public static let icmpv6: UInt8 = 58
    public static let noNextHeader: UInt8 = 59
    public static let destinationOptions: UInt8 = 60
    public static let sctp: UInt8 = 132
}

extension Decoder {
    static func ipv4(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        let available = frame.count - offset
        guard available >= IPv4Field.minHeaderLength else {
            packet.events.insert(.ipv4PktTooSmall)
            return
        }
        let versionIHL = frame.u8(offset + IPv4Field.versionIHL)
        guard versionIHL >> 4 == 4 else {
            packet.events.insert(.ipv4WrongIPVersion)
            return
        }
        packet.ipVersion = 4
        packet.l3Offset = offset
        packet.src = IPAddress(ipv4: frame.u32(offset + IPv4Field.src))
        packet.dst = IPAddress(ipv4: frame.u32(offset + IPv4Field.dst))
        packet.proto = frame.u8(offset + IPv4Field.proto)
        let headerLength = Int(versionIHL & 0x0F) * 4
        let totalLength = Int(frame.u16(offset + IPv4Field.totalLength))
        packet.ipLength = totalLength
        guard headerLength >= IPv4Field.minHeaderLength else {
            packet.events.insert(.ipv4HlenTooSmall)
            return
        }
        guard available >= headerLength else {
            packet.events.insert(.ipv4PktTooSmall)
            return
        }
        guard totalLength >= headerLength else {
            packet.events.insert(.ipv4IplenSmallerThanHlen)
            return
        }
        if headerLength > IPv4Field.minHeaderLength {
            ipv4Options(frame.slice(from: offset + IPv4Field.minHeaderLength, length: headerLength - IPv4Field.minHeaderLength),
                        into: &packet)
        }
        // A snapped capture keeps decoding what is there; Ethernet padding past the total length is not IP.
        if totalLength > packet.capturedLength - offset { packet.events.insert(.ipv4TruncPkt) }
        let end = offset + min(totalLength, available)
        let flagsFragment = frame.u16(offset + IPv4Field.flagsFragment)
        let fragmentOffset = flagsFragment & 0x1FFF
        if flagsFragment & 0x2000 != 0 || fragmentOffset != 0 {
            packet.isFragment = true
            if fragmentOffset != 0 {
                packet.isLaterFragment = true
                return
            }
        }
        transport(frame, proto: packet.proto, offset: offset + headerLength, end: end, into: &packet)
    }

    /// Walks the options only to report malformed ones; ghostport reads none of them.
    private static func ipv4Options(_ options: UnsafeRawBufferPointer, into packet: inout DecodedPacket) {
        var position = 0
        while position < options.count {
            let kind = options.u8(position)
            if kind == 0 { return }  // end of options list
            if kind == 1 { position += 1; continue }  // no-operation
            guard position + 1 < options.count else {
                packet.events.insert(.ipv4OptMalformed)
                return
            }
            let length = Int(options.u8(position + 1))
            guard length >= 2 else {
                packet.events.insert(.ipv4OptInvalidLen)
                return
            }
            guard position + length <= options.count else {
                packet.events.insert(.ipv4OptMalformed)
                return
            }
            position += length
        }
    }

    static func ipv6(_ frame: UnsafeRawBufferPointer, offset: Int, into packet: inout DecodedPacket) {
        let available = frame.count - offset
        guard available >= IPv6Field.headerLength else {
            packet.events.insert(.ipv6PktTooSmall)
            return
        }
        guard frame.u8(offset) >> 4 == 6 else {
            packet.events.insert(.ipv6WrongIPVersion)
            return
        }
        packet.ipVersion = 6
        packet.l3Offset = offset
        packet.src = IPAddress(high: frame.u64(offset + IPv6Field.src), low: frame.u64(offset + IPv6Field.src + 8), isIPv6: true)
        packet.dst = IPAddress(high: frame.u64(offset + IPv6Field.dst), low: frame.u64(offset + IPv6Field.dst + 8), isIPv6: true)
        let payloadLength = Int(frame.u16(offset + IPv6Field.payloadLength))
        packet.ipLength = IPv6Field.headerLength + payloadLength
        var next = frame.u8(offset + IPv6Field.nextHeader)
        // A zero payload length is a jumbogram, or a Linux BIG TCP/GSO packet captured before
        // segmentation: take what was captured. With no next header it is only link padding.
        var end = offset + IPv6Field.headerLength
        if payloadLength > 0 {
            if IPv6Field.headerLength + payloadLength > available {
                if IPv6Field.headerLength + payloadLength > packet.capturedLength - offset {
                    packet.events.insert(.ipv6TruncPkt)
                }
                end = frame.count
            } else {
                end = offset + IPv6Field.headerLength + payloadLength
            }
        } else if next != IPProtocol.noNextHeader {
            end = frame.count
        }
        var position = offset + IPv6Field.headerLength
        var seenHopByHop = false, seenFragment = false
        var headers = 0
        chain: while true {
            switch next {
            case IPProtocol.hopByHop, IPProtocol.routing, IPProtocol.destinationOptions, IPProtocol.fragment:
                guard headers < maxIPv6ExtensionHeaders else {
                    packet.events.insert(.ipv6ExthdrTooMany)
                    packet.proto = next
                    return
                }
                headers += 1
                if next == IPProtocol.hopByHop {
                    if seenHopByHop { packet.events.insert(.ipv6ExthdrDuplHH) }
                    if headers > 1 { packet.events.insert(.ipv6HopoptsNotFirst) }
                    seenHopByHop = true
                }
                let length: Int
                if next == IPProtocol.fragment {
                    length = 8
                } else {
                    guard end - position >= 2 else {
                        packet.events.insert(.ipv6TruncExthdr)
                        packet.proto = next
                        return
                    }
                    length = (Int(frame.u8(position + 1)) + 1) * 8
                }
                guard end - position >= length else {
                    packet.events.insert(.ipv6TruncExthdr)
                    packet.proto = next
                    return
                }
                if next == IPProtocol.fragment {
                    if seenFragment { packet.events.insert(.ipv6ExthdrDuplFH) }
                    seenFragment = true
                    let offsetFlags = frame.u16(position + 2)
                    let fragmentOffset = offsetFlags >> 3
                    let more = offsetFlags & 1 != 0
                    if fragmentOffset == 0 && !more {
                        packet.events.insert(.ipv6ExthdrUselessFH)  // an atomic fragment: nothing was split
                    } else {
                        packet.isFragment = true
                    }
                    if fragmentOffset != 0 {
                        // What follows is the middle of the original packet, not headers.
                        packet.isLaterFragment = true
                        packet.proto = frame.u8(position)
                        return
                    }
                }
                next = frame.u8(position)
                position += length
            default:
                break chain
            }
        }
        packet.proto = next
        if next == IPProtocol.noNextHeader {
            if end > position { packet.events.insert(.ipv6DataAfterNoneHeader) }
            return
        }
        guard !packet.isLaterFragment else { return }
        transport(frame, proto: next, offset: position, end: end, into: &packet)
    }
}

extension IPProtocol {
    /// The protocol's keyword as EVE's `proto` spells it (Suricata's names, IANA's keywords),
    /// nil for 144-255, which EVE writes as the number in a string.
    public static func name(_ proto: UInt8) -> String? { keyword(proto).map { "\($0)" } }

    /// `name` as static text, which records append without a reference count.
    @inline(__always)
    public static func keyword(_ proto: UInt8) -> StaticString? {
        Int(proto) < keywords.count ? keywords[Int(proto)] : nil
    }

    /// IANA's protocol keywords for 0-143 as Suricata writes them (4 is `IP-in-IP`; the five
    /// "any ..." entries are `Any`): a consumer of Suricata's EVE meets the same strings.
    static let keywords: [StaticString] = [
        "HOPOPT", "ICMP", "IGMP", "GGP", "IP-in-IP", "ST", "TCP", "CBT",  // 0-7
        "EGP", "IGP", "BBN-RCC-MON", "NVP-II", "PUP", "ARGUS", "EMCON", "XNET",  // 8-15
        "CHAOS", "UDP", "MUX", "DCN-MEAS", "HMP", "PRM", "XNS-IDP", "TRUNK-1",  // 16-23
        "TRUNK-2", "LEAF-1", "LEAF-2", "RDP", "IRTP", "ISO-TP4", "NETBLT", "MFE-NSP",  // 24-31
        "MERIT-INP", "DCCP", "3PC", "IDPR", "XTP", "DDP", "IDPR-CMTP", "TP++",  // 32-39
        "IL", "IPv6", "SDRP", "IPv6-Route", "IPv6-Frag", "IDRP", "RSVP", "GRE",  // 40-47
        "DSR", "BNA", "ESP", "AH", "I-NLSP", "SwIPe", "NARP", "MOBILE",  // 48-55
        "TLSP", "SKIP", "IPv6-ICMP", "IPv6-NoNxt", "IPv6-Opts", "Any", "CFTP", "Any",  // 56-63
        "SAT-EXPAK", "KRYPTOLAN", "RVD", "IPPC", "Any", "SAT-MON", "VISA", "IPCU",  // 64-71
        "CPNX", "CPHB", "WSN", "PVP", "BR-SAT-MON", "SUN-ND", "WB-MON", "WB-EXPAK",  // 72-79
        "ISO-IP", "VMTP", "SECURE-VMTP", "VINES", "TTP", "NSFNET-IGP", "DGP", "TCF",  // 80-87
        "EIGRP", "OSPF", "Sprite-RPC", "LARP", "MTP", "AX.25", "OS", "MICP",  // 88-95
        "SCC-SP", "ETHERIP", "ENCAP", "Any", "GMTP", "IFMP", "PNNI", "PIM",  // 96-103
        "ARIS", "SCPS", "QNX", "A/N", "IPComp", "SNP", "Compaq-Peer", "IPX-in-IP",  // 104-111
        "VRRP", "PGM", "Any", "L2TP", "DDX", "IATP", "STP", "SRP",  // 112-119
        "UTI", "SMP", "SM", "PTP", "IS-IS", "FIRE", "CRTP", "CRUDP",  // 120-127
        "SSCOPMCE", "IPLT", "SPS", "PIPE", "SCTP", "FC", "RSVP-E2E-IGNORE", "Mobility",  // 128-135
        "UDPLite", "MPLS-in-IP", "manet", "HIP", "Shim6", "WESP", "ROHC", "Ethernet",  // 136-143
    ]
}
