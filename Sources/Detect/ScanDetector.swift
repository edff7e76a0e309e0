import Wire

/// Spots one source touching many watched ports or hosts in a short time, and says so once
/// per window. Only packets to watched ports reach it, so its state stays small; it is
/// bounded all the same, since sources can be spoofed.
public struct ScanDetector {
    public struct Configuration: Sendable, Equatable {
        /// Distinct watched ports (port and protocol) from one source that make a scan.
        public var ports: Int
        /// Distinct hosts contacted on watched ports by one source that make a scan.
        public var hosts: Int
        /// The window, in seconds.
        public var seconds: Int
        /// Sources tracked at once; the oldest is forgotten beyond this.
        public var maxSources: Int

        public init(ports: Int = 5, hosts: Int = 5, seconds: Int = 60, maxSources: Int = 65_536) {
            self.ports = ports
            self.hosts = hosts
            self.seconds = seconds
            self.maxSources = maxSources
        }
    }

    /// What a scan alert names.
    public struct Scan: Sendable, Equatable {
        public var source: IPAddress
        /// Watched ports touched in the window, as `port/proto`, in the order first touched.
        public var ports: [String]
        public var hosts: [IPAddress]
        public var firstSeen: Int64
        public var lastSeen: Int64
        /// The probes' TCP kind when they all share one (a FIN scan ...), else `.none`.
        public var kind: ScanKind = .none
        /// The scanner when every probe carries its fingerprint, else `.none`.
        public var tool: ScannerTool = .none
    }

    /// The host first: its 17 bytes leave room before the next 8-byte boundary for the port and
    /// protocol, so a touch is 32 bytes, not 40 (an optional one no larger), and a source's
    /// table entry 88, not 96.
    private struct Touch {
        var host: IPAddress
        var proto: UInt8
        var kind: ScanKind
        var tool: ScannerTool
        var port: UInt16
        var time: Int64
    }

    /// One source's touches, oldest first: the first held inline, the rest in an array only
    /// once a source touches a second (port, host), so a new source allocates nothing.
    /// Concrete methods only, not a Collection: the generic defaults allocated their type
    /// metadata on first use in a debug build, in the middle of the packet path.
    private struct TouchList {
        private var head: Touch?
        private var rest: [Touch] = []

        var count: Int { head == nil ? 0 : 1 + rest.count }
        var first: Touch? { head }
        subscript(position: Int) -> Touch { position == 0 ? head! : rest[position - 1] }

        /// Whether a touch among the first `limit` (all by default) satisfies `test`.
        func contains(before limit: Int? = nil, where test: (Touch) -> Bool) -> Bool {
            for i in 0..<min(limit ?? count, count) where test(self[i]) { return true }
            return false
        }

        mutating func append(_ touch: Touch) {
            if head == nil { head = touch } else { rest.append(touch) }
        }

        mutating func removeFirst() {
            head = rest.isEmpty ? nil : rest.removeFirst()
        }

        mutating func removeAll(where drop: (Touch) -> Bool) {
            guard let first = head else { return }
            if !rest.isEmpty { rest.removeAll(where: drop) }
            if drop(first) { removeFirst() }
        }
    }

    private struct SourceState {
        var touches = TouchList()
        var lastSeen: Int64 = 0
        var quietUntil: Int64 = .min
    }

    public let configuration: Configuration
    private let sources: AddressTable<SourceState>
    public private(set) var sourcesForgotten: UInt64 = 0
    public private(set) var scansReported: UInt64 = 0

    /// `seed` keys the source table's hash (the engine gives its flow table's).
    public init(configuration: Configuration = Configuration(), seed: UInt64 = 0) {
        self.configuration = configuration
        sources = AddressTable(seed: seed)
    }

    public var trackedSources: Int { sources.count }

    /// Starts fetching the entry of the source whose `AddressTable.hash` (with this detector's
    /// seed) is `sourceHint`, for a flow about to start. A hint only.
    @inline(__always)
    public func prefetch(sourceHint: UInt64) { sources.prefetch(hash: sourceHint) }

    /// Whether `source` is tracked now (not yet forgotten).
    public func isTracking(_ source: IPAddress) -> Bool { sources.value(for: source) != nil }

    /// Records a packet from `source` to a watched `port` on `host` at `time` (nanoseconds), of
    /// `kind` and carrying `tool`'s fingerprint. Returns a scan the first time the source
    /// crosses a threshold within the window.
    public mutating func observe(source: IPAddress, host: IPAddress, port: UInt16, proto: UInt8,
                                 kind: ScanKind = .none, tool: ScannerTool = .none, time: Int64) -> Scan? {
        let window = Int64(configuration.seconds) * 1_000_000_000
        if sources.count >= configuration.maxSources && sources.value(for: source) == nil {
            forgetOldest(now: time, window: window)
        }
        // In place: one probe, and the touches array is not copied on write.
        let configuration = configuration
        var reported = scansReported
        defer { scansReported = reported }
        return sources.update(source, default: { SourceState() }) { state in
            Self.observe(&state, configuration: configuration, window: window, source: source,
                         touch: Touch(host: host, proto: proto, kind: kind, tool: tool, port: port, time: time),
                         reported: &reported)
        }
    }

    private static func observe(_ state: inout SourceState, configuration: Configuration, window: Int64,
                                source: IPAddress, touch new: Touch, reported scansReported: inout UInt64) -> Scan? {
        let time = new.time, host = new.host, port = new.port, proto = new.proto
        state.lastSeen = time
        state.touches.removeAll { time - $0.time > window }
        // One touch per distinct (port, host): that is all the thresholds count.
        if !state.touches.contains(where: { $0.port == port && $0.proto == proto && $0.host == host }) {
            // A source that keeps scanning must not grow without bound: keep the most recent.
            if state.touches.count >= 4 * max(configuration.ports, configuration.hosts) + 64 {
                state.touches.removeFirst()
            }
            state.touches.append(new)
        }
        guard time >= state.quietUntil else { return nil }
        // Counted in place: lists are built only for a scan, so a new source costs no array.
        var portCount = 0, hostCount = 0
        for i in 0..<state.touches.count {
            let touch = state.touches[i]
            if !state.touches.contains(before: i, where: { $0.port == touch.port && $0.proto == touch.proto }) { portCount += 1 }
            if !state.touches.contains(before: i, where: { $0.host == touch.host }) { hostCount += 1 }
        }
        guard portCount >= configuration.ports || hostCount >= configuration.hosts else { return nil }
        var ports: [(UInt16, UInt8)] = []
        var hosts: [IPAddress] = []
        var kind = state.touches.first?.kind ?? .none, tool = state.touches.first?.tool ?? .none
        for i in 0..<state.touches.count {
            let touch = state.touches[i]
            if touch.kind != kind { kind = .none }
            if touch.tool != tool { tool = .none }
            if !ports.contains(where: { $0 == (touch.port, touch.proto) }) { ports.append((touch.port, touch.proto)) }
            if !hosts.contains(touch.host) { hosts.append(touch.host) }
        }
        state.quietUntil = time + window
        scansReported += 1
        return Scan(
            source: source,
            ports: ports.map { "\($0.0)/\(IPProtocol.name($0.1)?.lowercased() ?? String($0.1))" },
            hosts: hosts,
            firstSeen: state.touches.first?.time ?? time,
            lastSeen: time,
            kind: kind,
            tool: tool
        )
    }

    /// Drops the sources idle for a window, and at least about the least recently seen eighth,
    /// so a flood of spoofed sources costs amortised O(1) per new source. The eighth's cut-off
    /// is read from a sample of the table (512 buckets): one pass over the table, not a
    /// gathering and a selection over all of it, which cost more than the rest of a new source.
    private mutating func forgetOldest(now: Int64, window: Int64) {
        var sample: [Int64] = []
        sample.reserveCapacity(512)
        sources.sample(buckets: 512) { _, state in sample.append(state.lastSeen) }
        // Idle for a window: seen before `now - window` (as in `now - lastSeen > window`).
        var cutoff = now - window
        if !sample.isEmpty {
            cutoff = max(cutoff, sample.selectSmallest(max(1, sample.count / 8)))
        }
        var forgotten = sources.removeAll { _, state in now - state.lastSeen > window || state.lastSeen < cutoff }
        if sources.count >= configuration.maxSources {
            // Many sources seen at the cut-off instant itself (or an unlucky sample): take enough of those too.
            var needed = max(1, sources.count / 8)
            forgotten += sources.removeAll { _, state in
                guard needed > 0, state.lastSeen <= cutoff else { return false }
                needed -= 1
                return true
            }
            if sources.count >= configuration.maxSources {
                needed = max(1, sources.count / 8)
                forgotten += sources.removeAll { _, _ in
                    guard needed > 0 else { return false }
                    needed -= 1
                    return true
                }
            }
        }
        sourcesForgotten += UInt64(forgotten)
    }
}

extension Array where Element == Int64 {
    /// The `k`-th smallest element (1-based), reordering the array: quickselect, O(n) on average.
    mutating func selectSmallest(_ k: Int) -> Int64 {
        precondition(k >= 1 && k <= count, "selectSmallest out of range")
        var low = 0, high = count - 1
        let target = k - 1
        while low < high {
            // Median of three as pivot, then Hoare's partition.
            let middle = low + (high - low) / 2
            let pivot = Swift.max(Swift.min(self[low], self[middle]), Swift.min(Swift.max(self[low], self[middle]), self[high]))
            var i = low, j = high
            while i <= j {
                while self[i] < pivot { i += 1 }
                while self[j] > pivot { j -= 1 }
                if i <= j {
                    swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j { high = j } else if target >= i { low = i } else { return self[target] }
        }
        return self[target]
    }
}
