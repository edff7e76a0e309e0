/// A loaded ruleset, compiled into per-protocol port tables so matching a packet
/// costs about the same with 10 rules as with 10,000.
///
/// Each rule becomes one oriented entry (two for `<>`: one per way). An entry for
/// TCP, UDP or SCTP is filed under its destination ports or its source ports,
/// whichever is narrower, in a 65,536-slot table whose slots hold small group ids;
/// a group is the list of entries to check. Entries with no narrowing port go to
/// a per-protocol list checked for every packet of that protocol.
public struct RuleSet: Sendable {
    public let rules: [Rule]

    private let compiled: [CompiledRule]
    private let addressSets: AddressTable
    private let portSets: PortTable
    /// TCP, UDP, SCTP in that order.
    private let portIndexes: [PortIndex]
    private let icmpEntries: [UInt32]
    private let ipEntries: [UInt32]
    private let bySid: [SidKey: Int]

    public static let empty = RuleSet(rules: [])

    public var count: Int { rules.count }

    /// The rule with this gid and sid, if loaded.
    public func rule(sid: UInt32, gid: UInt32 = 1) -> Rule? {
        bySid[SidKey(gid: gid, sid: sid)].map { rules[$0] }
    }

    /// Compiles rules as given; sids are assumed unique per gid (the loader checks).
    public init(rules: [Rule]) {
        self.rules = rules
        var addressSets = AddressTable()
        var portSets = PortTable()
        var compiled: [CompiledRule] = []
        compiled.reserveCapacity(rules.count)
        var bySid: [SidKey: Int] = [:]
        bySid.reserveCapacity(rules.count)
        var portEntries = [[IndexedEntry]](repeating: [], count: 3)
        var icmpEntries: [UInt32] = []
        var ipEntries: [UInt32] = []

        for (index, rule) in rules.enumerated() {
            bySid[SidKey(gid: rule.gid, sid: rule.sid)] = bySid[SidKey(gid: rule.gid, sid: rule.sid)] ?? index
            compiled.append(CompiledRule(
                source: addressSets.intern(rule.source),
                destination: addressSets.intern(rule.destination),
                sourcePorts: portSets.intern(rule.sourcePorts),
                destinationPorts: portSets.intern(rule.destinationPorts),
                flags: rule.flags, flow: rule.flow,
                isPass: rule.action == .pass, bidirectional: rule.direction == .both))
            let orientations: [Bool] = rule.direction == .both ? [false, true] : [false]
            for reversed in orientations {
                let entry = UInt32(index) << 1 | (reversed ? 1 : 0)
                switch rule.proto {
                case .ip: ipEntries.append(entry)
                case .icmp: icmpEntries.append(entry)
                case .tcp, .udp, .sctp:
                    let slot = rule.proto == .tcp ? 0 : rule.proto == .udp ? 1 : 2
                    // Seen from this orientation, which ports must the packet carry?
                    let destinationPorts = reversed ? rule.sourcePorts : rule.destinationPorts
                    let sourcePorts = reversed ? rule.destinationPorts : rule.sourcePorts
                    portEntries[slot].append(IndexedEntry(
                        entry: entry, isPass: rule.action == .pass,
                        destinationPorts: destinationPorts, sourcePorts: sourcePorts))
                }
            }
        }
        let orderPassFirst = { (entries: [UInt32]) -> [UInt32] in
            entries.sorted { (compiled[Int($0 >> 1)].isPass ? 0 : 1, $0) < (compiled[Int($1 >> 1)].isPass ? 0 : 1, $1) }
        }
        self.compiled = compiled
        self.addressSets = addressSets
        self.portSets = portSets
        self.portIndexes = portEntries.map { PortIndex(entries: $0) }
        self.icmpEntries = orderPassFirst(icmpEntries)
        self.ipEntries = orderPassFirst(ipEntries)
        self.bySid = bySid
    }

    /// Fills `matches` with the rules that match this packet: the first matching pass
    /// rule (and no alerts), or every matching alert rule in ruleset order.
    ///
    /// Allocates nothing once `matches` has capacity for the alerts.
    public func match(_ packet: PacketFacts, flow: FlowFacts = .unknown, into matches: inout RuleMatches) {
        matches.reset()
        if packet.hasPorts {
            let slot: Int
            switch packet.proto {
            case 6: slot = 0
            case 17: slot = 1
            case 132: slot = 2
            default: slot = -1
            }
            if slot >= 0 {
                let index = portIndexes[slot]
                if !index.isEmpty {
                    if check(index.destination.candidates(packet.dport), packet, flow, &matches)
                        || check(index.source.candidates(packet.sport), packet, flow, &matches)
                        || check(index.anyPort[...], packet, flow, &matches) {
                        return
                    }
                }
            }
        }
        if packet.proto == 1 || packet.proto == 58 {
            if check(icmpEntries[...], packet, flow, &matches) { return }
        }
        if check(ipEntries[...], packet, flow, &matches) { return }
        sortAlerts(&matches.alerts)
    }

    /// Checks candidate entries; true when a pass rule matched (and matching is over).
    @inline(__always)
    private func check(_ entries: ArraySlice<UInt32>, _ packet: PacketFacts, _ flow: FlowFacts,
                       _ matches: inout RuleMatches) -> Bool {
        for entry in entries {
            let index = Int(entry >> 1)
            let rule = compiled[index]
            if let flags = rule.flags {
                guard packet.proto == 6, packet.hasPorts, flags.matches(packet.tcpFlags) else { continue }
            }
            if let ruleFlow = rule.flow, !ruleFlow.matches(flow) { continue }
            let reversed = entry & 1 == 1
            let sourceSet = reversed ? rule.destination : rule.source
            let destinationSet = reversed ? rule.source : rule.destination
            guard addressSets.contains(sourceSet, packet.ipVersion, packet.src),
                  addressSets.contains(destinationSet, packet.ipVersion, packet.dst) else { continue }
            if packet.hasPorts {
                let sourcePorts = reversed ? rule.destinationPorts : rule.sourcePorts
                let destinationPorts = reversed ? rule.sourcePorts : rule.destinationPorts
                guard portSets.contains(sourcePorts, packet.sport),
                      portSets.contains(destinationPorts, packet.dport) else { continue }
            }
            if rule.isPass {
                matches.alerts.removeAll(keepingCapacity: true)
                matches.pass = index
                return true
            }
            // A `<>` rule may match both ways; report it once.
            if rule.bidirectional && matches.alerts.contains(index) { continue }
            matches.alerts.append(index)
        }
        return false
    }

    /// Insertion sort: the list is short and this must not allocate.
    private func sortAlerts(_ alerts: inout [Int]) {
        guard alerts.count > 1 else { return }
        for i in 1..<alerts.count {
            let value = alerts[i]
            var j = i - 1
            while j >= 0 && alerts[j] > value {
                alerts[j + 1] = alerts[j]
                j -= 1
            }
            alerts[j + 1] = value
        }
    }

    /// Memory held by the port tables and groups, for stats.
    public var tableBytes: Int {
        portIndexes.reduce(0) { $0 + $1.byteCount }
    }

    /// How many distinct candidate groups the port tables hold, for stats.
    public var groupCount: Int {
        portIndexes.reduce(0) { $0 + $1.destination.groupCount + $1.source.groupCount }
    }
}

private struct SidKey: Hashable, Sendable {
    var gid: UInt32
    var sid: UInt32
}

/// The per-packet view of a rule: ids into the interned set tables, no references.
private struct CompiledRule: Sendable {
    var source: Int32
    var destination: Int32
    var sourcePorts: Int32
    var destinationPorts: Int32
    var flags: TCPFlagsMatch?
    var flow: FlowMatch?
    var isPass: Bool
    var bidirectional: Bool
}

private struct IndexedEntry {
    var entry: UInt32
    var isPass: Bool
    var destinationPorts: PortSet
    var sourcePorts: PortSet
}

/// Address sets, interned and flattened so a lookup touches two contiguous arrays.
private struct AddressTable: Sendable {
    struct Span: Sendable {
        var v4Start: Int32
        var v4End: Int32
        var v6Start: Int32
        var v6End: Int32
        var anyV4: Bool
        var anyV6: Bool
    }

    var v4: [ClosedRange<UInt32>] = []
    var v6: [ClosedRange<UInt128>] = []
    var spans: [Span] = []
    var ids: [AddressSet: Int32] = [:]

    mutating func intern(_ set: AddressSet) -> Int32 {
        if let id = ids[set] { return id }
        let id = Int32(spans.count)
        spans.append(Span(
            v4Start: Int32(v4.count), v4End: Int32(v4.count + set.v4.ranges.count),
            v6Start: Int32(v6.count), v6End: Int32(v6.count + set.v6.ranges.count),
            anyV4: set.v4.isFull, anyV6: set.v6.isFull))
        v4.append(contentsOf: set.v4.ranges)
        v6.append(contentsOf: set.v6.ranges)
        ids[set] = id
        return id
    }

    @inline(__always)
    func contains(_ id: Int32, _ version: UInt8, _ address: UInt128) -> Bool {
        let span = spans[Int(id)]
        if version == 4 {
            return span.anyV4 || search(v4, Int(span.v4Start), Int(span.v4End), UInt32(truncatingIfNeeded: address))
        }
        return span.anyV6 || search(v6, Int(span.v6Start), Int(span.v6End), address)
    }
}

/// Port sets, interned and flattened like addresses; id 0 is `any`.
private struct PortTable: Sendable {
    var ranges: [ClosedRange<UInt16>] = []
    var spans: [(start: Int32, end: Int32)] = [(0, 0)]
    var ids: [PortSet: Int32] = [:]

    mutating func intern(_ set: PortSet) -> Int32 {
        if set.isFull { return 0 }
        if let id = ids[set] { return id }
        let id = Int32(spans.count)
        spans.append((Int32(ranges.count), Int32(ranges.count + set.ranges.count)))
        ranges.append(contentsOf: set.ranges)
        ids[set] = id
        return id
    }

    @inline(__always)
    func contains(_ id: Int32, _ port: UInt16) -> Bool {
        if id == 0 { return true }
        let span = spans[Int(id)]
        return search(ranges, Int(span.start), Int(span.end), port)
    }
}

@inline(__always)
private func search<T: Comparable>(_ ranges: [ClosedRange<T>], _ start: Int, _ end: Int, _ value: T) -> Bool {
    var low = start
    var high = end
    while low < high {
        let mid = (low &+ high) >> 1
        let range = ranges[mid]
        if value < range.lowerBound {
            high = mid
        } else if value > range.upperBound {
            low = mid &+ 1
        } else {
            return true
        }
    }
    return false
}

/// One protocol's destination- and source-port tables.
private struct PortIndex: Sendable {
    var destination = PortGroups()
    var source = PortGroups()
    var anyPort: [UInt32] = []
    var isEmpty = true

    var byteCount: Int { destination.byteCount + source.byteCount + anyPort.count * 4 }

    init(entries: [IndexedEntry]) {
        guard !entries.isEmpty else { return }
        isEmpty = false
        var destinationKeyed: [KeyedEntry] = []
        var sourceKeyed: [KeyedEntry] = []
        var anyPort: [KeyedEntry] = []
        for item in entries {
            let destinationFull = item.destinationPorts.isFull
            let sourceFull = item.sourcePorts.isFull
            if destinationFull && sourceFull {
                anyPort.append(KeyedEntry(entry: item.entry, isPass: item.isPass, ports: .all))
            } else if destinationFull
                        || (!sourceFull && item.sourcePorts.count < item.destinationPorts.count) {
                sourceKeyed.append(KeyedEntry(entry: item.entry, isPass: item.isPass, ports: item.sourcePorts))
            } else {
                destinationKeyed.append(KeyedEntry(entry: item.entry, isPass: item.isPass, ports: item.destinationPorts))
            }
        }
        destination = PortGroups(destinationKeyed)
        source = PortGroups(sourceKeyed)
        self.anyPort = passFirst(anyPort)
    }
}

private struct KeyedEntry {
    var entry: UInt32
    var isPass: Bool
    var ports: PortSet
}

/// Pass entries first: a matching pass ends the search before any alert is checked.
private func passFirst(_ items: [KeyedEntry]) -> [UInt32] {
    items.sorted { ($0.isPass ? 0 : 1, $0.entry) < ($1.isPass ? 0 : 1, $1.entry) }.map(\.entry)
}

/// 65,536 slots of group ids over interned candidate lists.
///
/// A sweep over range boundaries gives each run of ports the entries covering it.
/// There are at most 65,536 runs, so group ids always fit in UInt16.
private struct PortGroups: Sendable {
    /// Port to group id; empty when no entry is keyed on this side.
    var slots: [UInt16] = []
    /// Group g's entries are members[starts[g]..<starts[g + 1]].
    var starts: [Int32] = [0]
    var members: [UInt32] = []

    var byteCount: Int { slots.count * 2 + starts.count * 4 + members.count * 4 }
    var groupCount: Int { starts.count - 1 }

    init() {}

    init(_ keyed: [KeyedEntry]) {
        guard !keyed.isEmpty else { return }
        var ids: [[UInt32]: UInt16] = [:]
        var slots = [UInt16](repeating: 0, count: 65536)
        var events: [(port: Int, item: Int, opens: Bool)] = []
        for (item, keyedEntry) in keyed.enumerated() {
            for range in keyedEntry.ports.ranges {
                events.append((Int(range.lowerBound), item, true))
                if range.upperBound < UInt16.max { events.append((Int(range.upperBound) + 1, item, false)) }
            }
        }
        events.sort { $0.port < $1.port }
        var active: Set<Int> = []
        var eventIndex = 0
        var port = 0
        while port < 65536 {
            while eventIndex < events.count && events[eventIndex].port == port {
                let event = events[eventIndex]
                if event.opens { active.insert(event.item) } else { active.remove(event.item) }
                eventIndex += 1
            }
            let end = eventIndex < events.count ? events[eventIndex].port : 65536
            let key = passFirst(active.map { keyed[$0] })
            let group: UInt16
            if let id = ids[key] {
                group = id
            } else {
                group = UInt16(starts.count - 1)
                members.append(contentsOf: key)
                starts.append(Int32(members.count))
                ids[key] = group
            }
            for slot in port..<end { slots[slot] = group }
            port = end
        }
        self.slots = slots
    }

    @inline(__always)
    func candidates(_ port: UInt16) -> ArraySlice<UInt32> {
        if slots.isEmpty { return members[0..<0] }
        let g = Int(slots[Int(port)])
        return members[Int(starts[g])..<Int(starts[g + 1])]
    }
}
