/// A loaded ruleset, compiled into per-protocol port tables so matching a packet
/// costs about the same with 10 rules as with 10,000.
///
/// Each rule becomes one oriented entry (two for `<>`: one per way). An entry for
/// TCP, UDP or SCTP is filed under its destination ports or its source ports,
/// whichever is narrower, in a 65,536-slot table whose slots hold small group ids;
/// a group is the list of entries to check. Entries with no narrowing port go to
/// a per-protocol list checked for every packet of that protocol.
public struct RuleSet: Sendable {
    /// Everything in one reference: a caller holding the set in a class property copies it
    /// per packet, and one retain is what that copy should cost.
    private let compiled: Compiled

    private final class Compiled: Sendable {
        let rules: [Rule]
        let tables: MatchTables
        let bySid: [SidKey: Int]

        init(rules: [Rule], tables: MatchTables, bySid: [SidKey: Int]) {
            self.rules = rules
            self.tables = tables
            self.bySid = bySid
        }
    }

    public var rules: [Rule] { compiled.rules }

    public static let empty = RuleSet(rules: [])

    public var count: Int { compiled.rules.count }

    /// The rule with this gid and sid, if loaded.
    public func rule(sid: UInt32, gid: UInt32 = 1) -> Rule? {
        compiled.bySid[SidKey(gid: gid, sid: sid)].map { compiled.rules[$0] }
    }

    /// Memory held by the port tables and candidate lists, for stats.
    public var tableBytes: Int { compiled.tables.byteCount }

    /// How many distinct candidate groups the port tables hold, for stats.
    public var groupCount: Int { compiled.tables.groupCount }

    /// Compiles rules as given; sids are assumed unique per gid (the loader checks).
    public init(rules: [Rule]) {
        var bySid: [SidKey: Int] = [:]
        bySid.reserveCapacity(rules.count)
        // By index: `for rule in rules` would copy each rule, a dozen references.
        for index in rules.indices {
            let key = SidKey(gid: rules[index].gid, sid: rules[index].sid)
            if bySid[key] == nil { bySid[key] = index }
        }
        compiled = Compiled(rules: rules, tables: MatchTables(rules), bySid: bySid)
    }

    /// Fills `matches` with the rules that match this packet: the first matching pass
    /// rule (and no alerts), or every matching alert rule in ruleset order.
    ///
    /// Allocates nothing once `matches` has capacity for the alerts.
    public func match(_ packet: PacketFacts, flow: FlowFacts = .unknown, into matches: inout RuleMatches) {
        matches.reset()
        let tables = compiled.tables
        if packet.hasPorts {
            let proto: Int
            switch packet.proto {
            case 6: proto = 0
            case 17: proto = 1
            case 132: proto = 2
            default: proto = -1
            }
            if proto >= 0 {
                let destination = tables.candidates(side: proto * 2, port: packet.dport)
                let source = tables.candidates(side: proto * 2 + 1, port: packet.sport)
                let anyPort = tables.lists[proto]
                // Most ranges are empty: test that here rather than call into `check` for it.
                if !destination.isEmpty && tables.check(destination, packet, flow, &matches)
                    || !source.isEmpty && tables.check(source, packet, flow, &matches)
                    || !anyPort.isEmpty && tables.check(anyPort, packet, flow, &matches) {
                    return
                }
            }
        }
        if packet.proto == 1 || packet.proto == 58 {
            let icmp = tables.lists[MatchTables.icmpList]
            if !icmp.isEmpty && tables.check(icmp, packet, flow, &matches) { return }
        }
        let ip = tables.lists[MatchTables.ipList]
        if !ip.isEmpty && tables.check(ip, packet, flow, &matches) { return }
        sortAlerts(&matches.alerts)
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
}

private struct SidKey: Hashable, Sendable {
    var gid: UInt32
    var sid: UInt32
}

/// The per-packet view of a rule: ids into the interned set tables, no references.
private struct CompiledRule: BitwiseCopyable {
    var source: Int32
    var destination: Int32
    var sourcePorts: Int32
    var destinationPorts: Int32
    var flags: TCPFlagsMatch?
    var flow: FlowMatch?
    var dsize: IntegerMatch?
    var flowPackets: FlowPacketsMatches
    var isPass: Bool
    var bidirectional: Bool
}

private struct AddressSpan: BitwiseCopyable {
    var v4Start: Int32
    var v4End: Int32
    var v6Start: Int32
    var v6End: Int32
    var anyV4: Bool
    var anyV6: Bool
}

private struct PortSpan: BitwiseCopyable {
    var start: Int32
    var end: Int32
}

/// One port table: where its slots sit in the shared slot buffer and where its groups are numbered.
private struct SideTable: BitwiseCopyable {
    /// -1 when no entry is keyed on this side.
    var slotBase: Int32
    var groupBase: Int32
}

/// A run of `members`.
private struct MemberRange: BitwiseCopyable {
    var start: Int32
    var end: Int32

    @inline(__always)
    var isEmpty: Bool { start >= end }
}

/// Owns the memory the matcher reads through raw pointers, so the per-packet path
/// does no reference counting. Written once at compile time, never mutated after.
private final class FrozenStorage: @unchecked Sendable {
    private var allocations: [UnsafeMutableRawPointer] = []

    func freeze<T: BitwiseCopyable>(_ array: [T]) -> UnsafeBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
        _ = buffer.initialize(from: array)
        allocations.append(UnsafeMutableRawPointer(buffer.baseAddress!))
        return UnsafeBufferPointer(start: buffer.baseAddress, count: array.count)
    }

    deinit {
        for allocation in allocations { allocation.deallocate() }
    }
}

/// The compiled ruleset. Every index stored here was produced by `init`, so reads stay in bounds.
private struct MatchTables: @unchecked Sendable {
    static let icmpList = 3
    static let ipList = 4

    let storage: FrozenStorage
    let compiled: UnsafeBufferPointer<CompiledRule>
    let v4: UnsafeBufferPointer<FlatRange<UInt32>>
    let v6: UnsafeBufferPointer<FlatRange<UInt128>>
    let addressSpans: UnsafeBufferPointer<AddressSpan>
    let portRanges: UnsafeBufferPointer<FlatRange<UInt16>>
    /// Port set ids; id 0 is `any`.
    let portSpans: UnsafeBufferPointer<PortSpan>
    /// TCP, UDP, SCTP; destination then source for each.
    let sides: UnsafeBufferPointer<SideTable>
    let slots: UnsafeBufferPointer<UInt16>
    /// Group g holds members[groupStarts[g]..<groupStarts[g + 1]].
    let groupStarts: UnsafeBufferPointer<Int32>
    let members: UnsafeBufferPointer<UInt32>
    /// Any-port lists for TCP, UDP, SCTP, then the ICMP and IP lists.
    let lists: UnsafeBufferPointer<MemberRange>
    let byteCount: Int
    let groupCount: Int

    init(_ rules: [Rule]) {
        var addresses = AddressInterner()
        var ports = PortInterner()
        var compiled: [CompiledRule] = []
        compiled.reserveCapacity(rules.count)
        var keyed = [[KeyedEntry]](repeating: [], count: 6)
        var lists = [[KeyedEntry]](repeating: [], count: 5)

        // By index: `for rule in rules` would copy each rule, a dozen references.
        for index in rules.indices {
            let bidirectional = rules[index].direction == .both
            let isPass = rules[index].action == .pass
            compiled.append(CompiledRule(
                source: addresses.intern(rules[index].source), destination: addresses.intern(rules[index].destination),
                sourcePorts: ports.intern(rules[index].sourcePorts),
                destinationPorts: ports.intern(rules[index].destinationPorts),
                flags: rules[index].flags, flow: rules[index].flow, dsize: rules[index].dsize,
                flowPackets: rules[index].flowPackets, isPass: isPass, bidirectional: bidirectional))
            for way in 0..<(bidirectional ? 2 : 1) {
                let reversed = way == 1
                let entry = KeyedEntry(entry: UInt32(index) << 1 | UInt32(way), isPass: isPass, ports: .all)
                let proto: Int
                switch rules[index].proto {
                case .ip:
                    lists[Self.ipList].append(entry)
                    continue
                case .icmp:
                    lists[Self.icmpList].append(entry)
                    continue
                case .tcp: proto = 0
                case .udp: proto = 1
                case .sctp: proto = 2
                }
                // Seen from this orientation, which ports must the packet carry?
                let destinationPorts = reversed ? rules[index].sourcePorts : rules[index].destinationPorts
                let sourcePorts = reversed ? rules[index].destinationPorts : rules[index].sourcePorts
                var placed = entry
                if destinationPorts.isFull && sourcePorts.isFull {
                    lists[proto].append(placed)
                } else if destinationPorts.isFull || (!sourcePorts.isFull && sourcePorts.count < destinationPorts.count) {
                    placed.ports = sourcePorts
                    keyed[proto * 2 + 1].append(placed)
                } else {
                    placed.ports = destinationPorts
                    keyed[proto * 2].append(placed)
                }
            }
        }

        var sides: [SideTable] = []
        var slots: [UInt16] = []
        var groupStarts: [Int32] = [0]
        var members: [UInt32] = []
        for side in keyed {
            guard !side.isEmpty else {
                sides.append(SideTable(slotBase: -1, groupBase: 0))
                continue
            }
            sides.append(SideTable(slotBase: Int32(slots.count), groupBase: Int32(groupStarts.count - 1)))
            appendGroups(side, slots: &slots, groupStarts: &groupStarts, members: &members)
        }
        let groupCount = groupStarts.count - 1
        var listRanges: [MemberRange] = []
        for list in lists {
            let start = Int32(members.count)
            members.append(contentsOf: passFirst(list))
            listRanges.append(MemberRange(start: start, end: Int32(members.count)))
        }

        let storage = FrozenStorage()
        self.storage = storage
        self.compiled = storage.freeze(compiled)
        v4 = storage.freeze(addresses.v4)
        v6 = storage.freeze(addresses.v6)
        addressSpans = storage.freeze(addresses.spans)
        portRanges = storage.freeze(ports.ranges)
        portSpans = storage.freeze(ports.spans)
        self.sides = storage.freeze(sides)
        self.slots = storage.freeze(slots)
        self.groupStarts = storage.freeze(groupStarts)
        self.members = storage.freeze(members)
        self.lists = storage.freeze(listRanges)
        self.groupCount = groupCount
        byteCount = slots.count * 2 + groupStarts.count * 4 + members.count * 4
    }

    @inline(__always)
    func candidates(side: Int, port: UInt16) -> MemberRange {
        let table = sides[side]
        if table.slotBase < 0 { return MemberRange(start: 0, end: 0) }
        let group = Int(table.groupBase) + Int(slots[Int(table.slotBase) + Int(port)])
        return MemberRange(start: groupStarts[group], end: groupStarts[group + 1])
    }

    /// Checks candidate entries; true when a pass rule matched (and matching is over).
    @inline(__always)
    func check(_ range: MemberRange, _ packet: PacketFacts, _ flow: FlowFacts, _ matches: inout RuleMatches) -> Bool {
        var position = Int(range.start)
        let end = Int(range.end)
        while position < end {
            let entry = members[position]
            position += 1
            let index = Int(entry >> 1)
            let rule = compiled[index]
            if let flags = rule.flags {
                guard packet.proto == 6, packet.hasPorts, flags.matches(packet.tcpFlags) else { continue }
            }
            if let ruleFlow = rule.flow, !ruleFlow.matches(flow) { continue }
            if let dsize = rule.dsize, !dsize.matches(UInt32(packet.payloadLength)) { continue }
            if !rule.flowPackets.isEmpty && !rule.flowPackets.matches(flow) { continue }
            let reversed = entry & 1 == 1
            guard containsAddress(reversed ? rule.destination : rule.source, packet.ipVersion, packet.src),
                  containsAddress(reversed ? rule.source : rule.destination, packet.ipVersion, packet.dst)
            else { continue }
            if packet.hasPorts {
                guard containsPort(reversed ? rule.destinationPorts : rule.sourcePorts, packet.sport),
                      containsPort(reversed ? rule.sourcePorts : rule.destinationPorts, packet.dport)
                else { continue }
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

    @inline(__always)
    func containsAddress(_ id: Int32, _ version: UInt8, _ address: UInt128) -> Bool {
        let span = addressSpans[Int(id)]
        if version == 4 {
            return span.anyV4 || search(v4, Int(span.v4Start), Int(span.v4End), UInt32(truncatingIfNeeded: address))
        }
        return span.anyV6 || search(v6, Int(span.v6Start), Int(span.v6End), address)
    }

    @inline(__always)
    func containsPort(_ id: Int32, _ port: UInt16) -> Bool {
        if id == 0 { return true }
        let span = portSpans[Int(id)]
        return search(portRanges, Int(span.start), Int(span.end), port)
    }
}

/// A closed range laid out as two plain integers (ClosedRange is not BitwiseCopyable).
private struct FlatRange<Bound: FixedWidthInteger & BitwiseCopyable>: BitwiseCopyable {
    var low: Bound
    var high: Bound

    init(_ range: ClosedRange<Bound>) {
        low = range.lowerBound
        high = range.upperBound
    }
}

@inline(__always)
private func search<T>(_ ranges: UnsafeBufferPointer<FlatRange<T>>, _ start: Int, _ end: Int, _ value: T) -> Bool {
    var low = start
    var high = end
    while low < high {
        let mid = (low &+ high) >> 1
        let range = ranges[mid]
        if value < range.low {
            high = mid
        } else if value > range.high {
            low = mid &+ 1
        } else {
            return true
        }
    }
    return false
}

/// Address sets, interned and flattened into two range arrays.
private struct AddressInterner {
    var v4: [FlatRange<UInt32>] = []
    var v6: [FlatRange<UInt128>] = []
    var spans: [AddressSpan] = []
    var ids: [AddressSet: Int32] = [:]
    /// The set interned last and its id: rules mostly repeat one (`any`, `$HOME_NET`), and
    /// comparing costs less than hashing.
    var last: (set: AddressSet, id: Int32)?

    mutating func intern(_ set: AddressSet) -> Int32 {
        if let last, last.set == set { return last.id }
        let id = lookUp(set)
        last = (set, id)
        return id
    }

    private mutating func lookUp(_ set: AddressSet) -> Int32 {
        if let id = ids[set] { return id }
        let id = Int32(spans.count)
        spans.append(AddressSpan(
            v4Start: Int32(v4.count), v4End: Int32(v4.count + set.v4.ranges.count),
            v6Start: Int32(v6.count), v6End: Int32(v6.count + set.v6.ranges.count),
            anyV4: set.v4.isFull, anyV6: set.v6.isFull))
        v4.append(contentsOf: set.v4.ranges.map(FlatRange.init))
        v6.append(contentsOf: set.v6.ranges.map(FlatRange.init))
        ids[set] = id
        return id
    }
}

/// Port sets, interned and flattened like addresses; id 0 is `any`.
private struct PortInterner {
    var ranges: [FlatRange<UInt16>] = []
    var spans: [PortSpan] = [PortSpan(start: 0, end: 0)]
    var ids: [PortSet: Int32] = [:]
    /// Single ports, the usual case, by port (0: not interned yet): no hashing.
    var singles = [Int32](repeating: 0, count: 65_536)

    mutating func intern(_ set: PortSet) -> Int32 {
        if set.isFull { return 0 }
        if set.ranges.count == 1 && set.ranges[0].lowerBound == set.ranges[0].upperBound {
            let port = Int(set.ranges[0].lowerBound)
            if singles[port] == 0 { singles[port] = add(set) }
            return singles[port]
        }
        if let id = ids[set] { return id }
        let id = add(set)
        ids[set] = id
        return id
    }

    private mutating func add(_ set: PortSet) -> Int32 {
        let id = Int32(spans.count)
        spans.append(PortSpan(start: Int32(ranges.count), end: Int32(ranges.count + set.ranges.count)))
        ranges.append(contentsOf: set.ranges.map(FlatRange.init))
        return id
    }
}

private struct KeyedEntry {
    /// Rule index << 1 | 1 when the rule is read the other way round (`<>`).
    var entry: UInt32
    var isPass: Bool
    var ports: PortSet
}

/// Pass entries first: a matching pass ends the search before any alert is checked.
private func passFirst(_ items: [KeyedEntry]) -> [UInt32] {
    items.map(\.matchOrder).sorted().map { UInt32(truncatingIfNeeded: $0) }
}

extension KeyedEntry {
    /// Where the entry goes in a candidate list, as one number: pass entries first, then in
    /// rule order; the low 32 bits are the entry.
    var matchOrder: UInt64 { (isPass ? 0 : 1 << 32) | UInt64(entry) }
}

/// Appends one side's 65,536 slots and its groups.
///
/// A sweep over range boundaries gives each run of ports the entries covering it;
/// identical lists become one group. There are at most 65,536 runs, so a side's
/// group ids always fit in UInt16.
private func appendGroups(_ keyed: [KeyedEntry], slots: inout [UInt16], groupStarts: inout [Int32], members: inout [UInt32]) {
    let slotBase = slots.count
    let groupBase = groupStarts.count - 1
    slots.append(contentsOf: repeatElement(0, count: 65536))
    var events: [(port: Int, order: UInt64, opens: Bool)] = []
    events.reserveCapacity(keyed.count * 2)
    for keyedEntry in keyed {
        for range in keyedEntry.ports.ranges {
            events.append((Int(range.lowerBound), keyedEntry.matchOrder, true))
            if range.upperBound < UInt16.max { events.append((Int(range.upperBound) + 1, keyedEntry.matchOrder, false)) }
        }
    }
    events.sort { $0.port < $1.port }
    // The entries covering the current run, kept in match order; each distinct list gets a group.
    // Lists of one entry, the usual case, are found by entry (no hashing), the rest by hash.
    var active: [UInt64] = []
    var ids: [[UInt64]: UInt16] = [:]
    var singles: [UInt32: UInt16] = [:]
    singles.reserveCapacity(keyed.count)
    var eventIndex = 0
    var port = 0
    while port < 65536 {
        while eventIndex < events.count && events[eventIndex].port == port {
            let event = events[eventIndex]
            let at = active.partitioningIndex { $0 >= event.order }
            if event.opens {
                active.insert(event.order, at: at)
            } else if at < active.count && active[at] == event.order {
                active.remove(at: at)
            }
            eventIndex += 1
        }
        let end = eventIndex < events.count ? events[eventIndex].port : 65536
        let group: UInt16
        if active.count == 1, let id = singles[UInt32(truncatingIfNeeded: active[0])] {
            group = id
        } else if active.count != 1, let id = ids[active] {
            group = id
        } else {
            group = UInt16(groupStarts.count - 1 - groupBase)
            members.append(contentsOf: active.lazy.map { UInt32(truncatingIfNeeded: $0) })
            groupStarts.append(Int32(members.count))
            if active.count == 1 { singles[UInt32(truncatingIfNeeded: active[0])] = group } else { ids[active] = group }
        }
        slots.withUnsafeMutableBufferPointer { slots in
            for slot in port..<end { slots[slotBase + slot] = group }
        }
        port = end
    }
}

extension Array where Element == UInt64 {
    /// The first index whose element satisfies `belongs` (which must hold for a suffix).
    fileprivate func partitioningIndex(where belongs: (UInt64) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if belongs(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
