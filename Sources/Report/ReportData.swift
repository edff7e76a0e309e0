/// What a report shows, aggregated record by record as the EVE lines are read: memory is bounded
/// by the caps below, never by the input's size. Every record kind ghostport writes is read, and
/// Suricata's EVE for the fields the two share (an alert's severity, addresses, ports, protocol,
/// timestamp; a flow's tuple; anomalies; stats counters).
public struct ReportData {
    /// The series of the timeline, bottom to top of a stacked bar.
    enum Serie: Int, CaseIterable {
        case answered, rejected, probe, backscatter, scan, flood, other

        /// The case's own name: the legend's word and the bar's CSS class.
        var name: String { "\(self)" }
    }

    /// A watched flow's verdict in flow records.
    static let verdicts = ["unanswered", "rejected", "answered", "backscatter"]

    struct PortKey: Hashable, Comparable {
        var port: Int
        var proto: String

        static func < (a: PortKey, b: PortKey) -> Bool { (a.port, a.proto) < (b.port, b.proto) }
        var text: String { "\(port)/\(proto)" }
    }

    struct PortRow {
        var service: String?
        var verdicts = [Int](repeating: 0, count: ReportData.verdicts.count)
        var alerts = 0
        var folded = 0
        var sources = DistinctSet(exactLimit: 4096)
        var first = Int64.max
        var last = Int64.min
        var activity = Timeline(series: 1, maximumBuckets: 64)
        var flows: Int { verdicts.reduce(0, +) }
    }

    struct SourceDetail {
        var flows = 0
        var alerts = 0
        var answered = 0
        var ports: Set<String> = []
        var portsBeyond = false
        var scanKind: String?
        var tool: String?
        var first = Int64.max
        var last = Int64.min
    }

    struct ListenerKey: Hashable {
        var address: String
        var port: Int
        var proto: String
    }

    struct ListenerDetail {
        var flows = 0
        var alerts = 0
        var severity = Int.max
        var clients = DistinctSet(exactLimit: 256)
        var evidence: String?
        var evidenceFiles = 0
        var status: String?
        var service: String?
        var first = Int64.max
        var last = Int64.min
    }

    struct ScanDetail {
        var alerts = 0
        var ports: Set<String> = []
        var hosts: Set<String> = []
        var kind: String?
        var tool: String?
        var first = Int64.max
        var last = Int64.min
    }

    struct FloodKey: Hashable {
        var kind: String
        var port: Int
        var proto: String
    }

    struct FloodDetail {
        var records = 0
        var flows = 0
        var packets = 0
        var sources = 0
        var topSource: String?
        var topSourceFlows = 0
        var service: String?
        var first = Int64.max
        var last = Int64.min
    }

    /// One sensor run's counters, from its last stats record (they are cumulative from its start).
    struct RunCounters {
        var uptime: Int64 = -1
        var packets = 0
        var bytes = 0
        var flows = 0
        var kernelPackets = 0
        var kernelDrops = 0
        var interfaceDrops = 0
        var ringDrops = 0
        var recordsLost = 0
        var alertsShed = 0
        var alertsSuppressed = 0
        var evidenceErrors = 0
        var syslogDropped = 0

        static func + (a: RunCounters, b: RunCounters) -> RunCounters {
            var sum = RunCounters()
            sum.packets = a.packets + b.packets
            sum.bytes = a.bytes + b.bytes
            sum.flows = a.flows + b.flows
            sum.kernelPackets = a.kernelPackets + b.kernelPackets
            sum.kernelDrops = a.kernelDrops + b.kernelDrops
            sum.interfaceDrops = a.interfaceDrops + b.interfaceDrops
            sum.ringDrops = a.ringDrops + b.ringDrops
            sum.recordsLost = a.recordsLost + b.recordsLost
            sum.alertsShed = a.alertsShed + b.alertsShed
            sum.alertsSuppressed = a.alertsSuppressed + b.alertsSuppressed
            sum.evidenceErrors = a.evidenceErrors + b.evidenceErrors
            sum.syslogDropped = a.syslogDropped + b.syslogDropped
            return sum
        }
    }

    /// Tracked entries past which the rest is counted, not itemised.
    public struct Limits: Sendable {
        public var ports = 4096
        public var sources = 20_000
        public var listeners = 20_000
        public var scanners = 10_000
        public var floods = 1024
        public var anomalyKinds = 1024
        public var distinctSources = 1_000_000
        public var problems = 10
        public init() {}
    }

    let limits: Limits
    let services: [PortKey: String]

    // What was read.
    var records = 0
    public internal(set) var malformed = 0
    public internal(set) var problems: [String] = []
    var recordsByKind: [String: Int] = [:]
    var first = Int64.max
    var last = Int64.min
    var hosts: Set<String> = []
    var captures: Set<String> = []

    // Tiles.
    var alertsBySeverity: [Int: Int] = [:]
    var alerts = 0
    var flowsByVerdict = [Int](repeating: 0, count: ReportData.verdicts.count)
    var otherFlows = 0
    var folded = 0
    var distinctSources: DistinctSet
    var scanAlerts = 0

    var timeline = Timeline(series: Serie.allCases.count, maximumBuckets: 480)
    var ports: [PortKey: PortRow] = [:]
    var portsUntracked = 0
    var sources: TopCounter<String, SourceDetail>
    var listeners: TopCounter<ListenerKey, ListenerDetail>
    var scanners: TopCounter<String, ScanDetail>
    var floods: [FloodKey: FloodDetail] = [:]
    var floodsUntracked = 0
    var anomalies: [String: Int] = [:]

    var runs: [RunCounters] = []
    var current: RunCounters?
    /// The ruleset the latest stats record names (Suricata's `detect.engines[0]`).
    var rules: (loaded: Int, failed: Int, lastReload: Int64?)?

    public init(limits: Limits = Limits(), services: [(port: Int, proto: String, service: String)] = []) {
        self.limits = limits
        var table: [PortKey: String] = [:]
        for entry in services { table[PortKey(port: entry.port, proto: entry.proto)] = entry.service }
        self.services = table
        distinctSources = DistinctSet(exactLimit: limits.distinctSources)
        sources = TopCounter(capacity: limits.sources)
        listeners = TopCounter(capacity: limits.listeners)
        scanners = TopCounter(capacity: limits.scanners)
    }

    // MARK: Reading

    /// One line of `input` (line `number`): a record, a blank line (skipped) or a problem.
    public mutating func add(_ line: EVELines.Line, input: String, number: Int) {
        switch line {
        case .tooLong(let length):
            problem(input, number, "a line of \(length) bytes, longer than \(EVELines.maximumLine): skipped")
        case .text(let bytes):
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
            let value: JSONValue
            do {
                value = try JSONValue.parse(bytes)
            } catch {
                problem(input, number, error.description)
                return
            }
            guard value.isObject, let kind = value["event_type"]?.string else {
                problem(input, number, "not an EVE record (no event_type)")
                return
            }
            add(record: value, kind: kind)
        }
    }

    mutating func problem(_ input: String, _ number: Int, _ reason: String) {
        malformed += 1
        if problems.count < limits.problems { problems.append("\(input):\(number): \(reason)") }
    }

    /// The first timestamp of a line, for ordering inputs (nil when the line has none).
    public static func timestamp(of line: UnsafeBufferPointer<UInt8>) -> Int64? {
        (try? JSONValue.parse(line))?["timestamp"]?.string.flatMap(EVETime.parse)
    }

    mutating func add(record: JSONValue, kind: String) {
        records += 1
        recordsByKind[kind, default: 0] += 1
        let time = record["timestamp"]?.string.flatMap(EVETime.parse)
        if let time {
            first = min(first, time)
            last = max(last, time)
        }
        if let host = record["host"]?.string, hosts.count < 16 { hosts.insert(host) }
        if let capture = record["pcap_filename"]?.string, captures.count < 16 { captures.insert(capture) }
        switch kind {
        case "alert": addAlert(record, time)
        case "flow": addFlow(record, time)
        case "flood": addFlood(record, time)
        case "anomaly": addAnomaly(record)
        case "stats": addStats(record)
        default: break
        }
    }

    static func proto(_ record: JSONValue) -> String {
        (record["proto"]?.string ?? record["proto"]?.integer.map { String($0) } ?? "?").lowercased()
    }

    static func int(_ value: JSONValue?) -> Int {
        value?.integer.map { Int(clamping: $0) } ?? 0
    }

    mutating func addAlert(_ record: JSONValue, _ time: Int64?) {
        alerts += 1
        let alert = record["alert"]
        let own = record["ghostport"]
        let severity = Self.int(alert?["severity"]).clamped(0, 256)
        alertsBySeverity[severity == 0 ? 3 : severity, default: 0] += 1
        let ownKind = own?["kind"]?.string
        let verdict = own?["verdict"]?.string
        let serie: Serie
        switch (ownKind, verdict) {
        case ("scan", _): serie = .scan
        case ("flood", _): serie = .flood
        case ("answered", _), (_, "answered"): serie = .answered
        case (_, "rejected"): serie = .rejected
        case (_, "backscatter"): serie = .backscatter
        case (_, "probe"): serie = .probe
        default: serie = .other
        }
        if let time { timeline.add(time, serie: serie.rawValue) }
        let proto = Self.proto(record)
        let flow = record["flow"]
        let towardsClient = record["direction"]?.string == "to_client"
        let client = flow?["src_ip"]?.string ?? (towardsClient ? record["dest_ip"]?.string : record["src_ip"]?.string)

        if ownKind == "scan" {
            scanAlerts += 1
            let scan = own?["scan"]
            let source = scan?["source"]?.string ?? record["src_ip"]?.string ?? "?"
            distinctSources.insert(source)
            let scanFirst = scan?["first_seen"]?.string.flatMap(EVETime.parse) ?? time
            scanners.add(source, fresh: ScanDetail.init) { detail in
                detail.alerts += 1
                for port in scan?["ports"]?.array ?? [] where detail.ports.count < 4096 {
                    if let port = port.string { detail.ports.insert(port) }
                }
                for host in scan?["hosts"]?.array ?? [] where detail.hosts.count < 4096 {
                    if let host = host.string { detail.hosts.insert(host) }
                }
                if let kind = own?["scan_kind"]?.string { detail.kind = kind }
                if let tool = own?["tool"]?.string { detail.tool = tool }
                if let scanFirst { detail.first = min(detail.first, scanFirst) }
                if let time { detail.last = max(detail.last, time) }
            }
            touchSource(source, port: nil, time: time, scanKind: own?["scan_kind"]?.string, tool: own?["tool"]?.string) { $0.alerts += 1 }
            return
        }
        if ownKind == "flood" { return }  // the flood records carry its figures

        let watched = own?["watched_port"]?.integer.map { Int(clamping: $0) }
            ?? Self.int(towardsClient ? record["src_port"] : record["dest_port"])
        let key = PortKey(port: watched, proto: proto)
        updatePort(key, service: own?["service"]?.string) { row in
            row.alerts += 1
            if let time {
                row.first = min(row.first, time)
                row.last = max(row.last, time)
            }
        }
        if let client {
            distinctSources.insert(client)
            touchSource(client, port: key.text, time: time, scanKind: own?["scan_kind"]?.string, tool: own?["tool"]?.string) {
                $0.alerts += 1
            }
        }
        if ownKind == "answered" {
            let server = flow?["dest_ip"]?.string ?? (towardsClient ? record["src_ip"]?.string : record["dest_ip"]?.string) ?? "?"
            let listener = ListenerKey(address: server, port: watched, proto: proto)
            listeners.add(listener, weight: 0, fresh: ListenerDetail.init) { detail in
                detail.alerts += 1
                detail.severity = min(detail.severity, severity)
                if let client { detail.clients.insert(client) }
                if let evidence = own?["evidence"]?.string {
                    detail.evidenceFiles += 1
                    if detail.evidence == nil { detail.evidence = evidence }
                }
                if let status = own?["listener"]?.string { detail.status = status }
                detail.service = detail.service ?? own?["service"]?.string
                if let time {
                    detail.first = min(detail.first, time)
                    detail.last = max(detail.last, time)
                }
            }
        }
    }

    mutating func addFlow(_ record: JSONValue, _ time: Int64?) {
        let own = record["ghostport"]
        guard let verdict = own?["verdict"]?.string, let slot = Self.verdicts.firstIndex(of: verdict) else {
            otherFlows += 1
            return
        }
        flowsByVerdict[slot] += 1
        let proto = Self.proto(record)
        let key = PortKey(port: own?["watched_port"]?.integer.map { Int(clamping: $0) } ?? Self.int(record["dest_port"]), proto: proto)
        let flow = record["flow"]
        let start = flow?["start"]?.string.flatMap(EVETime.parse) ?? time
        let end = flow?["end"]?.string.flatMap(EVETime.parse) ?? time
        if let start {
            first = min(first, start)
        }
        let client = record["src_ip"]?.string
        updatePort(key, service: own?["service"]?.string) { row in
            row.verdicts[slot] += 1
            if let client { row.sources.insert(client) }
            if let start {
                row.first = min(row.first, start)
                row.activity.add(start, serie: 0)
            }
            if let end { row.last = max(row.last, end) }
        }
        if let client {
            distinctSources.insert(client)
            touchSource(client, port: key.text, time: start, scanKind: own?["scan_kind"]?.string, tool: own?["tool"]?.string) {
                $0.flows += 1
                if verdict == "answered" { $0.answered += 1 }
            }
        }
        if verdict == "answered" {
            let listener = ListenerKey(address: record["dest_ip"]?.string ?? "?", port: key.port, proto: proto)
            listeners.add(listener, fresh: ListenerDetail.init) { detail in
                detail.flows += 1
                if let client { detail.clients.insert(client) }
                detail.service = detail.service ?? own?["service"]?.string
                if let start { detail.first = min(detail.first, start) }
                if let end { detail.last = max(detail.last, end) }
            }
        }
    }

    mutating func addFlood(_ record: JSONValue, _ time: Int64?) {
        guard let flood = record["ghostport"]?["flood"] ?? record["flood"] else { return }
        let key = FloodKey(kind: flood["kind"]?.string ?? "flood", port: Self.int(flood["port"]), proto: Self.proto(record))
        let flows = Self.int(flood["flows"])
        folded += flows
        updatePort(PortKey(port: key.port, proto: key.proto), service: flood["service"]?.string) { $0.folded += flows }
        if let time { timeline.add(time, serie: Serie.flood.rawValue, weight: 0) }
        guard floods[key] != nil || floods.count < limits.floods else {
            floodsUntracked += 1
            return
        }
        var detail = floods[key] ?? FloodDetail()
        detail.records += 1
        detail.flows += flows
        detail.packets += Self.int(flood["packets"])
        detail.sources = max(detail.sources, Self.int(flood["sources"]))
        detail.service = detail.service ?? flood["service"]?.string
        if let top = flood["top_sources"]?.array?.first, let ip = top["ip"]?.string, Self.int(top["flows"]) > detail.topSourceFlows {
            detail.topSource = ip
            detail.topSourceFlows = Self.int(top["flows"])
        }
        if let begun = (flood["first_seen"] ?? flood["window_start"])?.string.flatMap(EVETime.parse) {
            detail.first = min(detail.first, begun)
            first = min(first, begun)
        }
        if let seen = (flood["last_seen"] ?? flood["window_end"])?.string.flatMap(EVETime.parse) ?? time {
            detail.last = max(detail.last, seen)
        }
        floods[key] = detail
    }

    mutating func addAnomaly(_ record: JSONValue) {
        let name = record["anomaly"]?["event"]?.string ?? record["ghostport"]?["event"]?.string
            ?? record["anomaly"]?["type"]?.string ?? "?"
        if anomalies[name] != nil || anomalies.count < limits.anomalyKinds {
            anomalies[name, default: 0] += 1
        } else {
            anomalies["(other events)", default: 0] += 1
        }
    }

    /// Stats records are cumulative from a sensor's start: a run's figures are its last record's.
    /// A record whose uptime does not grow past the previous one's (a restart, or another `read`,
    /// whose uptime is 0) begins a new run.
    mutating func addStats(_ record: JSONValue) {
        guard let stats = record["stats"] else { return }
        let own = record["ghostport"]?["stats"]
        var counters = RunCounters()
        counters.uptime = stats["uptime"]?.integer ?? 0
        counters.packets = Self.int(stats["decoder"]?["pkts"])
        counters.bytes = Self.int(stats["decoder"]?["bytes"])
        counters.flows = Self.int(own?["flow"]?["created"])
        counters.kernelPackets = Self.int(stats["capture"]?["kernel_packets"])
        counters.kernelDrops = Self.int(stats["capture"]?["kernel_drops"])
        counters.interfaceDrops = Self.int(stats["capture"]?["kernel_ifdrops"])
        counters.ringDrops = Self.int(own?["capture"]?["ring_drops"])
        counters.recordsLost = Self.int(own?["output"]?["lost"])
        counters.alertsShed = Self.int(own?["detect"]?["alerts_shed_source"]) + Self.int(own?["detect"]?["alerts_shed_sid"])
        counters.alertsSuppressed = Self.int(stats["detect"]?["alerts_suppressed"])
        counters.evidenceErrors = Self.int(own?["output"]?["evidence_errors"])
        counters.syslogDropped = Self.int(own?["output"]?["syslog_dropped"])
        if let engine = stats["detect"]?["engines"]?.array?.first, let loaded = engine["rules_loaded"]?.integer {
            rules = (Int(clamping: loaded), Self.int(engine["rules_failed"]), engine["last_reload"]?.string.flatMap(EVETime.parse))
        }
        if let previous = current, counters.uptime <= previous.uptime || counters.packets < previous.packets {
            runs.append(previous)
        }
        current = counters
    }

    /// The runs' counters summed (nil when no stats record was read).
    var counters: RunCounters? {
        let all = runs + (current.map { [$0] } ?? [])
        return all.isEmpty ? nil : all.reduce(RunCounters(), +)
    }

    var runCount: Int { runs.count + (current == nil ? 0 : 1) }

    mutating func updatePort(_ key: PortKey, service: String?, _ body: (inout PortRow) -> Void) {
        guard ports[key] != nil || ports.count < limits.ports else {
            portsUntracked += 1
            return
        }
        body(&ports[key, default: PortRow(service: service ?? services[key])])
        if ports[key]!.service == nil, let service { ports[key]!.service = service }
    }

    mutating func touchSource(_ address: String, port: String?, time: Int64?, scanKind: String?, tool: String?,
                              _ body: (inout SourceDetail) -> Void) {
        sources.add(address, fresh: SourceDetail.init) { detail in
            body(&detail)
            if let port {
                if detail.ports.count < 64 || detail.ports.contains(port) {
                    detail.ports.insert(port)
                } else {
                    detail.portsBeyond = true
                }
            }
            if let scanKind { detail.scanKind = scanKind }
            if let tool { detail.tool = tool }
            if let time {
                detail.first = min(detail.first, time)
                detail.last = max(detail.last, time)
            }
        }
    }
}

extension Comparable {
    func clamped(_ low: Self, _ high: Self) -> Self { min(max(self, low), high) }
}
