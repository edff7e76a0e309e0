/// A set of unsigned integers kept as sorted, disjoint, non-adjacent closed ranges.
///
/// Address and port sets compile to this form, so negation and nested lists are
/// resolved once at load time and a lookup is one binary search.
public struct IntervalSet<Bound: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable, Hashable {
    public private(set) var ranges: [ClosedRange<Bound>]

    public init() { ranges = [] }

    public init(_ range: ClosedRange<Bound>) { ranges = [range] }

    /// Normalises any ranges: sorts them and merges overlapping or touching ones.
    public init<S: Sequence>(_ unsorted: S) where S.Element == ClosedRange<Bound> {
        let sorted = unsorted.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Bound>] = []
        merged.reserveCapacity(sorted.count)
        for range in sorted {
            if let last = merged.last,
               last.upperBound == Bound.max || range.lowerBound <= last.upperBound + 1 {
                if range.upperBound > last.upperBound {
                    merged[merged.count - 1] = last.lowerBound...range.upperBound
                }
            } else {
                merged.append(range)
            }
        }
        ranges = merged
    }

    public static var all: IntervalSet { IntervalSet(Bound.min...Bound.max) }

    // Inlinable, like `contains`: from another module a generic set's accessors are otherwise
    // called unspecialized, through type metadata (which showed in profiles of rule loading).
    @inlinable
    public var isEmpty: Bool { ranges.isEmpty }

    @inlinable
    public var isFull: Bool { ranges.count == 1 && ranges[0] == Bound.min...Bound.max }

    /// Binary search over the ranges; no allocation.
    @inlinable
    public func contains(_ value: Bound) -> Bool {
        ranges.withUnsafeBufferPointer { buffer in
            var low = 0
            var high = buffer.count
            while low < high {
                let mid = (low &+ high) >> 1
                let range = buffer[mid]
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
    }

    public func union(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty { return self }
        if isEmpty { return other }
        return IntervalSet(ranges + other.ranges)
    }

    /// Everything in Bound.min...Bound.max not in this set.
    public func complement() -> IntervalSet {
        var result: [ClosedRange<Bound>] = []
        var next = Bound.min
        var exhausted = false
        for range in ranges {
            if range.lowerBound > next {
                result.append(next...(range.lowerBound - 1))
            }
            if range.upperBound == Bound.max {
                exhausted = true
                break
            }
            next = range.upperBound + 1
        }
        if !exhausted {
            result.append(next...Bound.max)
        }
        var set = IntervalSet()
        set.ranges = result
        return set
    }

    public func subtracting(_ other: IntervalSet) -> IntervalSet {
        if other.isEmpty || isEmpty { return self }
        return intersection(other.complement())
    }

    public func intersection(_ other: IntervalSet) -> IntervalSet {
        var result: [ClosedRange<Bound>] = []
        var i = 0
        var j = 0
        while i < ranges.count && j < other.ranges.count {
            let a = ranges[i]
            let b = other.ranges[j]
            let low = max(a.lowerBound, b.lowerBound)
            let high = min(a.upperBound, b.upperBound)
            if low <= high { result.append(low...high) }
            if a.upperBound < b.upperBound { i += 1 } else { j += 1 }
        }
        var set = IntervalSet()
        set.ranges = result
        return set
    }

    /// How many values the set holds, saturating at Bound.max.
    @inlinable
    public var count: Bound {
        var total: Bound = 0
        for range in ranges {
            let (width, overflow1) = (range.upperBound - range.lowerBound).addingReportingOverflow(1)
            let (sum, overflow2) = total.addingReportingOverflow(width)
            if overflow1 || overflow2 { return Bound.max }
            total = sum
        }
        return total
    }
}
