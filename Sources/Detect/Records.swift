import Flow
import Output
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The EVE sink: builds each record as one line and writes whole lines only, so a reader
/// tailing the file never sees half a record. A failed write loses the records it held,
/// counts them, and the next write tries again.
public final class EVEOutput {
    private var buffer: OutputBuffer
    /// Records written (or buffered to be).
    public private(set) var records: UInt64 = 0
    /// Records lost to write errors (full disk, closed pipe, unwritable file).
    public private(set) var lost: UInt64 = 0
    public private(set) var lastError: WriteError?
    /// The last write failed; the next flush tries again.
    public private(set) var failing = false
    private var pending: UInt64 = 0
    private let flushEveryRecord: Bool

    /// `flushEveryRecord` for live capture, where alerts must reach the file at once.
    public init(fd: Int32, flushEveryRecord: Bool = false) {
        buffer = OutputBuffer(fd: fd)
        self.flushEveryRecord = flushEveryRecord
    }

    public var fd: Int32 { buffer.fd }

    /// Appends one record; `body` writes the whole line, newline included.
    @inline(__always)
    public func record(_ body: (inout OutputBuffer) -> Void) {
        _ = record(returningLine: false, body)
    }

    /// As `record`, and with `returningLine` the line written (without its newline), for
    /// outputs that want the same record (syslog).
    public func record(returningLine: Bool, _ body: (inout OutputBuffer) -> Void) -> String? {
        let start = buffer.count
        body(&buffer)
        let line = returningLine ? buffer.line(from: start) : nil
        countAndFlush()
        return line
    }

    /// Appends `count` whole records that `other` holds (written on another thread).
    func append(records count: Int, from other: borrowing OutputBuffer) {
        other.withBytes { buffer.append(raw: $0) }
        records &+= UInt64(count)
        pending &+= UInt64(count)
        if flushEveryRecord || buffer.count >= 1 << 16 { flush() }
    }

    @inline(__always)
    private func countAndFlush() {
        records &+= 1
        pending &+= 1
        if flushEveryRecord {
            flush()
        } else if buffer.count >= 1 << 16 {
            flush()
        }
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        // A write cut short (a full disk) must not leave half a line: remember where the file
        // ended and cut it back there on failure.
        var info = stat()
        let isFile = fstat(buffer.fd, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
        do {
            try buffer.flush()
            pending = 0
            failing = false
        } catch {
            if isFile { _ = ftruncate(buffer.fd, info.st_size) }
            lost &+= pending
            pending = 0
            lastError = error
            failing = true
        }
    }

    /// Swaps the file descriptor (log rotation); what is buffered goes to the old one first.
    public func replaceDescriptor(_ fd: Int32) {
        flush()
        buffer = OutputBuffer(fd: fd)
    }

    /// `,"community_id":"…"` with the ID `write` puts in a 30-byte scratch (returning its
    /// length): ASCII that needs no escaping, so no String; nothing when it writes nothing.
    @inline(__always)
    static func appendCommunityID(into out: inout OutputBuffer, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        var id: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &id) { raw in
            let count = write(raw)
            guard count > 0 else { return }
            out.append(",\"community_id\":\"")
            out.append(raw: UnsafeRawBufferPointer(rebasing: raw[0..<count]))
            out.append(byte: 0x22)
        }
    }

    /// `,"flow":{...` with the counters and start (and end and age for a flow record); the
    /// caller closes the object.
    static func appendFlowCounters(_ flow: Flow, end: Bool, into out: inout OutputBuffer) {
        out.append(",\"flow\":{\"pkts_toserver\":")
        out.append(decimal: flow.packetsToServer)
        out.append(",\"pkts_toclient\":")
        out.append(decimal: flow.packetsToClient)
        out.append(",\"bytes_toserver\":")
        out.append(decimal: flow.bytesToServer)
        out.append(",\"bytes_toclient\":")
        out.append(decimal: flow.bytesToClient)
        out.append(",\"start\":\"")
        EVE.appendTimestamp(flow.start, into: &out)
        out.append(byte: 0x22)
        if end {
            out.append(",\"end\":\"")
            EVE.appendTimestamp(flow.last, into: &out)
            out.append("\",\"age\":")
            out.append(decimal: UInt64(max(0, (flow.last - flow.start) / 1_000_000_000)))
        }
    }
}

/// Counters kept outside the engine (capture, ring, output), reported in its stats records.
public struct StatsExtra: Sendable {
    public var kernelPackets: UInt64?
    public var kernelDrops: UInt64?
    public var kernelInterfaceDrops: UInt64?
    public var ringWaits: UInt64 = 0
    public var ringDrops: UInt64 = 0
    public var outputLost: UInt64 = 0
    /// Alerts not delivered to syslog (nil: syslog output is off).
    public var syslogDropped: UInt64?
    public var uptimeSeconds: UInt64 = 0

    public init() {}
}

/// What the engine counted.
public struct EngineStats: Sendable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var decodeEvents = [UInt64](repeating: 0, count: 64)
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
    public var verdicts = [UInt64](repeating: 0, count: 4)
    /// Ended watched flows by "port/proto" and verdict, for the summary table.
    public var byPort: [String: [UInt64]] {
        var named: [String: [UInt64]] = [:]
        for (key, counts) in zip(verdictRowKeys, verdictRows) {
            let proto = UInt8(truncatingIfNeeded: key)
            named["\(key >> 8)/\(IPProtocol.name(proto)?.lowercased() ?? String(proto))"] =
                [counts[0], counts[1], counts[2], counts[3]]
        }
        return named
    }
    /// `byPort`'s counts, a row per port and protocol (`verdictRowKeys`: port << 8 | proto),
    /// found through `verdictRowIndex` (TCP, UDP, SCTP × 65,536 ports, made at the first
    /// verdict): a flow's end hashes nothing and builds no string.
    var verdictRows: [SIMD4<UInt64>] = []
    var verdictRowKeys: [UInt32] = []
    var verdictRowIndex: [Int32] = []

    public init() {}

    mutating func countAlert(sid: UInt32) {
        alerts &+= 1
        alertsBySid[sid, default: 0] &+= 1
    }

    mutating func countVerdict(_ verdict: Verdict, port: UInt16, proto: UInt8) {
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

    func appendJSON(flows: FlowCounters, extra: StatsExtra, into out: inout OutputBuffer) {
        out.append(",\"stats\":{\"uptime\":")
        out.append(decimal: extra.uptimeSeconds)
        out.append(",\"capture\":{")
        var fields: [(StaticString, UInt64)] = []
        if let value = extra.kernelPackets { fields.append(("kernel_packets", value)) }
        if let value = extra.kernelDrops { fields.append(("kernel_drops", value)) }
        if let value = extra.kernelInterfaceDrops { fields.append(("kernel_ifdrops", value)) }
        fields.append(("ring_waits", extra.ringWaits))
        fields.append(("ring_drops", extra.ringDrops))
        for (i, field) in fields.enumerated() {
            if i > 0 { out.append(byte: 0x2C) }
            out.append(byte: 0x22)
            out.append(field.0)
            out.append("\":")
            out.append(decimal: field.1)
        }
        out.append("},\"decoder\":{\"pkts\":")
        out.append(decimal: packets)
        out.append(",\"bytes\":")
        out.append(decimal: bytes)
        out.append(",\"event\":{")
        var first = true
        for event in DecodeEvent.allCases where decodeEvents[Int(event.rawValue)] > 0 {
            if !first { out.append(byte: 0x2C) }
            first = false
            out.append(jsonString: event.name)
            out.append(byte: 0x3A)
            out.append(decimal: decodeEvents[Int(event.rawValue)])
        }
        out.append("}},\"flow\":{\"active\":")
        out.append(decimal: flows.active)
        out.append(",\"created\":")
        out.append(decimal: flows.created)
        out.append(",\"timed_out\":")
        out.append(decimal: flows.timedOut)
        out.append(",\"evicted\":")
        out.append(decimal: flows.evicted)
        out.append(",\"ended\":")
        out.append(decimal: flows.ended)
        out.append(",\"watched\":")
        out.append(decimal: watchedFlows)
        out.append("},\"detect\":{\"uninspected\":")
        out.append(decimal: uninspected)
        out.append(",\"alerts\":")
        out.append(decimal: alerts)
        out.append(",\"suppressed\":")
        out.append(decimal: suppressed)
        out.append(",\"repeats\":")
        out.append(decimal: repeats)
        out.append(",\"alerts_shed_source\":")
        out.append(decimal: alertsShedBySource)
        out.append(",\"alerts_shed_sid\":")
        out.append(decimal: alertsShedBySid)
        out.append(",\"alert_sources_evicted\":")
        out.append(decimal: alertSourcesEvicted)
        out.append(",\"alerts_by_sid\":{")
        for (i, sid) in alertsBySid.keys.sorted().enumerated() {
            if i > 0 { out.append(byte: 0x2C) }
            out.append(byte: 0x22)
            out.append(decimal: UInt64(sid))
            out.append("\":")
            out.append(decimal: alertsBySid[sid, default: 0])
        }
        out.append("},\"verdicts\":{")
        for verdict in [Verdict.unanswered, .rejected, .answered] {
            if verdict != .unanswered { out.append(byte: 0x2C) }
            out.append(byte: 0x22)
            out.append(verdict.name)
            out.append("\":")
            out.append(decimal: verdicts[Int(verdict.rawValue)])
        }
        out.append("}},\"output\":{\"lost\":")
        out.append(decimal: extra.outputLost)
        out.append(",\"evidence_errors\":")
        out.append(decimal: evidenceErrors)
        if let dropped = extra.syslogDropped {
            out.append(",\"syslog_dropped\":")
            out.append(decimal: dropped)
        }
        out.append("}}")
    }
}
