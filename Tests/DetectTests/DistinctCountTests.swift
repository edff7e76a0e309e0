import Detect
import Testing
import TestSupport
import Wire

/// The flood records' estimators against exact counts of the same streams.
@Suite struct DistinctCountTests {
    /// Within three standard errors at every scale from one to a million, repeats not counted.
    @Test(arguments: [1, 7, 100, 1_000, 5_000, 20_000, 100_000, 1_000_000])
    func estimateIsWithinThreeStandardErrors(distinct: Int) {
        var sketch = DistinctCount()
        var rng = SplitMix64(seed: UInt64(distinct))
        let base = rng.next()
        for i in 0..<distinct {
            let address = IPAddress(ipv4: UInt32(truncatingIfNeeded: base &+ UInt64(i) &* 2_654_435_761))
            sketch.insert(hash: DistinctCount.hash(address, seed: 42))
            // Every tenth address again: a repeat changes nothing.
            if i % 10 == 0 { sketch.insert(hash: DistinctCount.hash(address, seed: 42)) }
        }
        let error = abs(Double(sketch.estimate) - Double(distinct)) / Double(distinct)
        #expect(error <= 3 * DistinctCount.standardError + (distinct < 100 ? 0.02 : 0),
                "\(distinct) distinct, estimated \(sketch.estimate)")
    }

    @Test func emptyMergeAndFamilies() {
        #expect(DistinctCount().estimate == 0)
        var a = DistinctCount(), b = DistinctCount(), union = DistinctCount()
        for i in 0..<30_000 as Range<UInt32> {
            let hash = DistinctCount.hash(IPAddress(ipv4: i), seed: 1)
            if i < 20_000 { a.insert(hash: hash) }
            if i >= 10_000 { b.insert(hash: hash) }
            union.insert(hash: hash)
        }
        a.merge(b)
        #expect(a == union, "merging is the sketch of the union")
        // IPv4 a.b.c.d and IPv6 ::a.b.c.d are different addresses.
        #expect(DistinctCount.hash(IPAddress(ipv4: 7), seed: 1) != DistinctCount.hash(IPAddress(high: 0, low: 7, isIPv6: true), seed: 1))
    }

    /// Space-Saving: an address sent often is held, and its count never overstates it.
    @Test func topAddressesFindTheHeavyOnes() {
        var top = TopAddresses()
        var exact: [IPAddress: UInt64] = [:]
        var rng = SplitMix64(seed: 3)
        for i in 0..<50_000 {
            // Three heavy senders (5 %, 2 %, 1 %) among 40,000 others.
            let r = rng.next(below: 100)
            let address = r < 5 ? IPAddress(ipv4: 1) : r < 7 ? IPAddress(ipv4: 2) : r < 8 ? IPAddress(ipv4: 3)
                : IPAddress(ipv4: 1_000 + UInt32(i % 40_000))
            top.insert(address)
            exact[address, default: 0] += 1
        }
        let named = top.top(10)
        #expect(named.prefix(3).map(\.address) == [IPAddress(ipv4: 1), IPAddress(ipv4: 2), IPAddress(ipv4: 3)])
        for entry in named { #expect(entry.count <= exact[entry.address]!, "\(entry.address): \(entry.count) > \(exact[entry.address]!)") }
    }
}

extension DistinctCountTests {
    /// Merged summaries keep their bounds: a source sure to repeat in either is sure in both,
    /// and one that sent once in each window is not named for more than it sent.
    @Test func mergedTopAddressesKeepTheirBounds() {
        var windows = [TopAddresses(), TopAddresses()]
        var exact: [IPAddress: UInt64] = [:]
        for w in 0..<2 {
            for i in 0..<5_000 as Range<UInt32> {
                let address = i % 25 == 0 ? IPAddress(ipv4: 7) : IPAddress(ipv4: 100_000 * UInt32(w + 1) + i)
                windows[w].insert(address)
                exact[address, default: 0] += 1
            }
        }
        var merged = TopAddresses()
        merged.merge(windows[0])
        merged.merge(windows[1])
        let named = merged.top(10)
        #expect(named.first?.address == IPAddress(ipv4: 7))
        for entry in named { #expect(entry.count <= exact[entry.address]!, "\(entry.address): \(entry.count)") }
    }
}
