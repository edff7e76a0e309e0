import Wire

/// The sensor-wide alert rate limit the operator sets (Suricata's `rate_filter`, Snort's
/// `event_filter`, but for every rule at once): at most `perSource` alerts from one source
/// address and `perSid` alerts of one sid in any `seconds`-long window of packet time. Zero
/// means no limit. Per-rule `threshold`/`detection_filter` apply first; this is the backstop.
public struct AlertLimits: Sendable, Equatable {
    public var perSource: Int
    public var perSid: Int
    public var seconds: Int
    /// Sources tracked at once: the table's bound (about 64 bytes each).
    public var sourceCapacity: Int

    public init(perSource: Int = 0, perSid: Int = 0, seconds: Int = 60, sourceCapacity: Int = 65_536) {
        self.perSource = perSource
        self.perSid = perSid
        self.seconds = seconds
        self.sourceCapacity = sourceCapacity
    }

    /// Every alert written: `read`'s default, where an analyst wants the whole capture.
    public static let unlimited = AlertLimits()
    /// The live sensor's default: far above what a person reads, far below what fills a disk.
    public static let live = AlertLimits(perSource: 100, perSid: 1_000, seconds: 60)

    public var isUnlimited: Bool { perSource <= 0 && perSid <= 0 }
}

/// Keeps the alert limits: one fixed window per source and per sid, opened by the first alert
/// counted against it (written, or shed by that same limit: an alert shed by one limit leaves
/// the other's window alone). Alerts past a limit are shed (not written) and counted by reason. The source table is
/// bounded: when full, expired windows go first, then sources still under the limit (they lose
/// only a count), then everything; sources pushed out early are counted as evicted.
public struct AlertLimiter {
    public enum Decision: Equatable {
        case allowed
        case shedBySource
        case shedBySid
    }

    struct Window {
        var start: Int64
        var alerts: Int
        var shed: Int
    }

    /// A stretch of shedding: from the first alert shed until one window later, for the log.
    public struct Episode: Equatable, Sendable {
        public var start: Int64
        public var bySource: UInt64 = 0
        public var bySid: UInt64 = 0
        public var topSid: UInt32 = 0
        public var topSidShed = 0
        public var topSource: IPAddress = .zero
        public var topSourceShed = 0
    }

    public let limits: AlertLimits
    private let window: Int64
    private let sources: AddressTable<Window>
    private var sids: [UInt32: Window] = [:]
    /// Alerts shed because their source was over `perSource`.
    public private(set) var shedBySource: UInt64 = 0
    /// Alerts shed because their sid was over `perSid` (the source was within its limit).
    public private(set) var shedBySid: UInt64 = 0
    /// Sources pushed out of a full table while their window was still open.
    public private(set) var evicted: UInt64 = 0
    public private(set) var episode: Episode?

    /// `seed` keys the source table's hash (the engine gives its flow table's).
    public init(limits: AlertLimits, seed: UInt64 = 0) {
        self.limits = limits
        window = Int64(max(1, limits.seconds)) * 1_000_000_000
        sources = AddressTable(seed: seed)
    }

    /// Sources tracked now (at most `limits.sourceCapacity`).
    public var trackedSources: Int { sources.count }

    /// Whether an alert of `sid` from `source` at packet time `time` may be written; counts it
    /// against both limits when it may, and as shed (one reason) when not.
    public mutating func admit(sid: UInt32, source: IPAddress, time: Int64) -> Decision {
        if limits.isUnlimited { return .allowed }
        var sourceWindow: Window?
        var sourceKnown = false
        if limits.perSource > 0 {
            let known = sources.value(for: source)
            sourceKnown = known != nil
            var current = known ?? Window(start: time, alerts: 0, shed: 0)
            if time - current.start >= window { current = Window(start: time, alerts: 0, shed: 0) }
            if current.alerts >= limits.perSource {
                current.shed += 1
                store(current, for: source)
                shedBySource &+= 1
                noteShed(.shedBySource, time: time, sid: sid, sidShed: 0, source: source, sourceShed: current.shed)
                return .shedBySource
            }
            sourceWindow = current
        }
        if limits.perSid > 0 {
            var current = sids[sid] ?? Window(start: time, alerts: 0, shed: 0)
            if time - current.start >= window { current = Window(start: time, alerts: 0, shed: 0) }
            if current.alerts >= limits.perSid {
                current.shed += 1
                sids[sid] = current
                shedBySid &+= 1
                noteShed(.shedBySid, time: time, sid: sid, sidShed: current.shed, source: source, sourceShed: 0)
                return .shedBySid
            }
            current.alerts += 1
            sids[sid] = current
        }
        if var current = sourceWindow {
            current.alerts += 1
            // Looked up above, and nothing has changed the table since.
            if !sourceKnown && sources.count >= limits.sourceCapacity { makeRoom(now: time) }
            store(current, for: source)
        }
        return .allowed
    }

    private func store(_ current: Window, for source: IPAddress) {
        sources.update(source, default: { current }) { $0 = current }
    }

    /// The episode in progress once packet time `now` is a window past its start: it is over
    /// and handed back (for its summary); nil otherwise.
    public mutating func endEpisode(now: Int64) -> Episode? {
        guard let current = episode, now - current.start >= window else { return nil }
        episode = nil
        return current
    }

    /// The episode in progress, ended now whatever the time (the end of input, shutdown).
    public mutating func endEpisode() -> Episode? {
        defer { episode = nil }
        return episode
    }

    private mutating func noteShed(_ reason: Decision, time: Int64, sid: UInt32, sidShed: Int, source: IPAddress,
                                   sourceShed: Int) {
        var current = episode ?? Episode(start: time)
        if reason == .shedBySource {
            current.bySource &+= 1
            if sourceShed > current.topSourceShed {
                current.topSource = source
                current.topSourceShed = sourceShed
            }
        } else {
            current.bySid &+= 1
            if sidShed > current.topSidShed {
                current.topSid = sid
                current.topSidShed = sidShed
            }
        }
        episode = current
    }

    private mutating func makeRoom(now: Int64) {
        let window = window, perSource = limits.perSource
        sources.removeAll { _, open in now - open.start >= window }
        // Keep the sources being shed: they are the ones the limit is for.
        if sources.count > limits.sourceCapacity / 2 {
            evicted &+= UInt64(sources.removeAll { _, open in open.alerts < perSource })
        }
        // Still more than half full (a flood of sources all at their limit): start afresh, so
        // each sweep frees at least half the table and the cost per alert stays constant.
        if sources.count > limits.sourceCapacity / 2 {
            evicted &+= UInt64(sources.removeAll { _, _ in true })
        }
    }
}

extension AlertLimiter.Episode {
    /// One log line about the episode: what was shed, by which reason, and the worst offenders.
    public func summary(limits: AlertLimits) -> String {
        var text = "alert limit: \(bySource + bySid) alerts shed in the \(limits.seconds) s after shedding began"
        text += " (\(bySource) over per_source \(limits.perSource), \(bySid) over per_sid \(limits.perSid))"
        var worst: [String] = []
        if topSidShed > 0 { worst.append("sid \(topSid) (\(topSidShed))") }
        if topSourceShed > 0 { worst.append("source \(topSource) (\(topSourceShed))") }
        if !worst.isEmpty { text += "; most shed: " + worst.joined(separator: ", ") }
        return text
    }
}
