import Wire

/// A hash table keyed by IP address for the engine's per-source state (the scan detector,
/// the per-client verdict counts): open addressing with linear probing, at most half full,
/// doubling as it fills. Beside a Swift `Dictionary` it saves SipHash (a keyed multiply-mix
/// instead, seeded like the flow table), copy-on-write checks and the resizes of a table
/// that starts small: per new source that was about a microsecond with 100,000 sources.
///
/// Removal is by `removeAll(where:)`, which rebuilds the table: the users bound their tables
/// by dropping many entries at once, never one at a time. A class: its owners share it rather
/// than copy it. Single-threaded, like the engine.
public final class AddressTable<Value> {
    /// 0 for an empty bucket, otherwise the key's hash with the low bit set.
    private var tags: UnsafeMutablePointer<UInt64>
    private var keys: UnsafeMutablePointer<IPAddress>
    private var values: UnsafeMutablePointer<Value>
    private var mask: Int
    public private(set) var count = 0
    public let seed: UInt64

    public init(seed: UInt64, minimumCapacity: Int = 16) {
        self.seed = seed
        var buckets = 16
        while buckets / 2 < minimumCapacity { buckets *= 2 }
        (tags, keys, values) = Self.allocate(buckets)
        mask = buckets - 1
    }

    deinit {
        for bucket in 0...mask where tags[bucket] != 0 {
            (keys + bucket).deinitialize(count: 1)
            (values + bucket).deinitialize(count: 1)
        }
        Self.deallocate(tags, keys, values)
    }

    public var isEmpty: Bool { count == 0 }

    /// The value for `key`, if present.
    public func value(for key: IPAddress) -> Value? {
        guard let bucket = find(key, tag: tag(of: key)).found else { return nil }
        return values[bucket]
    }

    /// Runs `body` on the value for `key` if present; returns whether it was.
    @inline(__always)
    @discardableResult
    public func modify(_ key: IPAddress, _ body: (inout Value) -> Void) -> Bool {
        guard let bucket = find(key, tag: tag(of: key)).found else { return false }
        body(&values[bucket])
        return true
    }

    /// Runs `body` on the value for `key`, inserting `make()` first when absent: one probe.
    @inline(__always)
    public func update<R>(_ key: IPAddress, default make: () -> Value, _ body: (inout Value) -> R) -> R {
        let tag = tag(of: key)
        let (found, empty) = find(key, tag: tag)
        if let found { return body(&values[found]) }
        if 2 * (count + 1) > mask + 1 {
            grow()
            return update(key, default: make, body)
        }
        tags[empty] = tag
        (keys + empty).initialize(to: key)
        (values + empty).initialize(to: make())
        count += 1
        return body(&values[empty])
    }

    /// Calls `body` with every entry, in no particular order.
    public func forEach(_ body: (IPAddress, Value) throws -> Void) rethrows {
        for bucket in 0...mask where tags[bucket] != 0 { try body(keys[bucket], values[bucket]) }
    }

    /// Removes every entry `shouldRemove` says to, and returns how many went.
    @discardableResult
    public func removeAll(where shouldRemove: (IPAddress, Value) -> Bool) -> Int {
        let (oldTags, oldKeys, oldValues, oldMask) = (tags, keys, values, mask)
        (tags, keys, values) = Self.allocate(oldMask + 1)
        let before = count
        count = 0
        for bucket in 0...oldMask where oldTags[bucket] != 0 {
            let key = (oldKeys + bucket).move()
            let value = (oldValues + bucket).move()
            if shouldRemove(key, value) { continue }
            place(key, tag: oldTags[bucket], value)
        }
        Self.deallocate(oldTags, oldKeys, oldValues)
        return before - count
    }

    // MARK: Internals

    @inline(__always)
    private func tag(of key: IPAddress) -> UInt64 {
        var h = (seed ^ key.high) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        h = (h ^ key.low ^ (key.isIPv6 ? 0x9E37_79B9_7F4A_7C15 : 0)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 32
        return h | 1
    }

    /// The key's bucket, or the empty bucket that ends its probe.
    @inline(__always)
    private func find(_ key: IPAddress, tag: UInt64) -> (found: Int?, empty: Int) {
        var bucket = Int(truncatingIfNeeded: tag >> 1) & mask
        while true {
            let entry = tags[bucket]
            if entry == 0 { return (nil, bucket) }
            if entry == tag && keys[bucket] == key { return (bucket, bucket) }
            bucket = (bucket + 1) & mask
        }
    }

    /// Inserts a key known to be absent, with room to spare.
    private func place(_ key: IPAddress, tag: UInt64, _ value: consuming Value) {
        var bucket = Int(truncatingIfNeeded: tag >> 1) & mask
        while tags[bucket] != 0 { bucket = (bucket + 1) & mask }
        tags[bucket] = tag
        (keys + bucket).initialize(to: key)
        (values + bucket).initialize(to: value)
        count += 1
    }

    private func grow() {
        let (oldTags, oldKeys, oldValues, oldMask) = (tags, keys, values, mask)
        (tags, keys, values) = Self.allocate(2 * (oldMask + 1))
        mask = 2 * (oldMask + 1) - 1
        count = 0
        for bucket in 0...oldMask where oldTags[bucket] != 0 {
            place((oldKeys + bucket).move(), tag: oldTags[bucket], (oldValues + bucket).move())
        }
        Self.deallocate(oldTags, oldKeys, oldValues)
    }

    private static func allocate(_ buckets: Int)
        -> (UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<IPAddress>, UnsafeMutablePointer<Value>) {
        let tags = UnsafeMutablePointer<UInt64>.allocate(capacity: buckets)
        tags.initialize(repeating: 0, count: buckets)
        return (tags, .allocate(capacity: buckets), .allocate(capacity: buckets))
    }

    private static func deallocate(_ tags: UnsafeMutablePointer<UInt64>, _ keys: UnsafeMutablePointer<IPAddress>,
                                   _ values: UnsafeMutablePointer<Value>) {
        tags.deallocate()
        keys.deallocate()
        values.deallocate()
    }
}
