import Baseline
import Flow
import Platform
import Rules
import Wire

/// How the engine behaves; the command line and the config file fill it.
public struct EngineConfiguration: Sendable {
    /// Suricata's semantics: every matching packet alerts. Off, a flow alerts once per sid.
    public var perPacket = false
    /// The flow table's memory bound; the capacity follows from it.
    public var flowMemoryBytes = 256 << 20
    public var timeouts = FlowTimeouts.suricata
    public var scan = ScanDetector.Configuration()
    /// Write an `anomaly` record for each decode event.
    public var anomalies = false
    /// The flow table's hash seed. Nil picks a random one (live: resists collision floods);
    /// offline reads fix it so the same capture gives the same output.
    public var flowHashSeed: UInt64?
    /// The sensor-wide alert rate limit; unlimited unless the command or config sets one.
    public var alertLimits = AlertLimits.unlimited
    /// The flow-record budget past which flows that carried nothing are folded into aggregates.
    public var flood = FloodLimits()
    /// Which UDP ports carry tunnels, and whether to decode tunnels at all.
    public var tunnelPorts = TunnelPorts()
    /// Count watched flows per client for `Engine.topClients` (the summary `read` prints).
    /// Off unless asked: a table entry per client, which nothing else reads.
    public var countsClients = false
    /// How answers are judged against `Engine.baseline`, and until when it learns.
    public var baseline = BaselinePolicy()

    public init() {}

    public var flowCapacity: Int { max(1024, FlowTable.capacity(forMemoryBytes: flowMemoryBytes)) }
}

/// Where a packet came from, for `pcap_cnt` and `pcap_filename`.
public struct PacketOrigin: Sendable {
    /// 1-based packet number within its capture.
    public var count: UInt64
    /// Index into the engine's `sourceNames`.
    public var source: Int

    public init(count: UInt64, source: Int) {
        self.count = count
        self.source = source
    }
}

/// The detection engine: decode, flow, verdict, rule match, alert. One thread drives it; what it
/// decides goes to its `RecordSink` to be written.
public final class Engine {
    public let configuration: EngineConfiguration
    public private(set) var rules: RuleSet
    public private(set) var watchlist: Watchlist
    public private(set) var interest: Interest
    public let flows: FlowTable
    public private(set) var scans: ScanDetector
    /// Watched flows by client address, for the summary's top sources; bounded (see `countWatchedFlow`),
    /// and empty unless `EngineConfiguration.countsClients`.
    public let watchedFlowsByClient: AddressTable<UInt64>
    /// The listeners known to answer here: answers are judged by it and, while the policy
    /// learns, it learns (`EngineConfiguration.baseline`). Nil: no baseline, alerts as the rules say.
    public var baseline: ListenerBaseline?
    private var listenerCounts = ListenerCounts()
    /// New listeners that have had their new-listener alert (bounded: past it, each answer has one).
    private var reportedNew = BoundedSet<ListenerKey>(capacity: ListenerBaseline.defaultCapacity)
    static let maxClientsCounted = 100_000
    public private(set) var thresholds = Thresholds()
    public private(set) var limiter: AlertLimiter
    /// The flow-record budget and the aggregates of folded flows.
    var floods: FloodFolder
    /// Shared with the sensor's other workers: then the scans, the alert limits and the flood
    /// budgets are the ones there, not `scans`, `limiter` and `floods`.
    public let sensorWide: SensorWide?
    public var stats = EngineStats()
    /// What the capture side's prefilter counted and kept from the engine; reported with `stats`.
    public var turnedAway = PrefilterCounters()
    /// What the capture and the ring counted (set by the pipeline); reported with `stats`.
    public var capture = CaptureCounters()
    /// Seconds since the sensor started (live); reported with `stats`.
    public var uptimeSeconds: UInt64 = 0
    /// File names of the captures, indexed by `PacketOrigin.source` (offline only).
    public var sourceNames: [String] = []

    /// Where alerts, flows, scans, anomalies and stats are written.
    public let records: RecordSink
    private var packet = DecodedPacket()
    private var matches = RuleMatches()
    var nextExpiry = Int64.min
    /// Sids beyond the eight a flow holds inline, by flow id; only flows that match that many rules.
    private var overflowSids: [UInt64: Set<UInt32>] = [:]
    static let maxOverflowFlows = 65_536
    /// The tunnel of each tunneled flow that will get a record (watched or alerted), by flow id,
    /// for that record: a flow keeps only the tunnel's key. Bounded like the overflow sids.
    var tunnelOfFlow: [UInt64: TunnelInfo] = [:]
    static let maxTunnelFlows = 65_536
    /// The latest packet time seen (nanoseconds since the epoch; 0 before any packet).
    public internal(set) var lastTimestamp: Int64 = 0
    /// The flow and source hints of the packets coming (see `prefetch(flow:source:)`), by call
    /// number mod 16, then the call count; behind a pointer, as a class's `var`s pay an
    /// exclusivity check.
    private let hints: UnsafeMutablePointer<UInt64>
    private static let hintSlots = 16

    public static let watchedFlag: UInt32 = 1 << 0
    public static let alertedFlag: UInt32 = 1 << 1
    static let evidenceFlag: UInt32 = 1 << 2
    /// The flow's first packet came from its (watched) server.
    static let serverFirstFlag: UInt32 = 1 << 3
    /// One of the flow's alerts was written (not shed): the flow keeps its record.
    static let alertWrittenFlag: UInt32 = 1 << 4
    /// A packet of the (watched) flow carried payload.
    static let payloadFlag: UInt32 = 1 << 5
    /// The flow's answer taught the baseline its listener (learning): its alerts say `learning`.
    static let taughtFlag: UInt32 = 1 << 6
    static let evidenceCountShift: UInt32 = 8
    /// Where the first packet's `ScanKind` (4 bits) and `ScannerTool` (4 bits) sit in `flags`.
    static let scanKindShift: UInt32 = 16
    static let toolShift: UInt32 = 20
    /// Packets of an alerted flow written as evidence: the matching one and 64 more.
    static let evidencePackets: UInt32 = 65

    /// `sensorWide`: the scans, alert limits and flood budgets of a sensor with several workers,
    /// each an engine of its own; nil: this engine's own.
    public init(rules: RuleSet, configuration: EngineConfiguration, records: RecordSink, sensorWide: SensorWide? = nil) {
        self.configuration = configuration
        self.sensorWide = sensorWide
        let compiled = CompiledRules(rules)
        (self.rules, watchlist, interest) = (compiled.rules, compiled.watchlist, compiled.interest)
        self.flows = FlowTable(capacity: configuration.flowCapacity, timeouts: configuration.timeouts,
                               seed: configuration.flowHashSeed ?? UInt64.random(in: .min ... .max))
        self.scans = ScanDetector(configuration: configuration.scan, seed: flows.seed)
        self.watchedFlowsByClient = AddressTable(seed: flows.seed)
        self.limiter = AlertLimiter(limits: configuration.alertLimits, seed: flows.seed)
        self.floods = FloodFolder(limits: configuration.flood, seed: flows.seed)
        self.records = records
        hints = .allocate(capacity: 2 * Self.hintSlots + 1)
        hints.initialize(repeating: 0, count: 2 * Self.hintSlots + 1)
        packet.tunnelPorts = configuration.tunnelPorts
    }

    deinit { hints.deallocate() }

    /// How far ahead of the packet in hand the ring passes hints (`PacketConsumer.pop`).
    public static let lookahead = 8

    /// Called once per packet, before it, with the hints of the packet `lookahead` slots on:
    /// starts fetching that packet's index bucket; and for the packet half as far on, whose
    /// bucket was fetched `lookahead / 2` calls ago, its flow and links, or, when it has no
    /// flow yet (it will start one), the scan detector's entry for its source. With 100,000
    /// flows and sources none of these is in cache; fetched ahead, their memory arrives while
    /// earlier packets are processed. (Fetching the list neighbours of a relink too, a third
    /// step, measured no faster, 16 alternating rounds.)
    @inline(__always)
    public func prefetch(flow: UInt64, source: UInt64) {
        let call = Int(truncatingIfNeeded: hints[2 * Self.hintSlots])
        let mask = Self.hintSlots - 1
        hints[2 * (call & mask)] = flow
        hints[2 * (call & mask) + 1] = source
        if flow != 0 { flows.prefetchBucket(hash: flow) }
        let nearer = 2 * ((call &- Self.lookahead / 2) & mask)
        if hints[nearer] != 0 && !flows.prefetchFlow(hash: hints[nearer]) && hints[nearer + 1] != 0 && sensorWide == nil {
            scans.prefetch(sourceHint: hints[nearer + 1])
        }
        hints[2 * Self.hintSlots] = UInt64(truncatingIfNeeded: call &+ 1)
    }

    /// A ruleset with the tables the engine matches it by: the watched ports and the
    /// prefilter's port bits. Built on any thread (a reload builds it beside the running engine),
    /// installed between packets with `replaceRules`.
    public struct CompiledRules: Sendable {
        public let rules: RuleSet
        public let watchlist: Watchlist
        public let interest: Interest

        /// Builds both tables at once for a large ruleset (10,000 rules take a few milliseconds each).
        public init(_ rules: RuleSet) {
            self.rules = rules
            guard rules.rules.count >= RuleLoader.parallelRules else {
                (watchlist, interest) = (Watchlist(rules: rules), Interest(rules: rules))
                return
            }
            var watchlist: Watchlist?
            var interest: Interest?
            Concurrently.run({ watchlist = Watchlist(rules: rules) }, alongside: { interest = Interest(rules: rules) })
            (self.watchlist, self.interest) = (watchlist!, interest!)
        }
    }

    /// Rules that failed to load beside `rules` (the stats record's `rules_failed`).
    public var rulesFailed: UInt64 = 0
    /// When `rules` were loaded, wall clock (live: the stats record's `last_reload`).
    public var rulesLoadedAt: Int64?

    /// Swaps in a new ruleset between packets (reload), loaded at `loadedAt`. Flows keep their state.
    public func replaceRules(_ compiled: CompiledRules, loadedAt: Int64? = nil) {
        (rules, watchlist, interest) = (compiled.rules, compiled.watchlist, compiled.interest)
        rulesFailed = 0  // a reload with any error is refused
        rulesLoadedAt = loadedAt
    }

    /// Runs one packet through the engine. `timestamp` is nanoseconds since the epoch.
    /// `capturedLength` is libpcap's when `bytes` is a ring slot's prefix of the packet.
    public func process(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, capturedLength: Int? = nil,
                        timestamp: Int64, originalLength: Int, origin: PacketOrigin) {
        Decoder.decode(bytes, linkType: linkType, capturedLength: capturedLength, into: &packet)
        stats.packets &+= 1
        stats.bytes &+= UInt64(originalLength)
        if timestamp > lastTimestamp { lastTimestamp = timestamp }
        if !packet.events.isEmpty { countEvents(timestamp: timestamp, origin: origin) }
        guard packet.hasIP else { return }
        if timestamp >= nextExpiry {
            expireFlows(now: timestamp)
            nextExpiry = timestamp + 1_000_000_000
        }

        // Packets no rule could match are counted and go no further: no flow, no matching.
        guard interest.wants(packet) || packet.quoted.isPresent else {
            stats.uninspected &+= 1
            return
        }

        // An ICMP error belongs to the flow it quotes: that is how a port says no.
        if let (quotedKey, quotedCanonical) = FlowKey.quotedFlow(of: packet), let handle = flows.lookup(quotedKey) {
            let quotedFromClient = flows[handle].isToServer(isCanonical: quotedCanonical)
            flows[handle].countRelated(toServer: !quotedFromClient, timestamp: timestamp, length: originalLength)
            if flows[handle].flags & Self.watchedFlag != 0, quotedFromClient,
               Refusal.isRefusal(icmpType: packet.icmpType, code: packet.icmpCode, ipVersion: packet.ipVersion) {
                setVerdict(.rejected, on: handle)
            }
            match(handle: handle, toServer: false, timestamp: timestamp, bytes: bytes, originalLength: originalLength,
                  linkType: linkType, origin: origin)
            return
        }
        guard interest.wants(packet) else {
            stats.uninspected &+= 1
            return
        }

        guard let (key, isCanonical) = FlowKey.of(packet) else { return }
        // A flow pushed out to make room ends here like any other: its record and verdict count.
        let (handle, isNew) = flows.lookupOrInsert(key, isCanonical: isCanonical, timestamp: timestamp) { evicted in
            self.flowEnded(evicted, reason: "forced", time: timestamp)
        }
        if isNew && comesFromWatchedServer() { flows[handle].reverseDirection() }
        let toServer = flows[handle].isToServer(isCanonical: isCanonical)
        let wasEstablished = flows[handle].established
        flows.update(handle, with: packet, toServer: toServer, timestamp: timestamp, length: originalLength)
        if isNew {
            stats.flowsSeen &+= 1
            flows[handle].source = UInt16(clamping: origin.source)
            let serverPort = toServer ? packet.dport : packet.sport
            if packet.hasPorts && watchlist.isWatched(port: serverPort, proto: packet.proto) {
                startWatching(handle, port: serverPort, toServer: toServer, bytes: bytes, timestamp: timestamp, origin: origin)
            }
        }
        if flows[handle].flags & Self.watchedFlag != 0 {
            if packet.payloadLength > 0 { flows[handle].flags |= Self.payloadFlag }
            if !toServer {
                replyFromWatchedSide(handle)
            } else if !wasEstablished && flows[handle].established && !flows[handle].spokeToClient {
                // The client completed a handshake the sensor saw none of the server's side of:
                // only a SYN-ACK it received makes a client acknowledge (see `Flow.updateTCP`).
                setVerdict(.answered, on: handle)
            } else if flows[handle].verdict == Verdict.backscatter.rawValue,
                      !packet.hasTCPFlags || packet.tcpFlags & TCPFlag.rst == 0 {
                // Our side carried on after the watched side's SYN-ACK: a session whose SYN the
                // sensor missed, not backscatter (an address that never asked resets, if anything).
                setVerdict(.answered, on: handle)
            }
        }
        match(handle: handle, toServer: toServer, timestamp: timestamp, bytes: bytes,
              originalLength: originalLength, linkType: linkType, origin: origin)
    }

    /// Whether a new flow's first packet comes from a watched port's side with no client before
    /// it: TCP from a watched source port to an unwatched one, other than a bare SYN (whose
    /// sender is a client, whatever its port). Then the receiver is the flow's client.
    @inline(__always)
    private func comesFromWatchedServer() -> Bool {
        guard packet.proto == IPProtocol.tcp, packet.hasTCPFlags,
              packet.tcpFlags & (TCPFlag.syn | TCPFlag.ack) != TCPFlag.syn,
              watchlist.isWatched(port: packet.sport, proto: packet.proto) else { return false }
        return !watchlist.isWatched(port: packet.dport, proto: packet.proto)
    }

    /// A new flow to a watched port: it gets a verdict; a probe from its client is counted, named
    /// (`scan_kind`, `tool`) and goes to the scan detector.
    private func startWatching(_ handle: FlowHandle, port: UInt16, toServer: Bool, bytes: UnsafeRawBufferPointer,
                               timestamp: Int64, origin: PacketOrigin) {
        flows[handle].flags |= Self.watchedFlag
        flows[handle].watchedPort = port
        flows[handle].verdict = Verdict.unanswered.rawValue
        stats.watchedFlows &+= 1
        if packet.tunnel.isPresent { rememberTunnel(of: handle) }
        guard toServer else {
            flows[handle].flags |= Self.serverFirstFlag
            return
        }
        let kind = packet.proto == IPProtocol.tcp && packet.hasTCPFlags
            ? ScanKind.of(tcpFlags: packet.tcpFlags, payloadLength: packet.payloadLength) : .none
        let tool = ScannerTool.identify(bytes, packet)
        flows[handle].flags |= UInt32(kind.rawValue) << Self.scanKindShift | UInt32(tool.rawValue) << Self.toolShift
        if configuration.countsClients { countWatchedFlow(client: packet.src) }
        let (source, host, proto) = (packet.src, packet.dst, packet.proto)
        if let scan = withDetections({ scans, _, _ in
            scans.observe(source: source, host: host, port: port, proto: proto, kind: kind, tool: tool, time: timestamp)
        }) {
            writeScan(scan, timestamp: timestamp, origin: origin)
        }
    }

    /// A packet from the watched port's side. A RST rejects. Anything else from a TCP stack with
    /// an ACK in it (a SYN-ACK, data, a bare ACK or FIN) answers: a closed port answers every
    /// segment but a RST with a RST (RFC 9293, 3.10.7.1), so only a socket on the port sends
    /// them. Any datagram answers.
    ///
    /// Backscatter is the exception: a flow that began with a SYN-ACK or a RST from the watched
    /// side, no data, and nothing yet from the other side answers no one of ours.
    @inline(__always)
    private func replyFromWatchedSide(_ handle: FlowHandle) {
        if packet.proto == IPProtocol.tcp {
            guard packet.hasTCPFlags else { return }
            let flags = packet.tcpFlags
            if flows[handle].flags & Self.serverFirstFlag != 0 && !flows[handle].spokeToServer
                && packet.payloadLength == 0 && flags & (TCPFlag.syn | TCPFlag.rst) != 0 && flags & TCPFlag.fin == 0 {
                if flows[handle].verdict == Verdict.unanswered.rawValue { flows[handle].verdict = Verdict.backscatter.rawValue }
            } else if flags & TCPFlag.rst != 0 {
                setVerdict(.rejected, on: handle)
            } else if flags & TCPFlag.ack != 0 || packet.payloadLength > 0 {
                setVerdict(.answered, on: handle)
            }
        } else {
            setVerdict(.answered, on: handle)
        }
    }

    /// Verdicts only move forward: a listener that answered and then reset still answered.
    /// Backscatter gives way to any verdict (see `replyFromWatchedSide`).
    @inline(__always)
    private func setVerdict(_ verdict: Verdict, on handle: FlowHandle) {
        let current = flows[handle].verdict
        guard verdict.rawValue > current || current == Verdict.backscatter.rawValue else { return }
        flows[handle].verdict = verdict.rawValue
        if verdict == .answered, let baseline { learnListener(of: handle, into: baseline) }
    }

    /// A flow's first answer: its listener's figures counted in the baseline, the listener added
    /// while the policy learns (the flow then marked as the one that taught it).
    private func learnListener(of handle: FlowHandle, into baseline: ListenerBaseline) {
        let flow = flows[handle]
        let before = baseline.count
        baseline.observe(flow.listener, client: flow.client.address, start: flow.start.floorDivided(by: 1_000_000_000),
                         end: flow.last.floorDivided(by: 1_000_000_000), learning: configuration.baseline.learns(at: flow.last))
        if baseline.count > before {
            listenerCounts.learned &+= 1
            flows[handle].flags |= Self.taughtFlag
        }
    }

    @inline(__always)
    private func match(handle: FlowHandle, toServer: Bool, timestamp: Int64, bytes: UnsafeRawBufferPointer,
                       originalLength: Int, linkType: LinkType, origin: PacketOrigin) {
        // Two fields, not the whole flow: a copy of its ~170 bytes per packet showed in profiles.
        let established = flows[handle].established
        if flows[handle].flags & Self.evidenceFlag != 0 {
            appendEvidence(handle: handle, bytes: bytes, originalLength: originalLength, timestamp: timestamp)
        }
        let facts = PacketFacts(
            ipVersion: packet.ipVersion,
            src: UInt128(packet.src.high) << 64 | UInt128(packet.src.low),
            dst: UInt128(packet.dst.high) << 64 | UInt128(packet.dst.low),
            proto: packet.proto, sport: packet.sport, dport: packet.dport, hasPorts: packet.hasPorts,
            tcpFlags: UInt8(truncatingIfNeeded: packet.tcpFlags), payloadLength: UInt16(clamping: packet.payloadLength))
        let flowFacts = FlowFacts(
            direction: toServer ? .toServer : .toClient, established: established,
            packetsToServer: UInt32(clamping: flows[handle].packetsToServer),
            packetsToClient: UInt32(clamping: flows[handle].packetsToClient))
        rules.match(facts, flow: flowFacts, into: &matches)
        guard !matches.alerts.isEmpty else { return }
        for index in matches.alerts {
            let rule = rules.rules[index]
            if !configuration.perPacket && hasAlerted(handle, sid: rule.sid) {
                flows[handle].alerted.insert(rule.sid)  // counts the repeat
                stats.repeats &+= 1
                continue
            }
            // A match a threshold or a suppression holds back is not the flow's alert: a later
            // one may still be.
            if !rule.suppressions.isEmpty && rule.isSuppressed(ipVersion: facts.ipVersion, src: facts.src, dst: facts.dst) {
                stats.suppressed &+= 1
                continue
            }
            guard thresholds.allows(rule, index: index, src: packet.src, dst: packet.dst, time: timestamp) else {
                stats.suppressed &+= 1
                continue
            }
            // A shed alert is still the flow's: its flow record lists the sid, and repeats are
            // counted as without a limit; only the alert record (and its evidence) is not written.
            recordAlerted(handle, sid: rule.sid)
            if flows[handle].flags & Self.alertedFlag == 0 && packet.tunnel.isPresent { rememberTunnel(of: handle) }
            flows[handle].flags |= Self.alertedFlag
            // With a baseline, an answer is judged by its listener (only answers: the lookup is
            // off every other path).
            var listener: ListenerStatus?
            if let baseline, flows[handle].flags & Self.watchedFlag != 0, rule.metadata["ghostport_role"]?.first == "answered" {
                let key = flows[handle].listener
                listener = flows[handle].flags & Self.taughtFlag != 0 ? .learning : baseline.contains(key) ? .known : .new
                if listener == .known && configuration.baseline.known == .silent {
                    listenerCounts.silenced &+= 1
                    continue
                }
            }
            // A new listener alerts as one once (once written: shed by the limits, the next
            // answer tries again); its later answers as their rules, marked new.
            let firstNew = listener == .new && !reportedNew.contains(flows[handle].listener)
            let sid = firstNew ? NewListenerAlert.sid : rule.sid
            guard admitAlert(sid: sid, source: packet.src, time: timestamp) else { continue }
            if firstNew { reportedNew.insert(flows[handle].listener) }
            flows[handle].flags |= Self.alertWrittenFlag
            stats.countAlert(sid: sid)
            var evidenceName: String?
            if records.keepsEvidence {
                evidenceName = records.evidenceFile(flowID: flowID(of: flows[handle]))
                if flows[handle].flags & Self.evidenceFlag == 0 {
                    flows[handle].flags |= Self.evidenceFlag
                    appendEvidence(handle: handle, bytes: bytes, originalLength: originalLength, timestamp: timestamp)
                }
            }
            writeAlert(rule: rule, handle: handle, toServer: toServer, timestamp: timestamp, origin: origin,
                       evidence: evidenceName, listener: listener, firstNew: firstNew)
        }
    }

    /// Whether the flow already alerted on `sid`: its inline list, or past eight sids, the
    /// engine's overflow sets.
    @inline(__always)
    private func hasAlerted(_ handle: FlowHandle, sid: UInt32) -> Bool {
        if flows[handle].alerted.contains(sid) { return true }
        guard flows[handle].alerted.count == AlertedSids.capacity else { return false }
        return overflowSids[flowID(of: flows[handle])]?.contains(sid) ?? false
    }

    private func recordAlerted(_ handle: FlowHandle, sid: UInt32) {
        guard flows[handle].alerted.insert(sid) == .full else { return }
        let id = flowID(of: flows[handle])
        // Bounded like everything else: past the bound, such flows alert again rather than lose alerts.
        guard overflowSids[id] != nil || overflowSids.count < Self.maxOverflowFlows else { return }
        overflowSids[id, default: []].insert(sid)
    }

    private func appendEvidence(handle: FlowHandle, bytes: UnsafeRawBufferPointer, originalLength: Int, timestamp: Int64) {
        guard records.keepsEvidence else { return }
        let written = (flows[handle].flags >> Self.evidenceCountShift) & 0xFF
        guard written < Self.evidencePackets else { return }
        let flow = flows[handle]
        if records.appendEvidence(flowID: flowID(of: flow), linkType: packet.linkType, bytes: bytes,
                                  originalLength: originalLength, timestamp: timestamp) {
            flows[handle].flags = (flow.flags & ~(0xFF << Self.evidenceCountShift)) | ((written + 1) << Self.evidenceCountShift)
        } else {
            stats.evidenceErrors &+= 1
        }
    }

    private func countEvents(timestamp: Int64, origin: PacketOrigin) {
        packet.events.count(into: &stats.decodeEvents)
        guard configuration.anomalies else { return }
        let context = self.context(timestamp: timestamp, origin: origin)
        for event in packet.events { records.anomaly(event, packet: packet, context: context) }
    }

    /// Ends flows idle past their timeout at packet time `now`.
    public func expireFlows(now: Int64) {
        flows.expire(now: now) { flow in self.flowEnded(flow, reason: "timeout", time: now) }
        let ended = withDetections { _, limiter, floods in
            floods.roll(to: now, closed: writeFloodAggregate, ended: writeFloodAlert)
            return limiter.episode != nil ? limiter.endEpisode(now: now) : nil
        }
        if let ended { log?(ended.summary(limits: configuration.alertLimits)) }
    }

    /// The scans, alert limits and flood budgets: this engine's, or the sensor's (`sensorWide`)
    /// under its lock.
    @inline(__always)
    private func withDetections<T>(_ body: (inout ScanDetector, inout AlertLimiter, inout FloodFolder) -> T) -> T {
        guard let shared = sensorWide else { return body(&scans, &limiter, &floods) }
        return shared.monitor.locked { body(&shared.scans, &shared.limiter, &shared.floods) }
    }

    /// Whether the alert limits let this alert be written; a shed alert is counted, and the
    /// first of a stretch of shedding is logged (once, not per alert).
    private func admitAlert(sid: UInt32, source: IPAddress, time: Int64) -> Bool {
        let (wasShedding, decision, evicted) = withDetections { _, limiter, _ in
            let wasShedding = limiter.episode != nil
            return (wasShedding, limiter.admit(sid: sid, source: source, time: time), limiter.evicted)
        }
        stats.alertSourcesEvicted = evicted
        switch decision {
        case .allowed:
            return true
        case .shedBySource:
            stats.alertsShedBySource &+= 1
        case .shedBySid:
            stats.alertsShedBySid &+= 1
        }
        if !wasShedding, let log {
            let limits = configuration.alertLimits
            let what = decision == .shedBySource
                ? "source \(source) reached per_source \(limits.perSource)"
                : "sid \(sid) reached per_sid \(limits.perSid)"
            log("alert limit: \(what) alerts in \(limits.seconds) s; shedding alerts over the limits "
                + "(counted in stats as detect.alerts_shed_source and alerts_shed_sid; flows and verdicts are kept)")
        }
        return false
    }

    /// The end of input: every flow ends, the final stats record is written (unless
    /// `writesStats` is false: one of several engines whose counts are written together).
    /// `time` stamps the final stats record: the last packet's time by default (offline), the
    /// clock's when capturing live (where no packet may have come at all).
    public func finish(reason: StaticString = "shutdown", at time: Int64? = nil, writesStats: Bool = true) {
        drainFlows(reason: reason, time: time ?? lastTimestamp)
        // The sensor's budgets and evidence files end once, after every worker's flows
        // (`finishDetections` on one of them).
        if sensorWide == nil {
            finishDetections(at: time ?? lastTimestamp)
            records.closeAllEvidence()
        }
        if writesStats { writeStats(timestamp: time ?? lastTimestamp) }
        records.flush()
    }

    /// The flood aggregates still open and the alert limits' shedding end: at the end of the
    /// input, or, for a sensor's workers, once all of them have finished (on one of them, which
    /// also closes the evidence files they share).
    public func finishDetections(at time: Int64) {
        let ended = withDetections { _, limiter, floods in
            floods.finish(at: time, closed: writeFloodAggregate, ended: writeFloodAlert)
            return limiter.endEpisode()
        }
        if let ended { log?(ended.summary(limits: configuration.alertLimits)) }
        if sensorWide != nil { records.closeAllEvidence() }
        records.flush()
    }

    private func flowEnded(_ flow: Flow, reason: StaticString, time: Int64) {
        guard flowEndedNeedsRecord(flow) else { return }
        if keepsRecord(flow, time: time) {
            records.flowEnded(flow, reason: reason, time: time, watchlist: watchlist, tunnels: tunnelOfFlow, sources: sourceNames)
        }
        if flow.key.tunnelKey != 0 { tunnelOfFlow[flowID(of: flow)] = nil }
    }

    /// Keeps the packet's tunnel for the flow's record (the flow itself keeps only its key).
    private func rememberTunnel(of handle: FlowHandle) {
        let id = flowID(of: flows[handle])
        guard tunnelOfFlow[id] != nil || tunnelOfFlow.count < Self.maxTunnelFlows else { return }
        tunnelOfFlow[id] = packet.tunnel
    }

    /// A flow's end, but for its record: evidence closed, verdict counted. True when it
    /// gets a flow record (it was watched or alerted).
    func flowEndedNeedsRecord(_ flow: borrowing Flow) -> Bool {
        if flow.flags & Self.evidenceFlag != 0 { records.closeEvidence(flowID: flowID(of: flow)) }
        if flow.alerted.count == AlertedSids.capacity { overflowSids[flowID(of: flow)] = nil }
        guard flow.flags & (Self.watchedFlag | Self.alertedFlag) != 0 else { return false }
        if flow.flags & Self.watchedFlag != 0 {
            let verdict = Verdict(rawValue: flow.verdict) ?? .none
            stats.countVerdict(verdict, port: flow.watchedPort, proto: flow.key.proto)
            if verdict == .answered, let baseline { baseline.touch(flow.listener, at: flow.last.floorDivided(by: 1_000_000_000)) }
        }
        return true
    }

    /// Whether a flow that gets a record keeps its own (true), or is folded into its port's
    /// flood aggregate past the record budget (see `FloodLimits`).
    func keepsRecord(_ flow: borrowing Flow, time: Int64) -> Bool {
        guard flow.flags & Self.watchedFlag != 0 else { return true }
        let verdict = Verdict(rawValue: flow.verdict) ?? .none
        let kind = flow.flags & Self.alertWrittenFlag != 0 ? nil
            : FloodFolder.kind(of: flow, verdict: verdict, carriedData: flow.flags & Self.payloadFlag != 0)
        let (keep, began): (Bool, FloodAlert?)
        if let shared = sensorWide {
            let flow = copy flow  // (a borrowed parameter is not captured)
            (keep, began) = shared.monitor.locked {
                shared.floods.admit(flow, kind: kind, time: time, closed: writeFloodAggregate, ended: writeFloodAlert)
            }
        } else {
            (keep, began) = floods.admit(flow, kind: kind, time: time, closed: writeFloodAggregate, ended: writeFloodAlert)
        }
        if !keep, let kind { stats.folded[Int(kind.rawValue)] &+= 1 }
        if let began { writeFloodAlert(began) }
        return keep
    }

    private func writeFloodAggregate(_ aggregate: FloodAggregate) {
        stats.floodRecords &+= 1
        records.flood(aggregate, service: watchlist.service(port: aggregate.port, proto: aggregate.proto))
    }

    /// A flood's start and end alerts are not shed: at most two per port and flood.
    private func writeFloodAlert(_ alert: FloodAlert) {
        stats.countAlert(sid: alert.kind.sid)
        records.floodAlert(alert, service: watchlist.service(port: alert.port, proto: alert.proto))
    }

    /// Flushes buffered records (live: after each batch, so alerts reach disk promptly).
    public func flushOutput() { records.flush() }

    /// Writes a stats record now (live: every N seconds and on SIGUSR1).
    public func emitStats(timestamp: Int64) { writeStats(timestamp: timestamp) }

    // MARK: Records

    /// A stable 51-bit flow id (as Suricata's), the same in the alert and the flow record.
    func flowID(of flow: Flow) -> UInt64 { Self.flowID(of: flow) }

    public static func flowID(of flow: Flow) -> UInt64 {
        let id = (flow.key.hash(seed: 0x6768_6F73_7470_6F72) ^ UInt64(bitPattern: flow.start)) & 0x0007_FFFF_FFFF_FFFF
        return id == 0 ? 1 : id
    }

    /// When and where the packet in hand was seen, for a record about it.
    private func context(timestamp: Int64, origin: PacketOrigin) -> PacketContext {
        PacketContext(timestamp: timestamp, count: origin.count,
                      fileName: origin.source >= 0 && origin.source < sourceNames.count ? sourceNames[origin.source] : nil)
    }

    private func writeAlert(rule: Rule, handle: FlowHandle, toServer: Bool, timestamp: Int64, origin: PacketOrigin,
                            evidence: String?, listener: ListenerStatus?, firstNew: Bool) {
        let flow = flows[handle]
        let service = flow.isWatched ? watchlist.service(port: flow.watchedPort, proto: flow.key.proto) : nil
        records.alert(AlertDecision(rule: rule, flow: flow, flowID: flowID(of: flow), toServer: toServer, service: service,
                                    evidence: evidence, context: context(timestamp: timestamp, origin: origin),
                                    listener: listener, newListener: firstNew, baselineSince: baseline?.since),
                      packet: packet)
    }

    private func writeScan(_ scan: ScanDetector.Scan, timestamp: Int64, origin: PacketOrigin) {
        guard admitAlert(sid: ScanAlert.sid, source: scan.source, time: timestamp) else { return }
        stats.countAlert(sid: ScanAlert.sid)
        records.scan(scan, window: configuration.scan.seconds, packet: packet, context: context(timestamp: timestamp, origin: origin))
    }

    /// Counted as the flow starts (its sender is its client), not as it ends: at shutdown every
    /// flow ends at once, and this work would wait for the last record. Bounded: a spoofed
    /// flood must not grow the summary without limit.
    private func countWatchedFlow(client: IPAddress) {
        if watchedFlowsByClient.count < Self.maxClientsCounted {
            watchedFlowsByClient.update(client, default: { 0 }) { $0 &+= 1 }
        } else {
            watchedFlowsByClient.modify(client) { $0 &+= 1 }
        }
    }

    /// The `limit` clients with the most watched flows, most first (ties by address); empty
    /// unless `EngineConfiguration.countsClients`.
    public func topClients(_ limit: Int) -> [(address: IPAddress, flows: UInt64)] {
        var all: [(address: IPAddress, flows: UInt64)] = []
        all.reserveCapacity(watchedFlowsByClient.count)
        watchedFlowsByClient.forEach { address, flows in all.append((address, flows)) }
        return Self.top(all, limit)
    }

    /// The `limit` entries of `counts` with the most flows, most first (ties by address): the
    /// summary's ranking, for one engine's counts or several engines' added.
    public static func top(_ counts: [(address: IPAddress, flows: UInt64)], _ limit: Int) -> [(address: IPAddress, flows: UInt64)] {
        Array(counts.sorted { $0.flows > $1.flows || ($0.flows == $1.flows && $0.address < $1.address) }.prefix(limit))
    }

    /// The engine's counts with the prefilter's added: what the stats record and summary report.
    public var totals: EngineStats {
        var totals = stats
        if let baseline {
            var counts = listenerCounts
            counts.held = UInt64(baseline.count)
            counts.refused = baseline.refused
            totals.listeners = counts
        }
        totals.packets &+= turnedAway.packets
        totals.bytes &+= turnedAway.bytes
        totals.uninspected &+= turnedAway.uninspected
        for i in 0..<DecodeEvents.capacity { totals.decodeEvents[i] &+= turnedAway.decodeEvents[i] }
        return totals
    }

    /// Every count the sensor keeps, as the stats record, the textfile and the summary show them.
    public var statistics: SensorStats {
        SensorStats(uptimeSeconds: uptimeSeconds, engine: totals, flows: flows.counters, capture: capture,
                    output: records.counters,
                    rules: RuleCounts(loaded: UInt64(rules.count), failed: rulesFailed, lastReload: rulesLoadedAt))
    }

    private func writeStats(timestamp: Int64) {
        records.stats(statistics, timestamp: timestamp)
    }

    /// Where the engine reports what an operator must hear of (alert shedding); nil: nowhere.
    public var log: ((String) -> Void)?
}

/// What a sensor's workers share, each an engine of its own: a scan spread over them is one scan
/// with all its ports and hosts, the alert limits and the flood budgets are the sensor's. Used
/// under `monitor` (an engine takes it for a flow's start, an alert, a flow record's budget).
public final class SensorWide: @unchecked Sendable {
    // @unchecked: every `var` is used under `monitor` (`Engine.withDetections`).
    let monitor = Monitor()
    var scans: ScanDetector
    var limiter: AlertLimiter
    var floods: FloodFolder

    public init(configuration: EngineConfiguration, seed: UInt64) {
        scans = ScanDetector(configuration: configuration.scan, seed: seed)
        limiter = AlertLimiter(limits: configuration.alertLimits, seed: seed)
        floods = FloodFolder(limits: configuration.flood, seed: seed)
    }

    /// Alert sources pushed out of the limiter's table (the sensor's count, not each worker's).
    public var alertSourcesEvicted: UInt64 { monitor.locked { limiter.evicted } }
}

/// The scan alert's identity: ghostport's own sid, outside the registry's 9,000,000 block.
public enum ScanAlert {
    public static let sid: UInt32 = 8_999_001
}
