import Flow
import Rules
import Wire

/// Where the engine's decisions become records. The engine decides (this packet alerts on
/// this rule, this flow ended with this verdict, this source scanned); the sink writes (EVE
/// lines, syslog messages, evidence files). Output's `EVERecords` is the sensor's sink.
///
/// Called on the detection thread only, and never for a packet that decides nothing: a record
/// costs a call through the protocol, a packet that only moves a flow on costs nothing here.
public protocol RecordSink: AnyObject {
    /// An alert the thresholds and alert limits let through, on the packet in hand.
    func alert(_ alert: AlertDecision, packet: DecodedPacket)
    /// A scan (`ScanAlert.sid`), on the packet that completed it.
    func scan(_ scan: ScanDetector.Scan, window seconds: Int, packet: DecodedPacket, context: PacketContext)
    /// A decode event of the packet in hand, when anomaly records are on.
    func anomaly(_ event: DecodeEvent, packet: DecodedPacket, context: PacketContext)
    /// A flow that ended (timed out, pushed out, or at shutdown) at `time` and gets a record: it
    /// was watched or alerted.
    /// `tunnels` holds the tunnel of each tunneled flow that gets a record, by `Flow.eveFlowID`;
    /// `sources` the input files, by `Flow.source` (empty live).
    func flowEnded(_ flow: Flow, reason: StaticString, time: Int64, watchlist: Watchlist, tunnels: [UInt64: TunnelInfo],
                   sources: [String])
    /// Many flows that ended at once (shutdown), in order: a sink may write them on more than one thread.
    func flowsEnded(_ flows: UnsafeBufferPointer<Flow>, reason: StaticString, time: Int64, watchlist: Watchlist,
                    tunnels: [UInt64: TunnelInfo], sources: [String])
    /// One window's folded flows on one watched port (see `FloodLimits`); `service` is the registry's name for the port.
    func flood(_ aggregate: FloodAggregate, service: String?)
    /// A flood began or ended on a watched port (`FloodKind.sid`; never shed).
    func floodAlert(_ alert: FloodAlert, service: String?)
    /// A stats record (periodic, on request, and the last one).
    func stats(_ stats: SensorStats, timestamp: Int64)
    /// Hands buffered records to the file or socket now.
    func flush()
    /// What the outputs counted, for the stats.
    var counters: OutputCounters { get }

    /// Whether the packets of alerted flows are kept as evidence.
    var keepsEvidence: Bool { get }
    /// The name of a flow's evidence file, for its alert record; nil without evidence.
    func evidenceFile(flowID: UInt64) -> String?
    /// One packet of an alerted flow; false when it could not be written.
    func appendEvidence(flowID: UInt64, linkType: LinkType, bytes: UnsafeRawBufferPointer, originalLength: Int,
                        timestamp: Int64) -> Bool
    /// The flow ended: its evidence file is complete.
    func closeEvidence(flowID: UInt64)
    /// The input ended: every evidence file is complete.
    func closeAllEvidence()
}

/// When and where a packet was seen, for a record about it.
public struct PacketContext: Sendable {
    /// Nanoseconds since the epoch.
    public var timestamp: Int64
    /// EVE's `pcap_cnt`: the packet's number in its capture, from 1.
    public var count: UInt64
    /// EVE's `pcap_filename`: the capture file (offline only).
    public var fileName: String?

    public init(timestamp: Int64, count: UInt64, fileName: String? = nil) {
        self.timestamp = timestamp
        self.count = count
        self.fileName = fileName
    }
}

/// An alert the engine decided on: the rule, the flow as it stands, and where the packet came from.
public struct AlertDecision {
    public var rule: Rule
    public var flow: Flow
    public var flowID: UInt64
    /// The packet goes from the flow's client to its server.
    public var toServer: Bool
    /// The registry's service name of the flow's watched port, when the flow is watched and the port has one.
    public var service: String?
    /// The flow's evidence file, when evidence is kept.
    public var evidence: String?
    public var context: PacketContext
    /// What the baseline says of the listener that answered; nil without a baseline or for
    /// alerts other than answers.
    public var listener: ListenerStatus? = nil
    /// A new listener's first answer: the alert is the new-listener signature (8999004).
    public var newListener = false
    /// Since when the baseline has been learning (seconds), for a new listener's alert.
    public var baselineSince: Int64? = nil
}

extension TunnelInfo {
    /// Suricata's `pkt_src` for a packet that came through this tunnel (`wire/pcap` without one).
    public var packetSource: StaticString { innermost.packetSource }
}

extension Flow {
    /// The flow goes to a port the rules watch (its first packet's destination): it gets a verdict.
    public var isWatched: Bool { flags & Engine.watchedFlag != 0 }
    /// Some rule alerted on the flow (its alert may have been shed by the alert limits).
    public var hasAlerted: Bool { flags & Engine.alertedFlag != 0 }
    /// EVE's `flow_id`: the same in the flow's alerts and its flow record.
    public var eveFlowID: UInt64 { Engine.flowID(of: self) }
    /// What the first packet of a watched TCP flow from its client was; `.none` otherwise.
    public var scanKind: ScanKind { ScanKind(rawValue: UInt8((flags >> Engine.scanKindShift) & 0xF)) ?? .none }
    /// The scanner whose fingerprint the first packet from the client carried, if any.
    public var scannerTool: ScannerTool { ScannerTool(rawValue: UInt8((flags >> Engine.toolShift) & 0xF)) ?? .none }
    /// Which sides of the flow sent packets the sensor saw: `client`, `server` or `both`.
    public var seenSides: StaticString {
        spokeToServer ? (spokeToClient ? "both" : "client") : "server"
    }
}
