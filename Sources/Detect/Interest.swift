import Rules
import Wire

/// Which packets the loaded rules could possibly match, as bitmaps small enough to stay in
/// cache. The engine tracks flows and runs the matcher only for these: on a gateway nearly
/// all traffic is to ports nobody watches, and the abandoned-port rules name single ports.
///
/// A packet is of interest when a TCP/UDP/SCTP rule names its source or destination port (or
/// a rule of its protocol takes any port on both sides), when it is ICMP and an ICMP rule
/// exists, or when any `ip` rule exists (then every IP packet is).
public struct Interest: Sendable {
    /// One bit per port for TCP, UDP and SCTP: 3 × 8 KiB.
    private var ports: [UInt64]
    private var anyPort: (tcp: Bool, udp: Bool, sctp: Bool) = (false, false, false)
    private var icmp = false
    public private(set) var everything = false

    public init(rules: RuleSet) {
        ports = [UInt64](repeating: 0, count: 3 * 1024)
        let all = rules.rules
        // By index: `for rule in all` would copy each rule, a dozen references.
        for i in all.indices {
            let proto = all[i].proto
            switch proto {
            case .ip:
                everything = true
            case .icmp:
                icmp = true
            case .tcp, .udp, .sctp:
                let base: Int
                switch proto {
                case .tcp: base = 0
                case .udp: base = 1024
                default: base = 2048
                }
                guard let side = Rule.watchedPorts(proto: proto, source: all[i].sourcePorts,
                                                   destination: all[i].destinationPorts) else {
                    switch proto {
                    case .tcp: anyPort.tcp = true
                    case .udp: anyPort.udp = true
                    default: anyPort.sctp = true
                    }
                    continue
                }
                for range in side.ranges {
                    for port in range { ports[base + Int(port >> 6)] |= 1 << UInt64(port & 63) }
                }
            }
        }
    }

    /// Whether any rule could match `packet` (either way round, for `<>` and replies).
    @inline(__always)
    public func wants(_ packet: DecodedPacket) -> Bool {
        if everything { return true }
        let base: Int
        let any: Bool
        switch packet.proto as UInt8 {
        case IPProtocol.tcp: base = 0; any = anyPort.tcp
        case IPProtocol.udp: base = 1024; any = anyPort.udp
        case IPProtocol.sctp: base = 2048; any = anyPort.sctp
        case IPProtocol.icmp, IPProtocol.icmpv6: return icmp
        default: return false
        }
        if any { return true }
        guard packet.hasPorts else { return false }
        return isSet(base, packet.dport) || isSet(base, packet.sport)
    }

    @inline(__always)
    private func isSet(_ base: Int, _ port: UInt16) -> Bool {
        ports[base + Int(port >> 6)] & (1 << UInt64(port & 63)) != 0
    }
}
