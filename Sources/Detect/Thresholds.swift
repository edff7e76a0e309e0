import Rules
import Wire

/// The state behind `threshold` and `detection_filter`: counters per rule and tracked
/// address, in packet time. Only packets that matched a rule with one of them get here.
public struct Thresholds {
    private struct Key: Hashable {
        var rule: Int
        var first: IPAddress
        var second: IPAddress
    }

    private struct Counter {
        var windowStart: Int64
        var matches: UInt32
        var alerts: UInt32
    }

    /// Keys held at once; expired ones are swept first, then the table is cleared.
    public let capacity: Int
    private var counters: [Key: Counter] = [:]
    /// Matches a threshold or detection filter kept from alerting.
    public private(set) var suppressed: UInt64 = 0
    /// Counters dropped because the table was full.
    public private(set) var shed: UInt64 = 0

    public init(capacity: Int = 65_536) {
        self.capacity = capacity
    }

    /// Whether a match of `rule` (index `index`) by this packet should raise an alert.
    public mutating func allows(_ rule: Rule, index: Int, src: IPAddress, dst: IPAddress, time: Int64) -> Bool {
        var allowed = true
        if let filter = rule.detectionFilter {
            allowed = step(index: index, track: filter.track, src: src, dst: dst, time: time,
                           seconds: filter.seconds, salt: 1) { counter in
                counter.matches > filter.count  // every match after the Nth
            }
        }
        if allowed, let threshold = rule.threshold {
            allowed = step(index: index, track: threshold.track, src: src, dst: dst, time: time,
                           seconds: threshold.seconds, salt: 0) { counter in
                switch threshold.kind {
                case .limit:
                    return counter.matches <= threshold.count
                case .threshold:
                    return counter.matches % max(threshold.count, 1) == 0
                case .both:
                    return counter.matches == threshold.count
                }
            }
        }
        if !allowed { suppressed += 1 }
        return allowed
    }

    private mutating func step(index: Int, track: ThresholdTrack, src: IPAddress, dst: IPAddress, time: Int64,
                               seconds: UInt32, salt: Int, decide: (Counter) -> Bool) -> Bool {
        let window = Int64(seconds) * 1_000_000_000
        let key: Key
        switch track {
        case .bySource: key = Key(rule: index * 2 + salt, first: src, second: .zero)
        case .byDestination: key = Key(rule: index * 2 + salt, first: dst, second: .zero)
        case .byRule: key = Key(rule: index * 2 + salt, first: .zero, second: .zero)
        case .byBoth: key = Key(rule: index * 2 + salt, first: src, second: dst)
        }
        var counter = counters[key] ?? Counter(windowStart: time, matches: 0, alerts: 0)
        if time - counter.windowStart >= window {
            counter = Counter(windowStart: time, matches: 0, alerts: 0)
        }
        counter.matches += 1
        let allowed = decide(counter)
        if allowed { counter.alerts += 1 }
        if counters[key] == nil && counters.count >= capacity { makeRoom(now: time) }
        counters[key] = counter
        return allowed
    }

    private mutating func makeRoom(now: Int64) {
        let before = counters.count
        // Windows are at most a day in practice; anything older than that is dead.
        counters = counters.filter { now - $0.value.windowStart < 86_400 * 1_000_000_000 }
        if counters.count >= capacity { counters.removeAll(keepingCapacity: true) }
        shed += UInt64(before - counters.count)
    }
}
