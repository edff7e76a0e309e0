import CPrefetch
import Wire

/// A hash table keyed by IP address for the engine's per-source state (the scan detector,
/// the per-client verdict counts): open addressing with linear probing, at most half full,
/// doubling as it fills. Beside a Swift `Dictionary` it saves SipHash (a keyed multiply-mix
/// instead, seeded like the flow table), copy-on-write checks and the resizes of a table
/// that starts small: per new source that was about a microsecond with 100,000 sources.
///
/// Removal is by `removeAll(where:)`: the users bound their tables by dropping many entries
/// at once. A class: its owners share it rather than copy it. Single-threaded, like the engine.
public final class AddressTable<Value> {
    /// One bucket: tag, key and value together, so a probe touches one place. The tag is 0 for
    /// an empty bucket (whose key and value are not initialized), otherwise the key's hash
    /// with the low bit set.
    private struct Entry {
        var tag: UInt64
        var key: IPAddress
        var value: Value
    }

    private var entries: UnsafeMutablePointer<Entry>
    private var mask: Int
    public private(set) var count = 0
    public let seed: UInt64

    public init(seed: UInt64, minimumCapacity: Int = 16) {
        precondition(MemoryLayout<Entry>.offset(of: \Entry.tag) == 0, "an entry's tag must come first")
        self.seed = seed
        var buckets = 16
        while buckets / 2 < minimumCapacity { buckets *= 2 }
        entries = Self.allocate(buckets)
        mask = buckets - 1
    }

    deinit {
        for bucket in 0...mask where tag(at: bucket) != 0 { (entries + bucket).deinitialize(count: 1) }
        entries.deallocate()
    }

    public var isEmpty: Bool { count == 0 }

    /// The value for `key`, if present.
    public func value(for key: IPAddress) -> Value? {
        guard let bucket = find(key, tag: tag(of: key)).found else { return nil }
        return entries[bucket].value
    }

    /// Runs `body` on the value for `key` if present; returns whether it was.
    @inline(__always)
    @discardableResult
    public func modify(_ key: IPAddress, _ body: (inout Value) -> Void) -> Bool {
        guard let bucket = find(key, tag: tag(of: key)).found else { return false }
        body(&entries[bucket].value)
        return true
    }

    /// Runs `body` on the value for `key`, inserting `make()` first when absent: one probe.
    @inline(__always)
    public func update<R>(_ key: IPAddress, default make: () -> Value, _ body: (inout Value) -> R) -> R {
        let tag = tag(of: key)
        let (found, empty) = find(key, tag: tag)
        if let found { return body(&entries[found].value) }
        if 2 * (count + 1) > mask + 1 {
            grow()
            return update(key, default: make, body)
        }
        (entries + empty).initialize(to: Entry(tag: tag, key: key, value: make()))
        count += 1
        return body(&entries[empty].value)
    }

    /// Starts fetching the bucket where the key with this `AddressTableHash` is, or would go.
    /// A hint only: nothing changes.
    @inline(__always)
    public func prefetch(hash: UInt64) {
        let entry = UnsafeRawPointer(entries + (Int(truncatingIfNeeded: hash >> 1) & mask))
        gp_prefetch(entry)
        if MemoryLayout<Entry>.stride > 64 { gp_prefetch(entry + 64) }
    }

    /// Calls `body` with every entry, in no particular order.
    public func forEach(_ body: (IPAddress, Value) throws -> Void) rethrows {
        for bucket in 0...mask where tag(at: bucket) != 0 { try body(entries[bucket].key, entries[bucket].value) }
    }

    /// Calls `body` with the entries of about `count` buckets spread evenly over the table (the
    /// empty ones skipped): a sample, at half load about `count / 2` entries, without a full pass.
    public func sample(buckets count: Int, _ body: (IPAddress, Value) throws -> Void) rethrows {
        let stride = max(1, (mask + 1) / max(1, count))
        for bucket in Swift.stride(from: 0, through: mask, by: stride) where tag(at: bucket) != 0 {
            try body(entries[bucket].key, entries[bucket].value)
        }
    }

    /// Removes every entry `shouldRemove` says to, and returns how many went. In place, by
    /// backward-shift deletion: an entry shifted into the bucket just emptied is asked again
    /// (one from the start of the table, at the wrap, may be asked twice).
    @discardableResult
    public func removeAll(where shouldRemove: (IPAddress, Value) -> Bool) -> Int {
        var removed = 0
        var bucket = 0
        while bucket <= mask {
            if tag(at: bucket) != 0 && shouldRemove(entries[bucket].key, entries[bucket].value) {
                delete(at: bucket)
                removed += 1
            } else {
                bucket += 1
            }
        }
        return removed
    }

    // MARK: Internals

    /// A bucket's tag, read as raw memory: an empty bucket holds only its tag.
    @inline(__always)
    private func tag(at bucket: Int) -> UInt64 {
        UnsafeRawPointer(entries + bucket).load(as: UInt64.self)
    }

    @inline(__always)
    private func markEmpty(_ bucket: Int) {
        UnsafeMutableRawPointer(entries + bucket).storeBytes(of: 0, as: UInt64.self)
    }

    @inline(__always)
    private func tag(of key: IPAddress) -> UInt64 { AddressTableHash.of(key, seed: seed) }

    /// The key's bucket, or the empty bucket that ends its probe.
    @inline(__always)
    private func find(_ key: IPAddress, tag: UInt64) -> (found: Int?, empty: Int) {
        var bucket = Int(truncatingIfNeeded: tag >> 1) & mask
        while true {
            let entry = self.tag(at: bucket)
            if entry == 0 { return (nil, bucket) }
            if entry == tag && entries[bucket].key == key { return (bucket, bucket) }
            bucket = (bucket + 1) & mask
        }
    }

    /// Knuth's algorithm R: later entries of the probe run move into the hole when it lies
    /// between their home bucket and where they are.
    private func delete(at position: Int) {
        (entries + position).deinitialize(count: 1)
        var hole = position
        var next = position
        while true {
            next = (next + 1) & mask
            let tag = tag(at: next)
            if tag == 0 { break }
            let home = Int(truncatingIfNeeded: tag >> 1) & mask
            if (next &- home) & mask >= (next &- hole) & mask {
                (entries + hole).moveInitialize(from: entries + next, count: 1)
                hole = next
            }
        }
        markEmpty(hole)
        count -= 1
    }

    private func grow() {
        let (old, oldMask) = (entries, mask)
        entries = Self.allocate(2 * (oldMask + 1))
        mask = 2 * (oldMask + 1) - 1
        for bucket in 0...oldMask where UnsafeRawPointer(old + bucket).load(as: UInt64.self) != 0 {
            var target = Int(truncatingIfNeeded: old[bucket].tag >> 1) & mask
            while tag(at: target) != 0 { target = (target + 1) & mask }
            (entries + target).moveInitialize(from: old + bucket, count: 1)
        }
        old.deallocate()
    }

    private static func allocate(_ buckets: Int) -> UnsafeMutablePointer<Entry> {
        let entries = UnsafeMutablePointer<Entry>.allocate(capacity: buckets)
        for bucket in 0..<buckets { UnsafeMutableRawPointer(entries + bucket).storeBytes(of: 0, as: UInt64.self) }
        return entries
    }
}

/// The hash `AddressTable` keys an address by (its tag): a seeded multiply-mix, never 0. The
/// capture side works it out for each packet's source (`Prefilter.sourceHint`) so the engine
/// can fetch a table entry ahead.
public enum AddressTableHash {
    @inline(__always)
    public static func of(_ key: IPAddress, seed: UInt64) -> UInt64 {
        var h = (seed ^ key.high) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        h = (h ^ key.low ^ (key.isIPv6 ? 0x9E37_79B9_7F4A_7C15 : 0)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 32
        return h | 1
    }
}
