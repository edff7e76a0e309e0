import Rules
import Wire

/// `--kernel-filter` / `capture.kernel_filter`.
public enum KernelFilterMode: String, Sendable, Equatable, CaseIterable {
    /// Install the rules' filter when every rule is port-specific; otherwise say why not.
    case auto
    case off
}

/// A capture filter in pcap-filter(7) syntax made from the loaded rules, for the kernel to run
/// before a packet is copied to the sensor. It keeps every packet `Prefilter` could keep (and a
/// few more): TCP/UDP/SCTP packets with a watched port on either side, over IPv4 and IPv6, plain
/// and behind a VLAN tag; ICMP and ICMPv6 errors, which quote watched packets; IPv4 fragments
/// after the first and IPv6 packets with extension headers, whose ports the filter cannot
/// see; and every frame that is not plain IP (MPLS, PPPoE, stacked tags ...), which it cannot
/// judge. The prefilter still decides precisely what reaches the engine.
public struct KernelFilter: Sendable, Equatable {
    public var tcp = PortSet()
    public var udp = PortSet()
    public var sctp = PortSet()
    /// An ICMP rule exists: every ICMP and ICMPv6 packet is kept, not only errors.
    public var allICMP = false
    /// Tunnels are decoded: their packets may carry a watched inner port. Nil when off.
    public var tunnels: TunnelPorts?

    /// Why no kernel filter can stand in for the rules.
    public struct Unavailable: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public init(reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    public init(tcp: PortSet = PortSet(), udp: PortSet = PortSet(), sctp: PortSet = PortSet(), allICMP: Bool = false,
                tunnels: TunnelPorts? = nil) {
        self.tcp = tcp
        self.udp = udp
        self.sctp = sctp
        self.allICMP = allICMP
        self.tunnels = tunnels
    }

    /// The filter for `rules`, or why there is none: an `ip` rule or a rule that takes any port
    /// on both sides wants packets no port test can pick out, and anomaly records want them all.
    public static func make(rules: RuleSet, anomalies: Bool, tunnels: TunnelPorts = TunnelPorts()) -> Result<KernelFilter, Unavailable> {
        if anomalies {
            return .failure(Unavailable(reason: "anomaly records are on, and they need every packet"))
        }
        var filter = KernelFilter(tunnels: tunnels.enabled ? tunnels : nil)
        var tcp: [ClosedRange<UInt16>] = [], udp: [ClosedRange<UInt16>] = [], sctp: [ClosedRange<UInt16>] = []
        for rule in rules.rules {
            switch rule.proto {
            case .ip:
                return .failure(Unavailable(reason: "rule sid \(rule.sid) is an ip rule, which matches any packet"))
            case .icmp:
                filter.allICMP = true
            case .tcp, .udp, .sctp:
                guard let ports = rule.watchedPorts else {
                    return .failure(Unavailable(reason: "rule sid \(rule.sid) matches any \(rule.proto.rawValue) port"))
                }
                switch rule.proto {
                case .tcp: tcp += ports.ranges
                case .udp: udp += ports.ranges
                default: sctp += ports.ranges
                }
            }
        }
        filter.tcp = PortSet(tcp)
        filter.udp = PortSet(udp)
        filter.sctp = PortSet(sctp)
        return .success(filter)
    }

    /// `382 tcp + 185 udp + 7 sctp ports in 259 ranges`, plus `, all ICMP` when ICMP rules exist.
    public var summary: String {
        let parts = [("tcp", tcp), ("udp", udp), ("sctp", sctp)].filter { !$0.1.isEmpty }.map { "\($0.1.count) \($0.0)" }
        let ranges = tcp.ranges.count + udp.ranges.count + sctp.ranges.count
        let ports = Int(tcp.count) + Int(udp.count) + Int(sctp.count)
        var text = parts.isEmpty ? "no ports"
            : "\(parts.joined(separator: " + ")) port\(ports == 1 ? "" : "s") in \(ranges) range\(ranges == 1 ? "" : "s")"
        if allICMP { text += ", all ICMP" }
        if let tunnels {
            text += ", tunnels (GRE, IP in IP, VXLAN \(tunnels.vxlanPorts.map(String.init).joined(separator: "/"))"
            if tunnels.geneve != 0 { text += ", GENEVE \(tunnels.geneve)" }
            if tunnels.teredo != 0 { text += ", Teredo \(tunnels.teredo)" }
            text += ")"
        }
        return text
    }

    /// The expression. `vlan` (Ethernet only: libpcap knows `vlan` for few other link types)
    /// repeats the tests behind one 802.1Q/802.1ad tag; deeper stacks are kept whole. Ranges
    /// closer than `gap` unwatched ports are merged (`taggedGap` behind a tag), which makes the
    /// program smaller at the price of a few more packets for the prefilter to turn away.
    ///
    /// libpcap's `vlan` shifts the offsets of everything after it, so the tagged part comes
    /// last. On Linux a received frame's outer tag is usually already in metadata when the
    /// filter runs, so the untagged tests see its IP header.
    public func expression(vlan: Bool, gap: Int = 0, taggedGap: Int = 0) -> String {
        let plain = candidates(gap: gap)
        guard vlan else { return "\(plain) or not (ip or ip6)" }
        return "\(plain) or not (ip or ip6 or ether proto 0x8100 or ether proto 0x88a8 or ether proto 0x9100)"
            + " or (vlan and (not (ip or ip6) or \(candidates(gap: taggedGap))))"
    }

    /// The packets worth a look at the current offsets.
    private func candidates(gap: Int) -> String {
        var terms: [String] = []
        for (name, set) in [("tcp", tcp), ("udp", udp), ("sctp", sctp)] {
            let merged = Self.merged(set, gap: gap)
            // Two `port` tests cost less than a `portrange` (libpcap shares the port loads).
            let singles = merged.ranges.filter { $0.count <= 2 }.flatMap { $0 }
            terms += singles.map { "\(name) port \($0)" }
            terms += merged.ranges.filter { $0.count > 2 }.map { "\(name) portrange \($0.lowerBound)-\($0.upperBound)" }
        }
        if allICMP {
            terms.append("icmp or icmp6")
        } else {
            // Errors (unreachable, quench, redirect, time exceeded, parameter problem) quote a packet.
            terms.append("icmp[0] = 3 or icmp[0] = 4 or icmp[0] = 5 or icmp[0] = 11 or icmp[0] = 12")
            terms.append("(icmp6 and ip6[40] >= 1 and ip6[40] <= 4)")
        }
        // Tunnels: what they carry is not visible at these offsets.
        if let tunnels {
            terms.append("ip proto 47 or ip proto 4 or ip proto 41 or ip6 proto 47 or ip6 proto 4 or ip6 proto 41")
            terms += tunnels.vxlanPorts.map { "udp dst port \($0)" }
            if tunnels.geneve != 0 { terms.append("udp dst port \(tunnels.geneve)") }
            if tunnels.teredo != 0 { terms.append("udp port \(tunnels.teredo)") }
        }
        // Later IPv4 fragments carry no ports; an IPv6 extension header hides them from libpcap.
        terms.append("ip[6:2] & 0x1fff != 0")
        terms.append("ip6[6] = 0 or ip6[6] = 43 or ip6[6] = 44 or ip6[6] = 60")
        return "(" + terms.joined(separator: " or ") + ")"
    }

    /// `set` with every gap of at most `gap` ports filled.
    public static func merged(_ set: PortSet, gap: Int) -> PortSet {
        guard gap > 0 else { return set }
        var ranges: [ClosedRange<UInt16>] = []
        for range in set.ranges {
            if let last = ranges.last, Int(range.lowerBound) - Int(last.upperBound) - 1 <= gap {
                ranges[ranges.count - 1] = last.lowerBound...range.upperBound
            } else {
                ranges.append(range)
            }
        }
        return PortSet(ranges)
    }
}
