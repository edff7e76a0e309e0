import CPrefetch
import Wire

/// A slot in the flow table. Valid until that flow leaves the table (expiry, eviction, removal,
/// drain); after that the slot may hold another flow.
public struct FlowHandle: Hashable, Sendable {
    public let index: Int32

    @inline(__always)
    init(_ index: Int32) { self.index = index }
}

/// What the table has done since it was created.
public struct FlowCounters: Sendable, Equatable {
    public init() {}

    /// Flows in the table now.
    public var active = 0
    /// Flows inserted.
    public var created: UInt64 = 0
    /// Flows pushed out to make room before their timeout.
    public var evicted: UInt64 = 0
    /// Flows removed because they were idle past their timeout (by `expire`, or found expired
    /// when a full table needed room).
    public var timedOut: UInt64 = 0
    /// Flows that reached the closed state (TCP FIN both ways, or RST).
    public var ended: UInt64 = 0
}

/// The bounded flow table: the slots for `capacity` flows are reserved at creation and a full
/// table evicts instead of growing past them.
///
/// - Index: open addressing with linear probing over a power-of-two array of 8-byte entries
///   (the top 32 bits of the key's hash, then slot + 1), at most half full; deletion shifts
///   entries back, so there are no tombstones and probes stay short. It starts small and
///   doubles as flows arrive, so a few thousand flows stay in cache.
/// - Slots: `capacity` `Flow` values in one allocation, touched only as they are first used
///   (resident memory follows the flows seen), freed ones on a free list.
/// - Timeouts: each flow sits on one of 12 intrusive lists, one per (protocol, state) timeout
///   class, ordered by when it was last put at the front. Flows on one list share a timeout, so
///   the tail is the next to expire: `expire` pops tails while they are idle past their timeout,
///   costing O(flows removed), never a scan. A flow seen again moves to the front at most once
///   per `relinkInterval` of packet time, which keeps a hit to the index and the flow itself;
///   the price is that, with in-order timestamps, a flow can expire up to `relinkInterval` late
///   (never early).
/// - Eviction: when full, the flow with the earliest expiry deadline among the 12 tails goes
///   (about the least recently seen within its class). A flood of half-open flows therefore
///   evicts its own kind (30 s deadlines) before established ones (300 s).
/// - Time is packet time (nanoseconds), so reading a file gives the same result every run.
///
/// Single-threaded: one owner (the detection thread) uses it.
public final class FlowTable {
    public let capacity: Int
    public let timeouts: FlowTimeouts
    public let seed: UInt64
    public var counters: FlowCounters { state.pointee.counters }
    /// The latest packet time the table has seen.
    public var clock: Int64 { state.pointee.clock }

    /// A flow seen again moves to the front of its list once this much packet time has passed.
    public static let relinkInterval: Int64 = 1_000_000_000

    private let flows: UnsafeMutablePointer<Flow>
    private let links: UnsafeMutablePointer<Link>
    /// Everything mutable sits behind `let` pointers: a class's `var`s pay a dynamic
    /// exclusivity check on every access, which cost more than the probe itself.
    private let state: UnsafeMutablePointer<State>
    /// Head and tail of each timeout class's list; -1 when empty.
    private let heads: UnsafeMutablePointer<Int32>
    private let tails: UnsafeMutablePointer<Int32>
    private let timeoutByClass: UnsafeMutablePointer<Int64>

    struct State {
        /// Freed slots, chained through `Link.next`; -1 when empty.
        var freeHead: Int32 = -1
        /// Slots below this have been used; memory above it is never touched, so RSS follows
        /// the flows actually seen, not the bound.
        var highWater: Int32 = 0
        var clock = Int64.min
        var counters = FlowCounters()
        /// The index grows by doubling as flows arrive, up to the size the capacity needs.
        var buckets: UnsafeMutablePointer<UInt64>
        var bucketMask: Int
        /// Shift that turns the top 32 hash bits into a home bucket.
        var homeShift: UInt64
    }

    /// The index starts this small: a table sized for a 256 MiB bound would otherwise spread
    /// a few thousand flows over tens of MiB and miss the cache on every lookup.
    static let initialBucketCount = 1 << 12

    /// List links, beside the flows: only list changes touch them. `previous` is `free` for a
    /// slot on the free list (chained through `next`).
    struct Link {
        var previous: Int32
        var next: Int32
        static let free: Int32 = -2
    }

    public static let maximumCapacity = 1 << 30

    /// - Parameters:
    ///   - capacity: the most flows held at once (1 ... 2^30).
    ///   - seed: keys the hash; give a random one in production, a fixed one in tests.
    public init(capacity: Int, timeouts: FlowTimeouts = .suricata, seed: UInt64) {
        precondition(capacity >= 1 && capacity <= Self.maximumCapacity, "flow table capacity out of range")
        self.capacity = capacity
        self.timeouts = timeouts
        self.seed = seed
        // Slots are initialized as they are first used (Flow and Link are plain values).
        flows = .allocate(capacity: capacity)
        links = .allocate(capacity: capacity)
        let bucketCount = min(Self.bucketCount(forCapacity: capacity), Self.initialBucketCount)
        let buckets = UnsafeMutablePointer<UInt64>.allocate(capacity: bucketCount)
        buckets.initialize(repeating: 0, count: bucketCount)
        state = .allocate(capacity: 1)
        state.initialize(to: State(buckets: buckets, bucketMask: bucketCount - 1,
                                   homeShift: UInt64(32 - bucketCount.trailingZeroBitCount)))
        heads = .allocate(capacity: 2 * FlowTimeouts.classCount)
        heads.initialize(repeating: -1, count: 2 * FlowTimeouts.classCount)
        tails = heads + FlowTimeouts.classCount
        timeoutByClass = .allocate(capacity: FlowTimeouts.classCount)
        timeoutByClass.initialize(from: timeouts.nanosecondsByClass(), count: FlowTimeouts.classCount)
    }

    deinit {
        flows.deallocate()
        links.deallocate()
        state.pointee.buckets.deallocate()
        state.deallocate()
        heads.deallocate()
        timeoutByClass.deallocate()
    }

    // MARK: Memory

    @inline(__always)
    static func bucketCount(forCapacity capacity: Int) -> Int {
        max(16, (2 * capacity).nextPowerOfTwo)
    }

    /// Bytes one flow costs, index share included, at this table's capacity.
    public var bytesPerFlow: Double { Double(Self.memoryFootprint(capacity: capacity)) / Double(capacity) }

    /// Bytes a table of `capacity` flows allocates (flows, links and index).
    public static func memoryFootprint(capacity: Int) -> Int {
        capacity * (MemoryLayout<Flow>.stride + MemoryLayout<Link>.stride)
            + bucketCount(forCapacity: capacity) * MemoryLayout<UInt64>.stride
    }

    /// The largest capacity whose table fits in `bytes` (e.g. 256 MiB → about 1.4 M flows).
    public static func capacity(forMemoryBytes bytes: Int) -> Int {
        let perSlot = MemoryLayout<Flow>.stride + MemoryLayout<Link>.stride
        var best = 0
        var buckets = 16
        // For each index size, as many slots as fit beside it and as it can index at half load.
        while buckets / 2 <= maximumCapacity {
            let room = bytes - buckets * MemoryLayout<UInt64>.stride
            if room <= 0 { break }
            let fit = min(room / perSlot, buckets / 2)
            if fit >= 1 && memoryFootprint(capacity: fit) <= bytes { best = max(best, fit) }
            buckets *= 2
        }
        return best
    }

    // MARK: Access

    /// The flow in a slot, read or modified in place (no copy).
    public subscript(handle: FlowHandle) -> Flow {
        unsafeAddress { UnsafePointer(flows + Int(handle.index)) }
        unsafeMutableAddress { flows + Int(handle.index) }
    }

    /// The flow with this key, without inserting or touching it.
    @inline(__always)
    public func lookup(_ key: FlowKey) -> FlowHandle? {
        let hash = key.hash(seed: seed)
        let tag = hash & 0xFFFF_FFFF_0000_0000
        let buckets = state.pointee.buckets, bucketMask = state.pointee.bucketMask
        var bucket = Int(truncatingIfNeeded: (hash >> 32) >> state.pointee.homeShift)
        while true {
            let entry = buckets[bucket]
            if entry == 0 { return nil }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                let slot = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if flows[slot].key == key { return FlowHandle(Int32(truncatingIfNeeded: slot)) }
            }
            bucket = (bucket + 1) & bucketMask
        }
    }

    /// Starts fetching the index bucket where the probe for a key with this hash
    /// (`FlowKey.hash(seed:)` with this table's seed) begins. A hint: nothing changes.
    @inline(__always)
    public func prefetchBucket(hash: UInt64) {
        gp_prefetch(state.pointee.buckets + Int(truncatingIfNeeded: (hash >> 32) >> state.pointee.homeShift))
    }

    /// Starts fetching the flow a key with this hash most likely is, and its list links. Reads
    /// the bucket, so call it a while after `prefetchBucket`. A hint: nothing changes, and a
    /// new flow fetches nothing. False when the key has no flow (most likely a new one).
    @inline(__always)
    @discardableResult
    public func prefetchFlow(hash: UInt64) -> Bool {
        guard let slot = candidate(hash: hash) else { return false }
        Self.prefetch(flows + slot)
        gp_prefetch(links + slot)
        return true
    }

    /// The slot of the first entry in the probe run with this hash's tag: the flow, unless two
    /// keys share the 32-bit tag (then a hint goes astray, nothing worse).
    @inline(__always)
    private func candidate(hash: UInt64) -> Int? {
        let tag = hash & 0xFFFF_FFFF_0000_0000
        let buckets = state.pointee.buckets, bucketMask = state.pointee.bucketMask
        var bucket = Int(truncatingIfNeeded: (hash >> 32) >> state.pointee.homeShift)
        for _ in 0..<4 {
            let entry = buckets[bucket]
            if entry == 0 { return nil }
            if entry & 0xFFFF_FFFF_0000_0000 == tag { return Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1 }
            bucket = (bucket + 1) & bucketMask
        }
        return nil
    }

    /// A flow spans three cache lines: the key and times, the counters, the sids.
    @inline(__always)
    private static func prefetch(_ flow: UnsafeMutablePointer<Flow>) {
        let start = UnsafeRawPointer(flow)
        gp_prefetch(start)
        gp_prefetch(start + 64)
        gp_prefetch(start + (MemoryLayout<Flow>.size - 1))
    }

    /// Finds the flow or creates it. A new flow's client is the packet's sender: endpoint A when
    /// `isCanonical`. When the table is full, the flow nearest its deadline is removed first
    /// (see the type's notes).
    @inline(__always)
    public func lookupOrInsert(_ key: FlowKey, isCanonical: Bool = true, timestamp: Int64) -> (handle: FlowHandle, isNew: Bool) {
        lookupOrInsert(key, isCanonical: isCanonical, timestamp: timestamp) { _ in }
    }

    /// As `lookupOrInsert(_:isCanonical:timestamp:)`, handing a flow removed to make room to
    /// `removed` (check `counters` to tell an eviction from a timeout).
    public func lookupOrInsert(_ key: FlowKey, isCanonical: Bool = true, timestamp: Int64,
                               removed: (Flow) -> Void) -> (handle: FlowHandle, isNew: Bool) {
        if timestamp > state.pointee.clock { state.pointee.clock = timestamp }
        let hash = key.hash(seed: seed)
        let tag = hash & 0xFFFF_FFFF_0000_0000
        let buckets = state.pointee.buckets, bucketMask = state.pointee.bucketMask
        let home = Int(truncatingIfNeeded: (hash >> 32) >> state.pointee.homeShift)
        var bucket = home
        while true {
            let entry = buckets[bucket]
            if entry == 0 { break }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                let slot = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                let flow = flows + slot
                if flow.pointee.key == key {
                    if timestamp > flow.pointee.last { flow.pointee.last = timestamp }
                    if state.pointee.clock &- flow.pointee.linkedAt >= Self.relinkInterval {
                        let index = Int32(truncatingIfNeeded: slot)
                        unlink(index)
                        pushFront(index, timeoutClass: Int(flow.pointee.listedClass))
                    }
                    return (FlowHandle(Int32(truncatingIfNeeded: slot)), false)
                }
            }
            bucket = (bucket + 1) & bucketMask
        }
        if freeHead < 0 && Int(state.pointee.highWater) >= capacity {
            makeRoom(now: timestamp, removed: removed)
            // Removing shifted entries back: find the empty bucket again.
            bucket = home
            while buckets[bucket] != 0 { bucket = (bucket + 1) & bucketMask }
        }
        let slot: Int32
        if freeHead >= 0 {
            slot = freeHead
            freeHead = links[Int(slot)].next
        } else {
            slot = state.pointee.highWater
            state.pointee.highWater += 1
        }
        (flows + Int(slot)).initialize(to: Flow(key: key, clientIsA: isCanonical, timestamp: timestamp))
        buckets[bucket] = tag | UInt64(UInt32(bitPattern: slot) &+ 1)
        pushFront(slot, timeoutClass: flows[Int(slot)].timeoutClass)
        state.pointee.counters.created &+= 1
        state.pointee.counters.active += 1
        // Keep the index at most half full; it stops growing at the size the capacity needs.
        if state.pointee.counters.active > (bucketMask + 1) / 2 { growIndex() }
        return (FlowHandle(slot), true)
    }

    /// Counts a packet on a flow (see `Flow.update`) and moves it to the timeout list of its new
    /// state. Prefer this to updating through the subscript, which leaves the list to be
    /// corrected lazily by `expire` (and does not count `ended`).
    @inline(__always)
    public func update(_ handle: FlowHandle, with packet: borrowing DecodedPacket, toServer: Bool,
                       timestamp: Int64, length: Int) {
        let flow = flows + Int(handle.index)
        let wasClosed = flow.pointee.isClosed
        flow.pointee.update(with: packet, toServer: toServer, timestamp: timestamp, length: length)
        let timeoutClass = flow.pointee.timeoutClass
        if timeoutClass != Int(flow.pointee.listedClass) {
            unlink(handle.index)
            pushFront(handle.index, timeoutClass: timeoutClass)
            if !wasClosed && flow.pointee.isClosed { state.pointee.counters.ended &+= 1 }
        }
    }

    /// What `track` found.
    public struct Tracked: Sendable, Equatable {
        public var handle: FlowHandle
        public var isNew: Bool
        public var toServer: Bool
    }

    /// The whole per-packet step: key, find or create, direction, update. Nil without an IP
    /// layer. ICMP errors are tracked as their own one-way flow here: an engine that wants the
    /// flow an error is about looks up `FlowKey.quotedFlow(of:)` first.
    @inline(__always)
    public func track(_ packet: borrowing DecodedPacket, timestamp: Int64, length: Int) -> Tracked? {
        guard let (key, isCanonical) = FlowKey.of(packet) else { return nil }
        let (handle, isNew) = lookupOrInsert(key, isCanonical: isCanonical, timestamp: timestamp)
        let toServer = flows[Int(handle.index)].isToServer(isCanonical: isCanonical)
        update(handle, with: packet, toServer: toServer, timestamp: timestamp, length: length)
        return Tracked(handle: handle, isNew: isNew, toServer: toServer)
    }

    /// Takes a flow out of the table (the engine ending it) and returns it.
    @discardableResult
    public func remove(_ handle: FlowHandle) -> Flow {
        precondition(links[Int(handle.index)].previous != Link.free, "removing a free flow slot")
        return release(handle.index)
    }

    // MARK: Expiry

    /// Removes every flow idle for longer than its timeout at packet time `now`, handing each
    /// to `body`. Costs O(flows removed): only list tails are looked at.
    public func expire(now: Int64, body: (Flow) -> Void) {
        if now > state.pointee.clock { state.pointee.clock = now }
        for timeoutClass in 0..<FlowTimeouts.classCount {
            let timeout = timeoutByClass[timeoutClass]
            while true {
                let slot = tails[timeoutClass]
                if slot < 0 { break }
                let flow = flows + Int(slot)
                // A flow updated through the subscript may sit on a stale list: move it over.
                let actual = flow.pointee.timeoutClass
                if actual != timeoutClass {
                    unlink(slot)
                    pushFront(slot, timeoutClass: actual)
                    continue
                }
                guard Self.isExpired(last: flow.pointee.last, timeout: timeout, now: now) else { break }
                state.pointee.counters.timedOut &+= 1
                body(release(slot))
            }
        }
    }

    /// Removes every flow (shutdown), handing each to `body`, oldest first within each list.
    /// `body` must not use the table: its index is cleared once at the end, not flow by flow.
    public func drain(body: (Flow) -> Void) {
        for timeoutClass in 0..<FlowTimeouts.classCount {
            while true {
                let slot = tails[timeoutClass]
                if slot < 0 { break }
                // The list is in no order in memory: fetch the next flow while this one is handled.
                let next = links[Int(slot)].previous
                if next >= 0 { Self.prefetch(flows + Int(next)) }
                let flow = flows[Int(slot)]
                unlink(slot)
                links[Int(slot)] = Link(previous: Link.free, next: freeHead)
                freeHead = slot
                state.pointee.counters.active -= 1
                body(flow)
            }
        }
        state.pointee.buckets.update(repeating: 0, count: state.pointee.bucketMask + 1)
    }

    /// Idle strictly longer than the timeout, as Suricata does (a 0 s timeout expires on the
    /// next sweep with a later timestamp).
    @inline(__always)
    static func isExpired(last: Int64, timeout: Int64, now: Int64) -> Bool {
        let (deadline, overflow) = last.addingReportingOverflow(timeout)
        return !overflow && now > deadline
    }

    /// Frees one slot: the tail with the earliest deadline. Already expired counts as a
    /// timeout, otherwise as an eviction.
    private func makeRoom(now: Int64, removed: (Flow) -> Void) {
        var victim: Int32 = -1
        var victimDeadline = Int64.max
        var victimTimeout: Int64 = 0
        for timeoutClass in 0..<FlowTimeouts.classCount {
            let slot = tails[timeoutClass]
            if slot < 0 { continue }
            let timeout = timeoutByClass[timeoutClass]
            let (deadline, overflow) = flows[Int(slot)].last.addingReportingOverflow(timeout)
            let clamped = overflow ? Int64.max : deadline
            if victim < 0 || clamped < victimDeadline {
                victim = slot
                victimDeadline = clamped
                victimTimeout = timeout
            }
        }
        precondition(victim >= 0, "full flow table with no flows")
        if Self.isExpired(last: flows[Int(victim)].last, timeout: victimTimeout, now: now) {
            state.pointee.counters.timedOut &+= 1
        } else {
            state.pointee.counters.evicted &+= 1
        }
        removed(release(victim))
    }

    // MARK: Internals

    @inline(__always)
    private var freeHead: Int32 {
        get { state.pointee.freeHead }
        set { state.pointee.freeHead = newValue }
    }

    /// Unlinks, unindexes and frees a slot; returns its flow.
    private func release(_ slot: Int32) -> Flow {
        let flow = flows[Int(slot)]
        unlink(slot)
        deleteFromIndex(slot: slot, key: flow.key)
        links[Int(slot)] = Link(previous: Link.free, next: freeHead)
        freeHead = slot
        state.pointee.counters.active -= 1
        return flow
    }

    /// Backward-shift deletion (Knuth 6.4, algorithm R): later entries of the probe run move
    /// into the hole when the hole lies between their home and their position.
    private func deleteFromIndex(slot: Int32, key: FlowKey) {
        let hash = key.hash(seed: seed)
        let wanted = (hash & 0xFFFF_FFFF_0000_0000) | UInt64(UInt32(bitPattern: slot) &+ 1)
        let buckets = state.pointee.buckets, bucketMask = state.pointee.bucketMask, homeShift = state.pointee.homeShift
        var hole = Int(truncatingIfNeeded: (hash >> 32) >> homeShift)
        while buckets[hole] != wanted {
            precondition(buckets[hole] != 0, "flow missing from the index")
            hole = (hole + 1) & bucketMask
        }
        var position = hole
        while true {
            position = (position + 1) & bucketMask
            let entry = buckets[position]
            if entry == 0 { break }
            let home = Int(truncatingIfNeeded: (entry >> 32) >> homeShift)
            if (position &- home) & bucketMask >= (position &- hole) & bucketMask {
                buckets[hole] = entry
                hole = position
            }
        }
        buckets[hole] = 0
    }

    /// Doubles the index. Entries keep the top 32 bits of their hash, which is all a home
    /// bucket is made of, so no key is hashed again.
    private func growIndex() {
        let oldBuckets = state.pointee.buckets
        let oldCount = state.pointee.bucketMask + 1
        let newCount = oldCount * 2
        guard newCount <= Self.bucketCount(forCapacity: capacity) else { return }
        let buckets = UnsafeMutablePointer<UInt64>.allocate(capacity: newCount)
        buckets.initialize(repeating: 0, count: newCount)
        let mask = newCount - 1
        let shift = UInt64(32 - newCount.trailingZeroBitCount)
        for i in 0..<oldCount where oldBuckets[i] != 0 {
            let entry = oldBuckets[i]
            var bucket = Int(truncatingIfNeeded: (entry >> 32) >> shift)
            while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
            buckets[bucket] = entry
        }
        oldBuckets.deallocate()
        state.pointee.buckets = buckets
        state.pointee.bucketMask = mask
        state.pointee.homeShift = shift
    }

    /// Puts a slot at the front of a list, stamped with the table clock so lists stay ordered.
    @inline(__always)
    private func pushFront(_ slot: Int32, timeoutClass: Int) {
        let head = heads[timeoutClass]
        links[Int(slot)] = Link(previous: -1, next: head)
        flows[Int(slot)].listedClass = UInt8(truncatingIfNeeded: timeoutClass)
        flows[Int(slot)].linkedAt = state.pointee.clock
        if head >= 0 { links[Int(head)].previous = slot } else { tails[timeoutClass] = slot }
        heads[timeoutClass] = slot
    }

    @inline(__always)
    private func unlink(_ slot: Int32) {
        let link = links[Int(slot)]
        let timeoutClass = Int(flows[Int(slot)].listedClass)
        if link.previous >= 0 { links[Int(link.previous)].next = link.next } else { heads[timeoutClass] = link.next }
        if link.next >= 0 { links[Int(link.next)].previous = link.previous } else { tails[timeoutClass] = link.previous }
    }
}

extension Int {
    /// The smallest power of two ≥ self (self ≥ 1).
    fileprivate var nextPowerOfTwo: Int {
        self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount)
    }
}
