/// A malformation the decoder found. Names are Suricata's where Suricata has one; the few it
/// lacks follow the same scheme. Each is counted; none stops the outer layers being reported.
public enum DecodeEvent: UInt8, CaseIterable, Sendable {
    case ethernetPktTooSmall
    case ethernetUnknownEthertype
    case dcePktTooSmall
    case vlanHeaderTooSmall
    case vlanTooManyLayers
    case pppoePktTooSmall
    case pppoeWrongCode
    case pppPktTooSmall
    case pppUnsupProto
    case mplsHeaderTooSmall
    case mplsTooManyLabels
    case mplsUnknownPayloadType
    case sllPktTooSmall
    case sll2PktTooSmall
    case nullPktTooSmall
    case nullUnsupportedType
    case iprawInvalidIPVersion
    case ipv4PktTooSmall
    case ipv4HlenTooSmall
    case ipv4IplenSmallerThanHlen
    case ipv4TruncPkt
    case ipv4WrongIPVersion
    case ipv4OptInvalidLen
    case ipv4OptMalformed
    case ipv6PktTooSmall
    case ipv6TruncPkt
    case ipv6WrongIPVersion
    case ipv6TruncExthdr
    case ipv6ExthdrDuplHH
    case ipv6ExthdrDuplFH
    case ipv6HopoptsNotFirst
    case ipv6ExthdrUselessFH
    case ipv6ExthdrTooMany
    case ipv6DataAfterNoneHeader
    case tcpPktTooSmall
    case tcpHlenTooSmall
    case tcpInvalidOptlen
    case tcpOptInvalidLen
    case udpPktTooSmall
    case udpHlenInvalid
    case udpLenInvalid
    case sctpPktTooSmall
    case icmpv4PktTooSmall
    case icmpv4UnknownType
    case icmpv4IPv4TruncPkt
    case icmpv4IPv4UnknownVer
    case icmpv6PktTooSmall
    case icmpv6UnknownType
    case icmpv6IPv6TruncPkt
    case icmpv6IPv6UnknownVersion
    case grePktTooSmall
    case greWrongVersion
    case greVersion0Recur
    case greVersion0Flags
    case greVersion0HdrTooBig
    case greVersion0MalformedSREHdr
    case erspanHeaderTooSmall
    case erspanUnsupportedVersion
    case vxlanPktTooSmall
    case vxlanInvalidFlags
    case genevePktTooSmall
    case geneveWrongVersion
    case geneveOptionsTooLong
    case geneveUnknownPayloadType
    case teredoPktTooSmall
    case ipv6IPv4InIPv6TooSmall
    case ipv6IPv4InIPv6WrongVersion
    case ipv6IPv6InIPv6TooSmall
    case ipv6IPv6InIPv6WrongVersion
    case tunnelTooManyLayers

    public var name: String {
        switch self {
        case .ethernetPktTooSmall: "decoder.ethernet.pkt_too_small"
        case .ethernetUnknownEthertype: "decoder.ethernet.unknown_ethertype"
        case .dcePktTooSmall: "decoder.dce.pkt_too_small"
        case .vlanHeaderTooSmall: "decoder.vlan.header_too_small"
        case .vlanTooManyLayers: "decoder.vlan.too_many_layers"
        case .pppoePktTooSmall: "decoder.pppoe.pkt_too_small"
        case .pppoeWrongCode: "decoder.pppoe.wrong_code"
        case .pppPktTooSmall: "decoder.ppp.pkt_too_small"
        case .pppUnsupProto: "decoder.ppp.unsup_proto"
        case .mplsHeaderTooSmall: "decoder.mpls.header_too_small"
        case .mplsTooManyLabels: "decoder.mpls.too_many_labels"
        case .mplsUnknownPayloadType: "decoder.mpls.unknown_payload_type"
        case .sllPktTooSmall: "decoder.sll.pkt_too_small"
        case .sll2PktTooSmall: "decoder.sll2.pkt_too_small"
        case .nullPktTooSmall: "decoder.ltnull.pkt_too_small"
        case .nullUnsupportedType: "decoder.ltnull.unsupported_type"
        case .iprawInvalidIPVersion: "decoder.ipraw.invalid_ip_version"
        case .ipv4PktTooSmall: "decoder.ipv4.pkt_too_small"
        case .ipv4HlenTooSmall: "decoder.ipv4.hlen_too_small"
        case .ipv4IplenSmallerThanHlen: "decoder.ipv4.iplen_smaller_than_hlen"
        case .ipv4TruncPkt: "decoder.ipv4.trunc_pkt"
        case .ipv4WrongIPVersion: "decoder.ipv4.wrong_ip_version"
        case .ipv4OptInvalidLen: "decoder.ipv4.opt_invalid_len"
        case .ipv4OptMalformed: "decoder.ipv4.opt_malformed"
        case .ipv6PktTooSmall: "decoder.ipv6.pkt_too_small"
        case .ipv6TruncPkt: "decoder.ipv6.trunc_pkt"
        case .ipv6WrongIPVersion: "decoder.ipv6.wrong_ip_version"
        case .ipv6TruncExthdr: "decoder.ipv6.trunc_exthdr"
        case .ipv6ExthdrDuplHH: "decoder.ipv6.exthdr_dupl_hh"
        case .ipv6ExthdrDuplFH: "decoder.ipv6.exthdr_dupl_fh"
        case .ipv6HopoptsNotFirst: "decoder.ipv6.hopopts_not_first"
        case .ipv6ExthdrUselessFH: "decoder.ipv6.exthdr_useless_fh"
        case .ipv6ExthdrTooMany: "decoder.ipv6.exthdr_too_many"
        case .ipv6DataAfterNoneHeader: "decoder.ipv6.data_after_none_header"
        case .tcpPktTooSmall: "decoder.tcp.pkt_too_small"
        case .tcpHlenTooSmall: "decoder.tcp.hlen_too_small"
        case .tcpInvalidOptlen: "decoder.tcp.invalid_optlen"
        case .tcpOptInvalidLen: "decoder.tcp.opt_invalid_len"
        case .udpPktTooSmall: "decoder.udp.pkt_too_small"
        case .udpHlenInvalid: "decoder.udp.hlen_invalid"
        case .udpLenInvalid: "decoder.udp.len_invalid"
        case .sctpPktTooSmall: "decoder.sctp.pkt_too_small"
        case .icmpv4PktTooSmall: "decoder.icmpv4.pkt_too_small"
        case .icmpv4UnknownType: "decoder.icmpv4.unknown_type"
        case .icmpv4IPv4TruncPkt: "decoder.icmpv4.ipv4_trunc_pkt"
        case .icmpv4IPv4UnknownVer: "decoder.icmpv4.ipv4_unknown_ver"
        case .icmpv6PktTooSmall: "decoder.icmpv6.pkt_too_small"
        case .icmpv6UnknownType: "decoder.icmpv6.unknown_type"
        case .icmpv6IPv6TruncPkt: "decoder.icmpv6.ipv6_trunc_pkt"
        case .icmpv6IPv6UnknownVersion: "decoder.icmpv6.ipv6_unknown_version"
        case .grePktTooSmall: "decoder.gre.pkt_too_small"
        case .greWrongVersion: "decoder.gre.wrong_version"
        case .greVersion0Recur: "decoder.gre.version0_recur"
        case .greVersion0Flags: "decoder.gre.version0_flags"
        case .greVersion0HdrTooBig: "decoder.gre.version0_hdr_too_big"
        case .greVersion0MalformedSREHdr: "decoder.gre.version0_malformed_sre_hdr"
        case .erspanHeaderTooSmall: "decoder.erspan.header_too_small"
        case .erspanUnsupportedVersion: "decoder.erspan.unsupported_version"
        case .vxlanPktTooSmall: "decoder.vxlan.pkt_too_small"
        case .vxlanInvalidFlags: "decoder.vxlan.invalid_flags"
        case .genevePktTooSmall: "decoder.geneve.pkt_too_small"
        case .geneveWrongVersion: "decoder.geneve.wrong_version"
        case .geneveOptionsTooLong: "decoder.geneve.options_too_long"
        case .geneveUnknownPayloadType: "decoder.geneve.unknown_payload_type"
        case .teredoPktTooSmall: "decoder.teredo.pkt_too_small"
        case .ipv6IPv4InIPv6TooSmall: "decoder.ipv6.ipv4_in_ipv6_too_small"
        case .ipv6IPv4InIPv6WrongVersion: "decoder.ipv6.ipv4_in_ipv6_wrong_version"
        case .ipv6IPv6InIPv6TooSmall: "decoder.ipv6.ipv6_in_ipv6_too_small"
        case .ipv6IPv6InIPv6WrongVersion: "decoder.ipv6.ipv6_in_ipv6_wrong_version"
        case .tunnelTooManyLayers: "decoder.tunnel.too_many_layers"
        }
    }

    /// Whether Suricata has this event, by this name: those are EVE's; ghostport's own are
    /// reported in the records' `ghostport` object.
    public var isSuricatas: Bool {
        switch self {
        case .ipv6ExthdrTooMany, .ipv6HopoptsNotFirst, .mplsTooManyLabels, .vxlanPktTooSmall, .vxlanInvalidFlags,
             .genevePktTooSmall, .geneveWrongVersion, .geneveOptionsTooLong, .teredoPktTooSmall, .tunnelTooManyLayers: false
        default: true
        }
    }

    public init?(name: String) {
        guard let event = DecodeEvent.allCases.first(where: { $0.name == name }) else { return nil }
        self = event
    }
}

/// The events of one packet: a bit per event, so recording one never allocates.
public struct DecodeEvents: Sequence, Equatable, Sendable {
    /// One bit per `DecodeEvent`, by raw value (room for 128).
    public static let capacity = 128
    public private(set) var bits: UInt128 = 0

    public init() {}

    public var isEmpty: Bool { bits == 0 }

    @inline(__always)
    public mutating func insert(_ event: DecodeEvent) { bits |= 1 << UInt128(event.rawValue) }

    public func contains(_ event: DecodeEvent) -> Bool { bits & (1 << UInt128(event.rawValue)) != 0 }

    /// Adds one to `counts[event.rawValue]` for each event; `counts` has a slot per bit (`capacity`).
    @inline(__always)
    public func count(into counts: inout [UInt64]) {
        var remaining = bits
        while remaining != 0 {
            counts[remaining.trailingZeroBitCount] &+= 1
            remaining &= remaining - 1
        }
    }

    public func makeIterator() -> Iterator { Iterator(remaining: bits) }

    public struct Iterator: IteratorProtocol {
        var remaining: UInt128

        public mutating func next() -> DecodeEvent? {
            guard remaining != 0 else { return nil }
            let index = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            return DecodeEvent(rawValue: UInt8(index))
        }
    }
}
