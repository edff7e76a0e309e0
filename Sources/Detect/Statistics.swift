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
        // Watched ports are TCP, UDP or SCTP (see `Watchlist`).
        guard let protoIndex = Watchlist.protocolIndex(proto) else { return }
        if verdictRowIndex.isEmpty { verdictRowIndex = [Int32](repeating: -1, count: 3 * 65_536) }
        let slot = protoIndex * 65_536 + Int(port)
        var row = Int(verdictRowIndex[slot])
        if row < 0 {
            row = verdictRows.count
            verdictRowIndex[slot] = Int32(row)
            verdictRows.append(.zero)
            verdictRowKeys.append(UInt32(port) << 8 | UInt32(proto))
        }
        verdictRows[row][Int(verdict.rawValue)] &+= 1
    }
}
