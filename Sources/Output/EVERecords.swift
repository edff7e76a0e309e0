import Detect
import Flow
import Platform
import Rules
import Wire

/// How records are written: fields that are the output's business, not the engine's.
public struct RecordSettings: Sendable {
    /// EVE's `pkt_src`: `wire/pcap` offline and live alike.
    public var packetSource = "wire/pcap"
    /// EVE's `in_iface` (live capture).
    public var interface: String?
    /// EVE's `host` (Suricata's `sensor-name`): which sensor wrote the record; nil: none.
    public var sensorName: String?
    public var communityIDSeed: UInt16 = 0
    /// At shutdown, flow records are written on two threads once this many end at once.
    public var parallelFlowRecords = 512

    public init() {}

    /// Why `name` cannot be a sensor name (`sensor_name`, `--sensor-name`), or nil: 1 to 255 bytes.
    public static func sensorNameProblem(_ name: String) -> String? {
        (1...255).contains(name.utf8.count) ? nil : "must be 1 to 255 bytes, got \(name.utf8.count)"
    }
}

/// The sensor's records: the engine's decisions as EVE lines, alerts also to syslog when set,
/// and the packets of alerted flows as evidence files.
public final class EVERecords: RecordSink {
    public let output: EVEOutput
    public let settings: RecordSettings
    public let evidence: EvidenceWriter?
    /// Alerts also go to the system logger when set.
    public var syslog: SyslogOutput?
    /// The EVE file (live), for its rotation counts.
    public var file: EVEFile?
    /// The Redis output's counts (records acknowledged, lost, waiting), when there is one.
    public var redisCounts: (@Sendable () -> (written: UInt64, lost: UInt64, queued: UInt64))?

    public init(output: EVEOutput, settings: RecordSettings = RecordSettings(), evidence: EvidenceWriter? = nil,
                syslog: SyslogOutput? = nil) {
        self.output = output
        self.settings = settings
        self.evidence = evidence
        self.syslog = syslog
    }

    public var counters: OutputCounters {
        var counters = OutputCounters()
        counters.lost = output.lost
        counters.syslogDropped = syslog?.dropped
        counters.evidenceRemoved = evidence?.removedFiles
        counters.evidenceRemovedBytes = evidence?.removedBytes
        if let counts = redisCounts?() {
            counters.redisWritten = counts.written
            counters.redisLost = counts.lost
            counters.redisQueued = counts.queued
        }
        if let file, file.sizeLimit != nil {
            counters.eveRotations = file.rotations
            counters.eveRemovedFiles = file.removedFiles
            counters.eveRemovedBytes = file.removedBytes
        }
        return counters
    }

    public func flush() { output.flush() }

    /// The header of a record about `packet`.
    private func header(_ packet: DecodedPacket, context: PacketContext) -> EVEHeader {
        var header = EVEHeader(packet: packet, timestamp: context.timestamp)
        header.inIface = settings.interface
        header.host = settings.sensorName
        header.pcapCount = context.count
        return header
    }

    public func alert(_ alert: AlertDecision, packet: DecodedPacket) {
        let rule = alert.rule, flow = alert.flow
        // A new listener (one the baseline lacks) alerts once as ghostport's own signature, at the
        // top severity; a known one as the rule, at severity 3.
        let isNew = alert.newListener
        let (gid, sid, rev) = isNew ? (UInt32(1), NewListenerAlert.sid, UInt32(1)) : (rule.gid, rule.sid, rule.rev)
        let signature = isNew ? Self.newListenerSignature(flow, service: alert.service) : rule.msg
        let severity = isNew ? NewListenerAlert.newSeverity
            : alert.listener == .known ? NewListenerAlert.knownSeverity : max(0, rule.priority)
        var head = header(packet, context: alert.context)
        head.flowID = alert.flowID
        let tunnel = packet.tunnel
        let line = output.record(returningLine: syslog != nil) { out in
            EVE.open(head, eventType: "alert", into: &out)
            EVE.appendPacketSource(tunnel, default: settings.packetSource, into: &out)
            EVEOutput.appendCommunityID(into: &out) {
                CommunityID.write(seed: settings.communityIDSeed, packet: packet, into: $0)
            }
            if let name = alert.context.fileName { EVE.appendField("pcap_filename", string: name, into: &out) }
            out.append(",\"alert\":{\"action\":\"allowed\"")
            EVE.appendField("gid", number: UInt64(gid), into: &out)
            EVE.appendField("signature_id", number: UInt64(sid), into: &out)
            EVE.appendField("rev", number: UInt64(rev), into: &out)
            EVE.appendField("signature", string: signature, into: &out)
            EVE.appendField("category", string: rule.category, into: &out)
            EVE.appendField("severity", number: UInt64(severity), into: &out)
            if !rule.metadata.isEmpty {
                out.append(",\"metadata\":{")
                var first = true
                for key in rule.metadata.keys.sorted() {
                    if !first { out.append(byte: 0x2C) }
                    first = false
                    out.append(jsonString: key)
                    out.append(":[")
                    for (i, value) in rule.metadata[key, default: []].enumerated() {
                        if i > 0 { out.append(byte: 0x2C) }
                        out.append(jsonString: value)
                    }
                    out.append(byte: 0x5D)
                }
                out.append(byte: 0x7D)
            }
            out.append(byte: 0x7D)
            if tunnel.isPresent { EVE.appendTunnel(tunnel, pcapCount: alert.context.count, into: &out) }
            out.append(alert.toServer ? ",\"direction\":\"to_server\"" : ",\"direction\":\"to_client\"")
            EVEOutput.appendFlowCounters(flow, end: false, into: &out)
            // Suricata's alert `flow` also names the flow's tuple, client to server.
            let client = flow.client, server = flow.server
            out.append(",\"src_ip\":\"")
            out.append(address: client.address)
            out.append("\",\"dest_ip\":\"")
            out.append(address: server.address)
            out.append(byte: 0x22)
            if PacketFacts.carriesPorts(flow.key.proto) {
                EVE.appendField("src_port", number: UInt64(client.port), into: &out)
                EVE.appendField("dest_port", number: UInt64(server.port), into: &out)
            }
            out.append(byte: 0x7D)
            out.append(",\"ghostport\":{\"kind\":\"")
            // The registry's rules say what they are; any other rule is just a rule.
            switch rule.metadata["ghostport_role"]?.first {
            case "answered": out.append("answered")
            case "probe": out.append("probe")
            case "reply": out.append("reply")
            default: out.append("rule")
            }
            out.append(byte: 0x22)
            if flow.isWatched {
                out.append(",\"verdict\":\"")
                out.append((Verdict(rawValue: flow.verdict) ?? .none).liveName)
                out.append(byte: 0x22)
                EVE.appendField("watched_port", number: UInt64(flow.watchedPort), into: &out)
                if let service = alert.service, !service.isEmpty {
                    EVE.appendField("service", string: service, into: &out)
                }
                EVE.appendProbe(flow, into: &out)
            }
            if let listener = alert.listener {
                out.append(",\"listener\":\"")
                out.append(listener.name)
                out.append(byte: 0x22)
                if isNew {
                    EVE.appendField("rule_signature_id", number: UInt64(rule.sid), into: &out)
                    if let since = alert.baselineSince {
                        out.append(",\"baseline_since\":\"")
                        EVE.appendTimestamp(since * 1_000_000_000, into: &out)
                        out.append(byte: 0x22)
                    }
                }
            }
            if let evidence = alert.evidence { EVE.appendField("evidence", string: evidence, into: &out) }
            if tunnel.isPresent {
                out.append(byte: 0x2C)
                EVE.appendGhostportTunnel(tunnel, endpoints: false, into: &out)
            }
            out.append("}}\n")
        }
        if let syslog, let line {
            syslog.send(AlertSummary(
                gid: gid, sid: sid, rev: rev, msg: signature, category: rule.category,
                priority: severity, proto: IPProtocol.name(packet.proto) ?? String(packet.proto),
                src: packet.src, sport: packet.hasPorts ? packet.sport : nil,
                dst: packet.dst, dport: packet.hasPorts ? packet.dport : nil, eveJSON: line))
        }
    }

    /// `GHOSTPORT new listener on abandoned port 571/tcp (meter): 192.0.2.7 answered, not in the baseline`.
    private static func newListenerSignature(_ flow: Flow, service: String?) -> String {
        let proto = IPProtocol.name(flow.key.proto)?.lowercased() ?? String(flow.key.proto)
        let named = service.map { $0.isEmpty ? "" : " (\($0))" } ?? ""
        return "GHOSTPORT new listener on abandoned port \(flow.watchedPort)/\(proto)\(named): \(flow.server.address) answered, not in the baseline"
    }

    public func scan(_ scan: ScanDetector.Scan, window seconds: Int, packet: DecodedPacket, context: PacketContext) {
        let head = header(packet, context: context)
        let tunnel = packet.tunnel
        output.record { out in
            EVE.open(head, eventType: "alert", into: &out)
            EVE.appendPacketSource(tunnel, default: settings.packetSource, into: &out)
            if let name = context.fileName { EVE.appendField("pcap_filename", string: name, into: &out) }
            out.append(",\"alert\":{\"action\":\"allowed\",\"gid\":1")
            EVE.appendField("signature_id", number: UInt64(ScanAlert.sid), into: &out)
            out.append(",\"rev\":1")
            EVE.appendField("signature", string: "GHOSTPORT scan of abandoned ports from \(scan.source)", into: &out)
            out.append(",\"category\":\"Detection of a Network Scan\",\"severity\":3}")
            if tunnel.isPresent { EVE.appendTunnel(tunnel, pcapCount: context.count, into: &out) }
            out.append(",\"ghostport\":{\"kind\":\"scan\",\"scan\":{\"source\":\"")
            out.append(address: scan.source)
            out.append("\",\"ports\":[")
            for (i, port) in scan.ports.enumerated() {
                if i > 0 { out.append(byte: 0x2C) }
                out.append(jsonString: port)
            }
            out.append("],\"hosts\":[")
            for (i, host) in scan.hosts.enumerated() {
                if i > 0 { out.append(byte: 0x2C) }
                out.append(byte: 0x22)
                out.append(address: host)
                out.append(byte: 0x22)
            }
            out.append("],\"first_seen\":\"")
            EVE.appendTimestamp(scan.firstSeen, into: &out)
            out.append("\",\"window\":")
            out.append(decimal: seconds)
            out.append(byte: 0x7D)
            if scan.kind != .none {
                out.append(",\"scan_kind\":\"")
                out.append(scan.kind.name)
                out.append(byte: 0x22)
            }
            if scan.tool != .none {
                out.append(",\"tool\":\"")
                out.append(scan.tool.name)
                out.append(byte: 0x22)
            }
            out.append("}}\n")
        }
    }

    public func anomaly(_ event: DecodeEvent, packet: DecodedPacket, context: PacketContext) {
        let head = header(packet, context: context)
        let tunnel = packet.tunnel
        output.record { out in
            EVE.open(head, eventType: "anomaly", into: &out)
            EVE.appendPacketSource(tunnel, default: settings.packetSource, into: &out)
            if let name = context.fileName { EVE.appendField("pcap_filename", string: name, into: &out) }
            // An event Suricata does not have is named in the `ghostport` object, not in Suricata's.
            out.append(",\"anomaly\":{\"type\":\"decode\"")
            if event.isSuricatas {
                out.append(",\"event\":\"")
                out.append(string: event.name)
                out.append(byte: 0x22)
            }
            out.append(byte: 0x7D)
            if !event.isSuricatas || tunnel.isPresent {
                out.append(",\"ghostport\":{")
                if !event.isSuricatas {
                    out.append("\"event\":\"")
                    out.append(string: event.name)
                    out.append(byte: 0x22)
                }
                if tunnel.isPresent {
                    if !event.isSuricatas { out.append(byte: 0x2C) }
                    EVE.appendGhostportTunnel(tunnel, endpoints: true, into: &out)
                }
                out.append(byte: 0x7D)
            }
            out.append("}\n")
        }
    }

    public func flowEnded(_ flow: Flow, reason: StaticString, time: Int64, watchlist: Watchlist,
                          tunnels: [UInt64: TunnelInfo], sources: [String]) {
        let format = flowRecordFormat(watchlist, tunnels, sources)
        output.record { out in format.write(flow, reason: reason, time: time, into: &out) }
    }

    /// At shutdown: a batch large enough is split between this thread (the first half) and a
    /// helper (the rest), appended in order, so the bytes are those one thread writes. The
    /// helper's records cost about a third more (it reads flows this thread just walked, from
    /// the other core's cache); measured, an even split finishes first.
    public func flowsEnded(_ flows: UnsafeBufferPointer<Flow>, reason: StaticString, time: Int64, watchlist: Watchlist,
                           tunnels: [UInt64: TunnelInfo], sources: [String]) {
        let format = flowRecordFormat(watchlist, tunnels, sources)
        if flows.count < max(2, settings.parallelFlowRecords) {
            for flow in flows { output.record { out in format.write(flow, reason: reason, time: time, into: &out) } }
            return
        }
        let half = flows.count / 2
        var helperOutput = OutputBuffer(fd: -1, flushThreshold: 1 << 20)
        Concurrently.run({
            for flow in flows[..<half] { output.record { out in format.write(flow, reason: reason, time: time, into: &out) } }
        }, alongside: {
            for flow in flows[half...] { format.write(flow, reason: reason, time: time, into: &helperOutput) }
        })
        output.append(records: flows.count - half, from: helperOutput)
        helperOutput.discard()
    }

    private func flowRecordFormat(_ watchlist: Watchlist, _ tunnels: [UInt64: TunnelInfo], _ sources: [String]) -> FlowRecordFormat {
        FlowRecordFormat(interface: settings.interface, host: settings.sensorName, communityIDSeed: settings.communityIDSeed, watchlist: watchlist,
                         tunnels: tunnels, sourceNames: sources)
    }

    public func stats(_ stats: SensorStats, timestamp: Int64) {
        output.record { out in StatsRecord.write(stats, timestamp: timestamp, host: settings.sensorName, into: &out) }
    }

    // MARK: Evidence

    public var keepsEvidence: Bool { evidence != nil }

    public func evidenceFile(flowID: UInt64) -> String? { evidence?.fileName(flowID: flowID) }

    public func appendEvidence(flowID: UInt64, linkType: LinkType, bytes: UnsafeRawBufferPointer, originalLength: Int,
                               timestamp: Int64) -> Bool {
        evidence?.append(flowID: flowID, linkType: linkType, bytes: bytes, originalLength: originalLength,
                         timestamp: timestamp) ?? false
    }

    public func closeEvidence(flowID: UInt64) { evidence?.close(flowID: flowID) }

    public func closeAllEvidence() { evidence?.closeAll() }
}

extension EVE {
    /// A watched flow's sides seen, and, when its client spoke first, what its first packet was
    /// and the scanner it names: `,"seen":"both","scan_kind":"fin","tool":"zmap"`.
    static func appendProbe(_ flow: borrowing Flow, into out: inout OutputBuffer) {
        out.append(",\"seen\":\"")
        out.append(flow.seenSides)
        out.append(byte: 0x22)
        let kind = flow.scanKind
        if kind != .none {
            out.append(",\"scan_kind\":\"")
            out.append(kind.name)
            out.append(byte: 0x22)
        }
        let tool = flow.scannerTool
        if tool != .none {
            out.append(",\"tool\":\"")
            out.append(tool.name)
            out.append(byte: 0x22)
        }
    }
}
