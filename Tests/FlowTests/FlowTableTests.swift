import Flow
import TestSupport
import Testing
import Wire

@Suite("Flow table")
struct FlowTableTests {
    /// Flow number `i` as a distinct UDP tuple.
    static func key(_ i: Int, proto: UInt8 = IPProtocol.udp) -> FlowKey {
        FlowKey.make(src: IPAddress(ipv4: 0x0A00_0000 | UInt32(i >> 16)), dst: Packets.ipv4(192, 168, 0, 1),
                     proto: proto, sport: UInt16(truncatingIfNeeded: i), dport: 571).key
    }

    @Test("insert, then find the same slot")
    func insertLookup() {
        let table = FlowTable(capacity: 1000, seed: 99)
        var handles: [FlowHandle] = []
        for i in 0..<1000 {
            let (handle, isNew) = table.lookupOrInsert(Self.key(i), timestamp: Int64(i))
            #expect(isNew)
            handles.append(handle)
        }
        #expect(Set(handles).count == 1000)
        for i in 0..<1000 {
            let (handle, isNew) = table.lookupOrInsert(Self.key(i), timestamp: 2000)
            #expect(!isNew && handle == handles[i])
            #expect(table.lookup(Self.key(i)) == handles[i])
            #expect(table[handle].key == Self.key(i))
        }
        #expect(table.lookup(Self.key(5000)) == nil)
        #expect(table.counters.active == 1000 && table.counters.created == 1000 && table.counters.evicted == 0)
    }

    @Test("a full table evicts the least recently seen and never grows")
    func evictionAtCapacity() {
        let table = FlowTable(capacity: 100, seed: 5)
        for i in 0..<100 { _ = table.lookupOrInsert(Self.key(i), timestamp: seconds(1) + Int64(i)) }
        // Touch the first ten again (a relink interval later): now flows 10 ... 19 are the oldest.
        for i in 0..<10 { _ = table.lookupOrInsert(Self.key(i), timestamp: seconds(3)) }
        var evicted: [FlowKey] = []
        for i in 100..<110 {
            let (_, isNew) = table.lookupOrInsert(Self.key(i), timestamp: seconds(4)) { evicted.append($0.key) }
            #expect(isNew)
        }
        #expect(evicted == (10..<20).map { Self.key($0) })
        #expect(table.counters.active == 100 && table.counters.evicted == 10 && table.counters.timedOut == 0)
        #expect(table.counters.created == 110)
        for i in 0..<10 { #expect(table.lookup(Self.key(i)) != nil) }
        for i in 10..<20 { #expect(table.lookup(Self.key(i)) == nil) }
        for i in 20..<110 { #expect(table.lookup(Self.key(i)) != nil) }
    }

    @Test("eviction prefers the flow nearest its deadline: half-open before established")
    func evictionByDeadline() throws {
        let table = FlowTable(capacity: 2, seed: 5)
        let a = Packets.ipv4(10, 0, 0, 1)
        let b = Packets.ipv4(10, 0, 0, 2)
        // An established UDP flow, seen first (older), then a one-packet probe.
        _ = table.track(Packets.udp(a, 1, b, 2), timestamp: seconds(0), length: 1)
        _ = table.track(Packets.udp(b, 2, a, 1), timestamp: seconds(0), length: 1)
        _ = table.track(Packets.udp(a, 3, b, 4), timestamp: seconds(1), length: 1)
        var gone: [FlowKey] = []
        _ = table.lookupOrInsert(Self.key(1), timestamp: seconds(2)) { gone.append($0.key) }
        #expect(gone == [try #require(FlowKey.of(Packets.udp(a, 3, b, 4))).key])
        #expect(table.counters.evicted == 1)
    }

    @Test("a full table reclaims an already expired flow as a timeout, not an eviction")
    func fullButExpired() {
        let table = FlowTable(capacity: 1, seed: 1)
        _ = table.lookupOrInsert(Self.key(1), timestamp: 0)
        _ = table.lookupOrInsert(Self.key(2), timestamp: seconds(31))
        #expect(table.counters.timedOut == 1 && table.counters.evicted == 0 && table.counters.active == 1)
    }

    @Test("idle timeouts follow packet time, per protocol and state")
    func timeouts() throws {
        let table = FlowTable(capacity: 64, timeouts: .suricata, seed: 3)
        let a = Packets.ipv4(10, 0, 0, 1)
        let b = Packets.ipv4(10, 0, 0, 2)
        // New UDP (30 s), established UDP (300 s), closed TCP (10 s), established TCP (300 s).
        let udpNew = try #require(table.track(Packets.udp(a, 1, b, 2), timestamp: 0, length: 1)).handle
        _ = table.track(Packets.udp(a, 3, b, 4), timestamp: 0, length: 1)
        _ = table.track(Packets.udp(b, 4, a, 3), timestamp: 0, length: 1)
        _ = table.track(Packets.tcp(a, 5, b, 6, flags: TCPFlag.syn), timestamp: 0, length: 1)
        _ = table.track(Packets.tcp(b, 6, a, 5, flags: TCPFlag.rst | TCPFlag.ack), timestamp: 0, length: 1)
        _ = table.track(Packets.tcp(a, 7, b, 8, flags: TCPFlag.syn), timestamp: 0, length: 1)
        _ = table.track(Packets.tcp(b, 8, a, 7, flags: TCPFlag.syn | TCPFlag.ack), timestamp: 0, length: 1)
        _ = table.track(Packets.tcp(a, 7, b, 8, flags: TCPFlag.ack), timestamp: 0, length: 1)
        #expect(table.counters.active == 4)

        var expired: [Flow] = []
        table.expire(now: seconds(10)) { expired.append($0) }
        #expect(expired.isEmpty)  // strictly longer than the timeout
        table.expire(now: seconds(10) + 1) { expired.append($0) }
        #expect(expired.map(\.key.portA) == [5])
        // Seen again at 20 s, the new UDP flow lives until 50 s.
        _ = table.lookupOrInsert(table[udpNew].key, timestamp: seconds(20))
        table.expire(now: seconds(45)) { expired.append($0) }
        #expect(expired.count == 1)
        table.expire(now: seconds(51)) { expired.append($0) }
        #expect(expired.map(\.key.portA) == [5, 1])
        table.expire(now: seconds(300)) { expired.append($0) }
        #expect(expired.count == 2)
        table.expire(now: seconds(301)) { expired.append($0) }
        #expect(Set(expired.map(\.key.portA)) == [1, 3, 5, 7])
        #expect(table.counters.timedOut == 4 && table.counters.active == 0)
    }

    @Test("timeouts are configurable: a 0 s closed timeout expires on the next later sweep")
    func customTimeouts() throws {
        var timeouts = FlowTimeouts.suricata
        timeouts.tcp.closed = 0
        timeouts.other = .init(new: 5, established: 50, closed: 0)
        let table = FlowTable(capacity: 8, timeouts: timeouts, seed: 6)
        let a = Packets.ipv4(10, 0, 0, 1)
        let b = Packets.ipv4(10, 0, 0, 2)
        _ = table.track(Packets.tcp(a, 1, b, 2, flags: TCPFlag.syn), timestamp: seconds(1), length: 1)
        _ = table.track(Packets.tcp(b, 2, a, 1, flags: TCPFlag.rst), timestamp: seconds(2), length: 1)
        _ = table.track(Packets.ip(src: a, dst: b, proto: 47), timestamp: seconds(2), length: 1)  // GRE
        var expired: [UInt8] = []
        table.expire(now: seconds(2)) { expired.append($0.key.proto) }
        #expect(expired.isEmpty)
        table.expire(now: seconds(2) + 1) { expired.append($0.key.proto) }
        #expect(expired == [IPProtocol.tcp])
        table.expire(now: seconds(7) + 1) { expired.append($0.key.proto) }
        #expect(expired == [IPProtocol.tcp, 47])
    }

    @Test("a flow seen again within the relink interval may expire late, never early")
    func relinkInterval() {
        #expect(FlowTable.relinkInterval == seconds(1))
        let table = FlowTable(capacity: 8, seed: 4)
        _ = table.lookupOrInsert(Self.key(1), timestamp: 0)
        _ = table.lookupOrInsert(Self.key(2), timestamp: 200_000_000)
        _ = table.lookupOrInsert(Self.key(1), timestamp: 500_000_000)  // not moved: < 1 s since linked
        var expired: [FlowKey] = []
        table.expire(now: seconds(30) + 300_000_000) { expired.append($0.key) }
        #expect(expired.isEmpty)  // flow 2 is idle past 30 s, but waits behind flow 1
        table.expire(now: seconds(30) + 500_000_001) { expired.append($0.key) }
        #expect(expired == [Self.key(1), Self.key(2)])
    }

    @Test("expiry removes exactly the idle flows among many, a sweep at a time")
    func expiryMany() {
        let table = FlowTable(capacity: 10_000, seed: 11)
        // Flow i last seen at i / 100 seconds: 100 flows per second over 100 s.
        for i in 0..<10_000 { _ = table.lookupOrInsert(Self.key(i), timestamp: seconds(Int64(i / 100))) }
        var removed = 0
        for now in stride(from: Int64(0), through: 130, by: 1) {
            table.expire(now: seconds(now)) { flow in
                #expect(seconds(now) - flow.last > seconds(30))
                removed += 1
            }
            // Idle strictly longer than 30 s: the flows of seconds 0 ..< now - 30.
            #expect(removed == min(10_000, max(0, 100 * Int(now - 30))))
            #expect(table.counters.active == 10_000 - removed)
        }
        #expect(table.counters.timedOut == 10_000)
    }

    @Test("remove and drain take flows out and free their slots")
    func removeAndDrain() {
        let table = FlowTable(capacity: 10, seed: 2)
        var handles: [FlowHandle] = []
        for i in 0..<10 { handles.append(table.lookupOrInsert(Self.key(i), timestamp: 0).handle) }
        let flow = table.remove(handles[3])
        #expect(flow.key == Self.key(3))
        #expect(table.lookup(Self.key(3)) == nil && table.counters.active == 9)
        // The freed slot takes a new flow without evicting.
        #expect(table.lookupOrInsert(Self.key(42), timestamp: 1).isNew)
        #expect(table.counters.evicted == 0)
        var drained = Set<FlowKey>()
        table.drain { drained.insert($0.key) }
        #expect(drained.count == 10 && drained.contains(Self.key(42)) && !drained.contains(Self.key(3)))
        #expect(table.counters.active == 0)
        for i in 0..<10 { #expect(table.lookup(Self.key(i)) == nil) }
        // Reusable after draining.
        for i in 0..<10 { #expect(table.lookupOrInsert(Self.key(i + 100), timestamp: 2).isNew) }
        #expect(table.counters.evicted == 0 && table.counters.created == 21)
    }

    @Test("random churn agrees with a dictionary model")
    func churnModel() {
        var rng = SplitMix64(seed: 2024)
        let capacity = 257
        let table = FlowTable(capacity: capacity, seed: rng.next())
        var model: [FlowKey: FlowHandle] = [:]
        var now: Int64 = 0
        var removals = 0
        for step in 0..<50_000 {
            // A busy first half (evictions), a slow second half (timeouts).
            now += Int64(rng.next() % (step < 25_000 ? 1_000_000 : 400_000_000))
            let key = Self.key(Int(rng.next() % 600))
            switch rng.next() % 10 {
            case 0:
                if let handle = model[key] {
                    #expect(table.remove(handle).key == key)
                    model[key] = nil
                    removals += 1
                }
            case 1:
                table.expire(now: now) { model[$0.key] = nil }
            default:
                let (handle, isNew) = table.lookupOrInsert(key, timestamp: now) { model[$0.key] = nil }
                #expect(isNew == (model[key] == nil))
                if !isNew { #expect(model[key] == handle) }
                model[key] = handle
            }
            #expect(table.counters.active == model.count)
            #expect(model.count <= capacity)
        }
        for (key, handle) in model { #expect(table.lookup(key) == handle) }
        let c = table.counters
        #expect(Int(c.created) == Int(c.evicted) + Int(c.timedOut) + removals + model.count)
        #expect(c.evicted > 0 && c.timedOut > 0)
    }

    @Test("the index grows as flows arrive and keeps every flow findable, through removals")
    func indexGrowth() {
        // Far past the initial index (4,096 buckets hold 2,048 flows at half load).
        let count = 40_000
        let table = FlowTable(capacity: 50_000, seed: 77)
        var handles: [FlowHandle] = []
        for i in 0..<count {
            let (handle, isNew) = table.lookupOrInsert(Self.key(i), timestamp: Int64(i))
            #expect(isNew)
            handles.append(handle)
        }
        for i in stride(from: 0, to: count, by: 3) { table.remove(handles[i]) }
        for i in 0..<count {
            let found = table.lookup(Self.key(i))
            #expect(found == (i % 3 == 0 ? nil : handles[i]))
        }
        // Freed slots are reused before untouched ones.
        let (reused, _) = table.lookupOrInsert(Self.key(count), timestamp: Int64(count))
        #expect(reused.index < Int32(count))
        #expect(table.counters.active == count - (count + 2) / 3 + 1)
    }

    @Test("memory is bounded and reported")
    func memory() {
        let perFlow = FlowTable.memoryFootprint(capacity: 1_000_000) / 1_000_000
        #expect(perFlow > 100 && perFlow < 256)
        let capacity = FlowTable.capacity(forMemoryBytes: 256 << 20)
        #expect(FlowTable.memoryFootprint(capacity: capacity) <= 256 << 20)
        #expect(FlowTable.memoryFootprint(capacity: capacity + 1) > 256 << 20 || capacity == FlowTable.maximumCapacity)
        #expect(capacity > 1_000_000)
        #expect(FlowTable.capacity(forMemoryBytes: 10) == 0)
    }
}
