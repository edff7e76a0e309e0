import Wire

/// ICMP and ICMPv6 message types as flows see them: which ones come in request/reply pairs,
/// and which ones are errors that quote another flow's packet.
public enum ICMPMessage {
    /// The type answering `type` (echo request and reply, and so on), or nil for a one-way type.
    /// The table is the Community ID spec's (itself Zeek's): ICMPv4 echo, router
    /// solicitation/advertisement, timestamp, information and address mask; ICMPv6 echo, MLD
    /// query/report, router and neighbour discovery, node information (WRU) and home agent
    /// address discovery.
    @inline(__always)
    public static func counterpart(of type: UInt8, isICMPv6: Bool) -> UInt8? {
        if isICMPv6 {
            switch type {
            case 128: return 129
            case 129: return 128
            case 130: return 131
            case 131: return 130
            case 133: return 134
            case 134: return 133
            case 135: return 136
            case 136: return 135
            case 139: return 140
            case 140: return 139
            case 144: return 145
            case 145: return 144
            default: return nil
            }
        }
        switch type {
        case 0: return 8
        case 8: return 0
        case 9: return 10
        case 10: return 9
        case 13: return 14
        case 14: return 13
        case 15: return 16
        case 16: return 15
        case 17: return 18
        case 18: return 17
        default: return nil
        }
    }

    /// Types that report on another packet and quote it: ICMPv4 unreachable, source quench,
    /// redirect, time exceeded, parameter problem; ICMPv6 unreachable, too big, time exceeded,
    /// parameter problem. The same list the decoder parses a quote for.
    @inline(__always)
    public static func isError(type: UInt8, isICMPv6: Bool) -> Bool {
        if isICMPv6 { return type >= 1 && type <= 4 }
        switch type {
        case 3, 4, 5, 11, 12: return true
        default: return false
        }
    }

    /// The (sport, dport) a message stands in for, and whether it is one-way: the type and its
    /// counterpart, or, for a type without one, the type and the code (never swapped).
    @inline(__always)
    public static func portEquivalents(type: UInt8, code: UInt8, isICMPv6: Bool) -> (sport: UInt16, dport: UInt16, isOneWay: Bool) {
        if let reply = counterpart(of: type, isICMPv6: isICMPv6) {
            return (UInt16(type), UInt16(reply), false)
        }
        return (UInt16(type), UInt16(code), true)
    }

    /// The tables go by protocol number, not address family, as the Community ID spec's do.
    @inline(__always)
    static func isICMP(_ proto: UInt8) -> Bool {
        proto == IPProtocol.icmp || proto == IPProtocol.icmpv6
    }
}
