import Rules
import Wire

/// The watched (abandoned) ports a ruleset names, with the registry's service for each.
///
/// A port is watched when an alert rule with `metadata: ghostport_role ...` names it (the
/// shipped rules do). A ruleset with no such rule watches every port its TCP, UDP and SCTP
/// alert rules name specifically, so hand-written rules get verdicts too.
public struct Watchlist: Sendable {
    /// One slot per port and protocol: 0 unwatched, else 1 + index into `services`.
    private var slots: [UInt16]
    public private(set) var services: [String]
    public private(set) var count = 0

    static func protocolIndex(_ proto: UInt8) -> Int? {
        switch proto {
        case IPProtocol.tcp: 0
        case IPProtocol.udp: 1
        case IPProtocol.sctp: 2
        default: nil
        }
    }

    public init(rules: RuleSet) {
        slots = [UInt16](repeating: 0, count: 3 * 65_536)
        services = []
        let all = rules.rules
        let tagged = all.contains { $0.action.alerts && $0.metadata["ghostport_role"] != nil }
        var serviceIndex: [String: UInt16] = [:]
        // By index: `for rule in all` would copy each rule, a dozen references.
        for i in all.indices where all[i].action.alerts {
            guard let number = all[i].proto.number, let p = Self.protocolIndex(number) else { continue }
            let role = all[i].metadata["ghostport_role"]?.first
            if tagged && role == nil { continue }
            // The probe rule names the port as destination; the answered rule as source.
            let ports = role == "answered" ? all[i].sourcePorts : all[i].destinationPorts
            guard !ports.isFull, Int(ports.count) <= 4096 else { continue }
            let service = all[i].metadata["service"]?.first ?? ""
            let index: UInt16
            if let known = serviceIndex[service] {
                index = known
            } else {
                services.append(service)
                index = UInt16(services.count)
                serviceIndex[service] = index
            }
            for range in ports.ranges {
                for port in range where slots[p * 65_536 + Int(port)] == 0 {
                    slots[p * 65_536 + Int(port)] = index
                    count += 1
                }
            }
        }
    }

    @inline(__always)
    public func isWatched(port: UInt16, proto: UInt8) -> Bool {
        guard let p = Self.protocolIndex(proto) else { return false }
        return slots[p * 65_536 + Int(port)] != 0
    }

    /// The registry's service name for a watched port, or nil when it is not watched.
    public func service(port: UInt16, proto: UInt8) -> String? {
        guard let p = Self.protocolIndex(proto) else { return nil }
        let slot = slots[p * 65_536 + Int(port)]
        return slot == 0 ? nil : services[Int(slot) - 1]
    }
}
