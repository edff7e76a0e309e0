import Flow
import Wire

/// Everything the sensor counts, in one model: what the engine and its prefilter counted, the
/// flow table's counts, the capture's and the outputs'. Output renders it as the EVE `stats`
/// record, the Prometheus textfile and `read`'s summary.
public struct SensorStats: Sendable, Equatable {
    public var uptimeSeconds: UInt64 = 0
    public var engine = EngineStats()
    public var flows = FlowCounters()
    public var capture = CaptureCounters()
    public var output = OutputCounters()
    public var rules = RuleCounts()
    /// Each worker's share when the sensor has several (`run --workers N`); nil with one.
    public var workers: [WorkerCounts]?

    public init(uptimeSeconds: UInt64 = 0, engine: EngineStats = EngineStats(), flows: FlowCounters = FlowCounters(),
                capture: CaptureCounters = CaptureCounters(), output: OutputCounters = OutputCounters(),
                rules: RuleCounts = RuleCounts()) {
        self.uptimeSeconds = uptimeSeconds
        self.engine = engine
        self.flows = flows
        self.capture = capture
        self.output = output
        self.rules = rules
    }
}

/// One worker's share of a sensor with several (`run --workers N`): its capture socket's and
/// its engine's counts.
public struct WorkerCounts: Sendable, Equatable {
    /// Packets its engine counted (those its prefilter turned away too).
    public var packets: UInt64 = 0
    public var kernelPackets: UInt64?
    public var kernelDrops: UInt64?
    public var ringDrops: UInt64 = 0
    public var alerts: UInt64 = 0
    public var flowsActive = 0

    public init() {}

    /// The counts `stats` (one worker's engine) holds.
    public init(_ stats: SensorStats) {
        packets = stats.engine.packets
        kernelPackets = stats.capture.kernelPackets
        kernelDrops = stats.capture.kernelDrops
        ringDrops = stats.capture.ringDrops
        alerts = stats.engine.alerts
        flowsActive = stats.flows.active
    }
}

/// The ruleset in use: Suricata's `stats.detect.engines[0]`.
public struct RuleCounts: Sendable, Equatable {
    public var loaded: UInt64 = 0
    /// Rules that failed to load at start (a reload with any failure is refused, so 0 after one).
    public var failed: UInt64 = 0
    /// When the rules in use were loaded (wall clock, nanoseconds since the epoch); live only.
    public var lastReload: Int64?

    public init(loaded: UInt64 = 0, failed: UInt64 = 0, lastReload: Int64? = nil) {
        self.loaded = loaded
        self.failed = failed
        self.lastReload = lastReload
    }
}

/// What the capture side counted: libpcap's counters (live only) and the ring's.
public struct CaptureCounters: Sendable, Equatable {
    public var kernelPackets: UInt64?
    public var kernelDrops: UInt64?
    public var kernelInterfaceDrops: UInt64?
    /// Times the capture side found the ring full and waited (offline, where nothing is dropped).
    public var ringWaits: UInt64 = 0
    /// Packets dropped because the ring was full (live).
    public var ringDrops: UInt64 = 0

    public init() {}
}

/// What the outputs counted.
public struct OutputCounters: Sendable, Equatable {
    /// EVE records lost to write errors.
    public var lost: UInt64 = 0
    /// Alerts not delivered to syslog (nil: syslog output is off).
    public var syslogDropped: UInt64?
    /// Evidence files removed to stay under the retention bounds, and their bytes (nil: no
    /// evidence directory).
    public var evidenceRemoved: UInt64?
    public var evidenceRemovedBytes: UInt64?
    /// Rotations of the EVE file by its size bound, and the files and bytes they removed (nil:
    /// no size bound).
    public var eveRotations: UInt64?
    public var eveRemovedFiles: UInt64?
    public var eveRemovedBytes: UInt64?
    /// EVE records Redis acknowledged, lost on the way to it, and waiting (nil: no Redis output).
    public var redisWritten: UInt64?
    public var redisLost: UInt64?
    public var redisQueued: UInt64?

    public init() {}
}

/// What the engine counted of its listener baseline.
public struct ListenerCounts: Sendable, Equatable {
    public var held: UInt64 = 0
    public var learned: UInt64 = 0
    public var refused: UInt64 = 0
    public var silenced: UInt64 = 0

    public init() {}
}

/// What the engine counted.
public struct EngineStats: Sendable, Equatable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var decodeEvents = [UInt64](repeating: 0, count: DecodeEvents.capacity)
    /// IP packets no loaded rule could match: counted, not tracked as flows.
    public var uninspected: UInt64 = 0
    public var flowsSeen: UInt64 = 0
    public var watchedFlows: UInt64 = 0
    public var alerts: UInt64 = 0
    public var alertsBySid: [UInt32: UInt64] = [:]
    /// Alerts a threshold or detection filter held back.
    public var suppressed: UInt64 = 0
    /// Matches of a sid a flow had already alerted on (default once-per-flow mode).
    public var repeats: UInt64 = 0
    /// Alerts the sensor-wide limit kept from the output, by reason: the source, or the sid,
    /// was over its limit for the window.
    public var alertsShedBySource: UInt64 = 0
    public var alertsShedBySid: UInt64 = 0
    /// Sources pushed out of the alert limiter's full table before their window ended.
    public var alertSourcesEvicted: UInt64 = 0
    public var evidenceErrors: UInt64 = 0
    /// Ended watched flows by verdict (index = `Verdict.rawValue`).
    public var verdicts = [UInt64](repeating: 0, count: Verdict.allCases.count)
    /// Watched flows folded into flood aggregates instead of keeping their own records, by
    /// `FloodKind.rawValue`; the aggregate records written.
    public var folded: [UInt64] = [0, 0]
    public var floodRecords: UInt64 = 0
    /// With a listener baseline (`Engine.baseline`; nil without one): the listeners it holds,
    /// those learned this run, those it refused being full, and known listeners' answers silenced.
    public var listeners: ListenerCounts?
    /// Ended watched flows by "port/proto" and verdict, for the summary table.
    public var byPort: [String: [UInt64]] {
        var named: [String: [UInt64]] = [:]
        for (key, counts) in zip(verdictRowKeys, verdictRows) {
            let proto = UInt8(truncatingIfNeeded: key)
            named["\(key >> 8)/\(IPProtocol.name(proto)?.lowercased() ?? String(proto))"] =
                [counts[0], counts[1], counts[2], counts[3], counts[4]]
        }
        return named
    }
    /// `byPort`'s counts, a row per port and protocol (`verdictRowKeys`: port << 8 | proto),
    /// found through `verdictRowIndex` (TCP, UDP, SCTP × 65,536 ports, made at the first
    /// verdict): a flow's end hashes nothing and builds no string.
    var verdictRows: [SIMD8<UInt64>] = []
    var verdictRowKeys: [UInt32] = []
    var verdictRowIndex: [Int32] = []

    public init() {}

    public mutating func countAlert(sid: UInt32) {
        alerts &+= 1
        alertsBySid[sid, default: 0] &+= 1
    }

    public mutating func countVerdict(_ verdict: Verdict, port: UInt16, proto: UInt8) {
        verdicts[Int(verdict.rawValue)] &+= 1
        guard let row = verdictRow(port: port, proto: proto) else { return }
        verdictRows[row][Int(verdict.rawValue)] &+= 1
    }

    /// `port`/`proto`'s row of `verdictRows`, made at its first use; nil for a protocol no
    /// port is watched on (watched ports are TCP, UDP or SCTP, see `Watchlist`).
    @inline(__always)
    private mutating func verdictRow(port: UInt16, proto: UInt8) -> Int? {
        guard let protoIndex = Watchlist.protocolIndex(proto) else { return nil }
        if verdictRowIndex.isEmpty { verdictRowIndex = [Int32](repeating: -1, count: 3 * 65_536) }
        let slot = protoIndex * 65_536 + Int(port)
        var row = Int(verdictRowIndex[slot])
        if row < 0 {
            row = verdictRows.count
            verdictRowIndex[slot] = Int32(row)
            verdictRows.append(.zero)
            verdictRowKeys.append(UInt32(port) << 8 | UInt32(proto))
        }
        return row
    }
}

extension SensorStats {
    /// Adds another engine's counts to these: the chains of one `read` make one stats record.
    /// Counts add up; what describes the whole (the rules, a baseline's size, the uptime) is
    /// the larger of the two, as both engines had the same.
    public mutating func add(_ other: SensorStats) {
        uptimeSeconds = max(uptimeSeconds, other.uptimeSeconds)
        engine.add(other.engine)
        flows.active += other.flows.active
        flows.created &+= other.flows.created
        flows.evicted &+= other.flows.evicted
        flows.timedOut &+= other.flows.timedOut
        flows.ended &+= other.flows.ended
        capture.kernelPackets = Self.sum(capture.kernelPackets, other.capture.kernelPackets)
        capture.kernelDrops = Self.sum(capture.kernelDrops, other.capture.kernelDrops)
        capture.kernelInterfaceDrops = Self.sum(capture.kernelInterfaceDrops, other.capture.kernelInterfaceDrops)
        capture.ringWaits &+= other.capture.ringWaits
        capture.ringDrops &+= other.capture.ringDrops
        output.lost &+= other.output.lost
        output.syslogDropped = Self.sum(output.syslogDropped, other.output.syslogDropped)
        output.evidenceRemoved = Self.sum(output.evidenceRemoved, other.output.evidenceRemoved)
        output.evidenceRemovedBytes = Self.sum(output.evidenceRemovedBytes, other.output.evidenceRemovedBytes)
        output.eveRotations = Self.sum(output.eveRotations, other.output.eveRotations)
        output.eveRemovedFiles = Self.sum(output.eveRemovedFiles, other.output.eveRemovedFiles)
        output.eveRemovedBytes = Self.sum(output.eveRemovedBytes, other.output.eveRemovedBytes)
        output.redisWritten = Self.sum(output.redisWritten, other.output.redisWritten)
        output.redisLost = Self.sum(output.redisLost, other.output.redisLost)
        output.redisQueued = Self.sum(output.redisQueued, other.output.redisQueued)
        rules.loaded = max(rules.loaded, other.rules.loaded)
        rules.failed = max(rules.failed, other.rules.failed)
        if let theirs = other.rules.lastReload { rules.lastReload = max(rules.lastReload ?? theirs, theirs) }
    }

    /// nil when both are (the counter does not apply), else their sum.
    private static func sum(_ a: UInt64?, _ b: UInt64?) -> UInt64? {
        a == nil && b == nil ? nil : (a ?? 0) &+ (b ?? 0)
    }
}

extension EngineStats {
    mutating func add(_ other: EngineStats) {
        packets &+= other.packets
        bytes &+= other.bytes
        for i in decodeEvents.indices { decodeEvents[i] &+= other.decodeEvents[i] }
        uninspected &+= other.uninspected
        flowsSeen &+= other.flowsSeen
        watchedFlows &+= other.watchedFlows
        alerts &+= other.alerts
        alertsBySid.merge(other.alertsBySid) { $0 &+ $1 }
        suppressed &+= other.suppressed
        repeats &+= other.repeats
        alertsShedBySource &+= other.alertsShedBySource
        alertsShedBySid &+= other.alertsShedBySid
        alertSourcesEvicted &+= other.alertSourcesEvicted
        evidenceErrors &+= other.evidenceErrors
        for i in verdicts.indices { verdicts[i] &+= other.verdicts[i] }
        for i in folded.indices { folded[i] &+= other.folded[i] }
        floodRecords &+= other.floodRecords
        if let theirs = other.listeners {
            var mine = listeners ?? ListenerCounts()
            mine.held = max(mine.held, theirs.held)
            mine.refused = max(mine.refused, theirs.refused)
            mine.learned &+= theirs.learned
            mine.silenced &+= theirs.silenced
            listeners = mine
        }
        // The per-port rows, added row by row (the verdict totals are added above).
        for (key, counts) in zip(other.verdictRowKeys, other.verdictRows) {
            guard let row = verdictRow(port: UInt16(key >> 8), proto: UInt8(truncatingIfNeeded: key)) else { continue }
            verdictRows[row] &+= counts
        }
    }
}
