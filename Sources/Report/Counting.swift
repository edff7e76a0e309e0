import Detect

/// Distinct values, exact up to `exactLimit` (their 64-bit hashes in a set), then estimated by a
/// HyperLogLog sketch (`DistinctCount`, 1.6 % standard error) so memory stays bounded.
struct DistinctSet {
    let exactLimit: Int
    private var exact: Set<UInt64> = []
    private var sketch: DistinctCount?

    init(exactLimit: Int) {
        self.exactLimit = exactLimit
    }

    mutating func insert(_ value: String) {
        var hasher = Hasher()
        hasher.combine(value)
        let hash = UInt64(bitPattern: Int64(hasher.finalize()))
        if sketch != nil {
            sketch!.insert(hash: hash)
            return
        }
        exact.insert(hash)
        if exact.count > exactLimit {
            var fresh = DistinctCount()
            for value in exact { fresh.insert(hash: value) }
            sketch = fresh
            exact = []
        }
    }

    var count: Int { sketch.map { Int($0.estimate) } ?? exact.count }
    /// Whether `count` is an estimate.
    var isEstimate: Bool { sketch != nil }
}

/// The heaviest keys of a stream in bounded memory, in the manner of Metwally, Agrawal and El
/// Abbadi's Space-Saving (2005), evicting in batches: up to `capacity` distinct keys every count is
/// exact; at twice that the lighter half is dropped, and a key seen after an eviction starts from
/// the heaviest count dropped (`floor`) as its possible error. So a count is never under the truth
/// and over it by at most its `error`; the cost is a sort of `capacity` entries per `capacity` new
/// keys, not a search per key.
struct TopCounter<Key: Hashable, Detail> {
    struct Entry {
        var key: Key
        var count: Int
        var error: Int
        var detail: Detail
    }

    let capacity: Int
    private(set) var entries: [Entry] = []
    private var slots: [Key: Int] = [:]
    /// The heaviest count evicted so far: a new key may have had up to this many before.
    private(set) var floor = 0
    /// Keys evicted, in all.
    private(set) var evicted = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    var isExact: Bool { evicted == 0 }

    /// Adds `weight` to `key`'s count and lets `update` change its detail (`fresh` makes a new one).
    mutating func add(_ key: Key, weight: Int = 1, fresh: () -> Detail, update: (inout Detail) -> Void) {
        if let slot = slots[key] {
            entries[slot].count += weight
            update(&entries[slot].detail)
            return
        }
        if entries.count >= 2 * capacity { evict() }
        var detail = fresh()
        update(&detail)
        slots[key] = entries.count
        entries.append(Entry(key: key, count: floor + weight, error: floor, detail: detail))
    }

    private mutating func evict() {
        entries.sort { $0.count > $1.count }
        floor = max(floor, entries[capacity...].map(\.count).max() ?? 0)
        evicted += entries.count - capacity
        entries.removeSubrange(capacity...)
        slots.removeAll(keepingCapacity: true)
        for (slot, entry) in entries.enumerated() { slots[entry.key] = slot }
    }

    /// The first `limit` entries by `order` (default: count, descending).
    func top(_ limit: Int, by order: ((Entry, Entry) -> Bool)? = nil) -> [Entry] {
        let order = order ?? { $0.count > $1.count }
        return Array(entries.sorted(by: order).prefix(limit))
    }
}

/// Counts per time bucket for several series (verdicts), in bounded memory: buckets start at one
/// millisecond and widen along a ladder whose each width divides the next (1 ms, 10 ms, 100 ms, 1 s,
/// 5 s, 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, 1 day, 1 week, then doubling)
/// whenever the span seen needs more than `maximumBuckets`, merging what was counted. Bucket
/// edges are multiples of the width from the epoch, so merging loses nothing.
struct Timeline {
    static let ladder: [Int64] = [1_000, 10_000, 100_000, 1_000_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
                                  300_000_000, 600_000_000, 1_800_000_000, 3_600_000_000, 10_800_000_000,
                                  21_600_000_000, 86_400_000_000, 604_800_000_000]

    let series: Int
    let maximumBuckets: Int
    private(set) var width: Int64 = ladder[0]
    /// Bucket index (time / width) to counts per series.
    private(set) var buckets: [Int64: [Int]] = [:]
    private(set) var first = Int64.max
    private(set) var last = Int64.min

    init(series: Int, maximumBuckets: Int) {
        self.series = series
        self.maximumBuckets = maximumBuckets
    }

    /// Counts one event of `serie` at `time` (microseconds since the epoch).
    mutating func add(_ time: Int64, serie: Int, weight: Int = 1) {
        first = min(first, time)
        last = max(last, time)
        while floorDiv(last, width) - floorDiv(first, width) + 1 > Int64(maximumBuckets) { widen() }
        buckets[floorDiv(time, width), default: Array(repeating: 0, count: series)][serie] += weight
    }

    static func next(after width: Int64) -> Int64 {
        ladder.first { $0 > width } ?? width * 2
    }

    private mutating func widen() {
        let wider = Self.next(after: width)
        let factor = wider / width
        var merged: [Int64: [Int]] = [:]
        for (index, counts) in buckets {
            let target = floorDiv(index, factor)
            var sum = merged[target] ?? Array(repeating: 0, count: series)
            for i in 0..<series { sum[i] += counts[i] }
            merged[target] = sum
        }
        buckets = merged
        width = wider
    }

    /// The counts over `width` buckets from `start` (a multiple of `width`), `count` of them: `width`
    /// must be a width of the ladder at least as wide as this timeline's.
    func rebinned(start: Int64, width wide: Int64, count: Int) -> [[Int]] {
        var result = Array(repeating: Array(repeating: 0, count: series), count: count)
        for (index, counts) in buckets {
            let slot = Int(floorDiv(index * width - start, wide))
            guard slot >= 0 && slot < count else { continue }
            for i in 0..<series { result[slot][i] += counts[i] }
        }
        return result
    }

    var isEmpty: Bool { buckets.isEmpty }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
