import Wire

/// The number of distinct values in a stream, estimated in 4 KiB: a HyperLogLog sketch
/// (Flajolet, Fusy, Gandouet and Meunier, 2007) of 2^12 one-byte registers, read with Otmar
/// Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
/// sketches", 2017), which needs neither bias tables nor a switch to linear counting: its
/// relative standard error is about `standardError` (1.04 / √4096 = 1.6 %) from a handful of
/// values to billions.
///
/// Ours rather than a library's: none is in the allowed package set, and a flood feeds it once
/// per folded flow, so it must not allocate past its first insert.
public struct DistinctCount: Sendable, Equatable {
    public static let precision = 12
    static let registerCount = 1 << precision
    /// The estimate's relative standard error.
    public static let standardError = 1.04 / Double(registerCount).squareRoot()

    /// Allocated at the first insert: a sketch that saw nothing costs nothing.
    private var registers: [UInt8] = []

    public init() {}

    public var isEmpty: Bool { registers.isEmpty }

    /// Counts a value by its 64-bit hash (see `hash(_:seed:)`).
    @inline(__always)
    public mutating func insert(hash: UInt64) {
        if registers.isEmpty { registers = [UInt8](repeating: 0, count: Self.registerCount) }
        let index = Int(truncatingIfNeeded: hash >> UInt64(64 - Self.precision))
        let rank = UInt8(truncatingIfNeeded: min((hash << UInt64(Self.precision)).leadingZeroBitCount, 64 - Self.precision) + 1)
        registers.withUnsafeMutableBufferPointer { if rank > $0[index] { $0[index] = rank } }
    }

    /// The sketch of both streams together.
    public mutating func merge(_ other: DistinctCount) {
        guard !other.registers.isEmpty else { return }
        guard !registers.isEmpty else {
            registers = other.registers
            return
        }
        for i in 0..<Self.registerCount where other.registers[i] > registers[i] { registers[i] = other.registers[i] }
    }

    /// The estimated number of distinct values inserted.
    public var estimate: UInt64 {
        guard !registers.isEmpty else { return 0 }
        let q = 64 - Self.precision
        var histogram = [Double](repeating: 0, count: q + 2)
        for value in registers { histogram[Int(value)] += 1 }
        let m = Double(Self.registerCount)
        var z = m * Self.tau(1 - histogram[q + 1] / m)
        for k in stride(from: q, through: 1, by: -1) { z = 0.5 * (z + histogram[k]) }
        z += m * Self.sigma(histogram[0] / m)
        guard z.isFinite, z > 0 else { return 0 }
        // α∞ = 1 / (2 ln 2).
        return UInt64((0.721_347_520_444_481_7 * m * m / z).rounded())
    }

    private static func sigma(_ x0: Double) -> Double {
        if x0 == 1 { return .infinity }
        var x = x0, y = 1.0, z = x0
        while true {
            x *= x
            let previous = z
            z += x * y
            y += y
            if z == previous { return z }
        }
    }

    private static func tau(_ x0: Double) -> Double {
        if x0 == 0 || x0 == 1 { return 0 }
        var x = x0, y = 1.0, z = 1 - x0
        while true {
            x = x.squareRoot()
            let previous = z
            y *= 0.5
            z -= (1 - x) * (1 - x) * y
            if z == previous { return z / 3 }
        }
    }

    /// A well-mixed 64-bit hash of an address (splitmix64's finalizer, twice), keyed by `seed`.
    @inline(__always)
    public static func hash(_ address: IPAddress, seed: UInt64) -> UInt64 {
        mix(mix(address.low &+ seed) ^ address.high ^ (address.isIPv6 ? 0x8000_0000_0000_0000 : 0))
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The most frequent addresses of a stream in bounded memory: Space-Saving (Metwally, Agrawal
/// and El Abbadi, 2005) with `capacity` counters. Every address seen more often than
/// 1/`capacity` of the total is held; a count is over by at most `error` of its entry.
public struct TopAddresses: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var address: IPAddress
        public var count: UInt64
        /// How much of `count` may belong to the addresses this entry replaced.
        public var error: UInt64
    }

    public static let capacity = 128
    public private(set) var entries: [Entry] = []
    /// Entry index by address, so a repeat costs a hash lookup; only a new address, which
    /// replaces the smallest count once the entries are full, scans them.
    private var index: [IPAddress: Int] = [:]
    /// The smallest count there was at the last search, and where the next one starts.
    private var floor: UInt64 = 0
    private var cursor = 0

    public init() {}

    /// Counts `address` `count` times, of which up to `error` may not be its own (a merge).
    public mutating func insert(_ address: IPAddress, count: UInt64 = 1, error: UInt64 = 0) {
        if let i = index[address] {
            entries[i].count &+= count
            entries[i].error &+= error
            return
        }
        if entries.count < Self.capacity {
            index[address] = entries.count
            entries.append(Entry(address: address, count: count, error: error))
            return
        }
        let smallest = indexOfSmallest()
        let floor = entries[smallest].count
        index[entries[smallest].address] = nil
        index[address] = smallest
        entries[smallest] = Entry(address: address, count: floor &+ count, error: floor &+ error)
    }

    /// An entry with the smallest count. Counts only grow, so the smallest seen (`floor`) stays a
    /// lower bound: an entry still at it is a smallest one, found from where the last search
    /// stopped. In a spoofed flood every address is new and most entries sit at the floor, so a
    /// search is a step or two, not a scan of all 128.
    private mutating func indexOfSmallest() -> Int {
        let found: Int? = entries.withUnsafeBufferPointer { all in
            for step in 0..<all.count {
                let i = (cursor + step) % all.count
                if all[i].count == floor { return i }
            }
            return nil
        }
        if let found {
            cursor = (found + 1) % entries.count
            return found
        }
        floor = entries.map(\.count).min()!
        let first = entries.firstIndex { $0.count == floor }!
        cursor = (first + 1) % entries.count
        return first
    }

    public mutating func merge(_ other: TopAddresses) {
        for entry in other.entries { insert(entry.address, count: entry.count, error: entry.error) }
    }

    /// The `limit` addresses seen most often, by the count each is sure to have (`count - error`,
    /// never more than the true count), largest first (ties by address); only those sure to have
    /// been seen more than once: in a spoofed flood, where every address is new, none.
    public func top(_ limit: Int) -> [(address: IPAddress, count: UInt64)] {
        let sure = entries.map { (address: $0.address, count: $0.count - $0.error) }.filter { $0.count > 1 }
        return Array(sure.sorted { $0.count > $1.count || ($0.count == $1.count && $0.address < $1.address) }.prefix(limit))
    }
}
