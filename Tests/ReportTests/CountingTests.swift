import Foundation
@testable import Report
import Testing
import TrafficGen

@Suite("the report's bounded counting and its times")
struct CountingTests {
    @Test("TopCounter: exact within its capacity; past it never under the truth and over by at most its error")
    func topCounter() {
        var random = SplitMix64(seed: 3)
        var truth: [Int: Int] = [:]
        var exact = TopCounter<Int, Void>(capacity: 1000)
        var bounded = TopCounter<Int, Void>(capacity: 50)
        for _ in 0..<100_000 {
            // Skewed: a few heavy keys among many light ones.
            let key = random.next(below: 10) == 0 ? random.next(below: 900) : random.next(below: 20)
            truth[key, default: 0] += 1
            exact.add(key, fresh: {}, update: { _ in })
            bounded.add(key, fresh: {}, update: { _ in })
        }
        #expect(exact.isExact)
        #expect(exact.entries.allSatisfy { truth[$0.key] == $0.count && $0.error == 0 })
        #expect(exact.entries.count == truth.count)
        #expect(!bounded.isExact)
        #expect(bounded.entries.allSatisfy { $0.count >= truth[$0.key]! && $0.count - $0.error <= truth[$0.key]! })
        // The 20 heavy keys hold about 90 % of the stream: all of them are the top 20.
        let heavy = Set(truth.sorted { $0.value > $1.value }.prefix(20).map(\.key))
        #expect(Set(bounded.top(20).map(\.key)) == heavy)
    }

    @Test("DistinctSet: exact to its limit, then an estimate within 5 %")
    func distinct() {
        var small = DistinctSet(exactLimit: 1000)
        var large = DistinctSet(exactLimit: 1000)
        for i in 0..<900 { small.insert("10.0.\(i / 256).\(i % 256)"); small.insert("10.0.\(i / 256).\(i % 256)") }
        for i in 0..<50_000 { large.insert("192.168.\(i / 256).\(i % 256)") }
        #expect(small.count == 900 && !small.isEstimate)
        #expect(large.isEstimate && abs(large.count - 50_000) < 2_500)
    }

    @Test("Timeline: widening keeps every count, and rebinning equals bucketing at that width directly")
    func timeline() {
        var random = SplitMix64(seed: 5)
        var timeline = Timeline(series: 3, maximumBuckets: 40)
        var events: [(Int64, Int)] = []
        let start: Int64 = 1_750_000_000_000_000
        for _ in 0..<5_000 {
            let time = start + Int64(random.next(below: 3_600_000)) * 1_000
            let serie = random.next(below: 3)
            events.append((time, serie))
            timeline.add(time, serie: serie)
        }
        #expect(timeline.width == 300_000_000)  // an hour in at most 40 buckets: 5 minutes
        let wide: Int64 = 600_000_000
        let origin = start / wide * wide
        let bins = timeline.rebinned(start: origin, width: wide, count: 8)
        var direct = Array(repeating: [0, 0, 0], count: 8)
        for (time, serie) in events { direct[Int((time - origin) / wide)][serie] += 1 }
        #expect(bins == direct)
        #expect(bins.flatMap { $0 }.reduce(0, +) == 5_000)
    }

    @Test("EVE timestamps: zones, fractions, and back, against Foundation's ISO 8601 reading", arguments: [
        "2025-06-15T09:12:01.009000+0000", "2025-06-15T11:12:01.009000+0200", "2025-06-15T04:12:01-05:00",
        "2024-02-29T23:59:59.999999Z", "1999-12-31T23:59:60+0000", "2038-01-19T03:14:08.5+0000",
    ])
    func timestamps(_ text: String) throws {
        let ours = try #require(EVETime.parse(text))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var normalized = text
        if !text.contains(".") { normalized = text.replacingOccurrences(of: "T04:12:01", with: "T04:12:01.000") }
        // Foundation wants a colon in the zone.
        if let plus = normalized.lastIndex(where: { $0 == "+" || $0 == "-" }), normalized.distance(from: plus, to: normalized.endIndex) == 5 {
            normalized.insert(":", at: normalized.index(plus, offsetBy: 3))
        }
        if text.contains(":60") { return }  // a leap second: Foundation refuses it, we read it as the next second
        let date = try #require(formatter.date(from: normalized), "\(normalized)")
        #expect(abs(Double(ours) / 1e6 - date.timeIntervalSince1970) < 0.001)
        let back = try #require(formatter.date(from: EVETime.format(ours, digits: 3).replacingOccurrences(of: " ", with: "T") + "Z"))
        #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.001)
    }

    @Test("timestamps that are not: nil, not a trap", arguments: ["", "2025", "2025-13-01T00:00:00Z", "2025-06-15T09:12:01.Z",
                                                                  "2025-06-15T09:12:01+01", "2025-06-15T09:12:01 junk", "xxxx-06-15T09:12:01Z"])
    func badTimestamps(_ text: String) {
        #expect(EVETime.parse(text) == nil)
    }
}
