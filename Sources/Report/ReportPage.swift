/// The report as one self-contained HTML page: inline CSS, SVG drawn here, no request leaving
/// the page (its Content-Security-Policy forbids any: `default-src 'none'`, and the one style
/// sheet and the one script are allowed by their SHA-256 hashes, so nothing injected could run
/// even if escaping failed). Readable without the script (which only sorts tables), printed, and
/// in a dark theme.
public struct ReportPage {
    public struct Input: Sendable {
        public var name: String
        public var lines: Int
        public init(name: String, lines: Int) {
            self.name = name
            self.lines = lines
        }
    }

    public var data: ReportData
    public var inputs: [Input]
    /// Rows of each long table.
    public var top: Int
    public var generator: String
    /// When the page was made (microseconds since the epoch).
    public var generated: Int64

    public init(data: ReportData, inputs: [Input], top: Int, generator: String, generated: Int64) {
        self.data = data
        self.inputs = inputs
        self.top = top
        self.generator = generator
        self.generated = generated
    }

    typealias Serie = ReportData.Serie

    var span: (Int64, Int64)? { data.first <= data.last ? (data.first, data.last) : nil }

    /// Decimals of a second the times need: a capture of a second needs milliseconds.
    var timeDigits: Int {
        guard let (first, last) = span else { return 0 }
        return last - first < 120_000_000 ? 3 : 0
    }

    /// Within one UTC day the tables leave the date to the header.
    var sameDay: Bool {
        guard let (first, last) = span else { return false }
        return floorDiv(first, 86_400_000_000) == floorDiv(last, 86_400_000_000)
    }

    func time(_ micros: Int64) -> String {
        guard micros != .max && micros != .min else { return "–" }
        let text = EVETime.format(micros, digits: timeDigits)
        return sameDay ? String(text.dropFirst(11)) : text
    }

    func fullTime(_ micros: Int64) -> String {
        EVETime.format(micros, digits: timeDigits)
    }

    func e(_ text: String) -> String { HTMLText.escape(text) }
    func n(_ value: Int) -> String { HTMLText.number(value) }

    public func render() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="\(Self.contentSecurityPolicy)">
            <meta name="referrer" content="no-referrer">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="\(e(generator))">
            <title>\(e(title))</title>
            <style>\(Self.style)</style>
            </head>
            <body>

            """
        html += header()
        html += trust()
        html += tiles()
        html += timeline()
        html += portsTable()
        html += listenersTable()
        html += sourcesTable()
        html += scansTable()
        html += floodsTable()
        html += health()
        html += "<footer>Made by \(e(generator)) on \(EVETime.format(generated)) UTC from EVE records. "
            + "Times are UTC. Counts marked ≈ are estimates (past the report's bounds); tables show the first \(top) rows (--top).</footer>\n"
        html += "<script>\(Self.script)</script>\n</body>\n</html>\n"
        return html
    }

    var title: String {
        guard let (first, last) = span else { return "ghostport report: no records" }
        return "ghostport report: \(EVETime.format(first)) to \(EVETime.format(last)) UTC"
    }

    // MARK: Sections

    func header() -> String {
        var html = "<header>\n<h1>What touched the abandoned ports</h1>\n<dl class=\"meta\">\n"
        if let (first, last) = span {
            html += "<dt>Span</dt><dd id=\"span\">\(fullTime(first)) to \(fullTime(last)) UTC (\(EVETime.duration(last - first)))</dd>\n"
        } else {
            html += "<dt>Span</dt><dd id=\"span\">no timestamped record</dd>\n"
        }
        let names = inputs.map { "\(e($0.name)) (\(n($0.lines)) lines)" }
        html += "<dt>Read</dt><dd id=\"inputs\">\(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", and \(names.count - 8) more" : "")"
            + ": \(n(data.records)) records</dd>\n"
        if !data.captures.isEmpty {
            html += "<dt>Captures</dt><dd>\(data.captures.sorted().map(e).joined(separator: ", "))</dd>\n"
        }
        if !data.hosts.isEmpty {
            html += "<dt>Sensors</dt><dd>\(data.hosts.sorted().map(e).joined(separator: ", "))</dd>\n"
        }
        if let rules = data.rules {
            let reload = rules.lastReload.map { ", loaded \(fullTime($0)) UTC" } ?? ""
            html += "<dt>Rules</dt><dd id=\"rules\"><span data-v=\"\(rules.loaded)\">\(n(rules.loaded))</span> loaded, "
                + "\(n(rules.failed)) failed\(reload) (the latest stats record that names them)</dd>\n"
        }
        if let counters = data.counters {
            html += "<dt>Traffic</dt><dd id=\"traffic\"><span data-v=\"\(counters.packets)\">\(n(counters.packets))</span> packets, "
                + "<span data-v=\"\(counters.flows)\">\(n(counters.flows))</span> flows tracked"
                + " (\(data.runCount == 1 ? "one sensor run" : "\(data.runCount) sensor runs"), from the stats records)</dd>\n"
        }
        return html + "</dl>\n</header>\n"
    }

    /// What makes the page incomplete: drops, lost records, unreadable lines.
    func trust() -> String {
        var warnings: [String] = []
        if let c = data.counters {
            let dropped = c.kernelDrops + c.interfaceDrops + c.ringDrops
            if dropped > 0 {
                warnings.append("The sensor dropped <b data-v=\"\(dropped)\" id=\"dropped\">\(n(dropped))</b> packets in this span "
                    + "(kernel \(n(c.kernelDrops)), interface \(n(c.interfaceDrops)), ring \(n(c.ringDrops))): what they carried is not here.")
            }
            if c.recordsLost > 0 { warnings.append("\(n(c.recordsLost)) records were lost writing the EVE output.") }
            if c.alertsShed > 0 { warnings.append("\(n(c.alertsShed)) alerts were shed by the sensor's alert limits (counted, not written).") }
        }
        if data.malformed > 0 {
            var text = "<b id=\"malformed\" data-v=\"\(data.malformed)\">\(n(data.malformed))</b> line\(data.malformed == 1 ? "" : "s") could not be read:"
            text += "<ul>" + data.problems.map { "<li><code>\(e($0))</code></li>" }.joined()
            if data.malformed > data.problems.count { text += "<li>and \(n(data.malformed - data.problems.count)) more</li>" }
            warnings.append(text + "</ul>")
        }
        if data.portsUntracked > 0 {
            warnings.append("\(n(data.portsUntracked)) records named ports past the first \(n(data.limits.ports)): counted in the tiles only.")
        }
        guard !warnings.isEmpty else { return "" }
        return "<section class=\"warning\" id=\"trust\">\n" + warnings.map { "<p>\($0)</p>" }.joined(separator: "\n") + "\n</section>\n"
    }

    func tile(_ id: String, _ label: String, _ value: Int, estimate: Bool = false, detail: String = "", strong: Bool = false) -> String {
        "<div class=\"tile\(strong ? " strong" : "")\" id=\"tile-\(id)\" data-v=\"\(value)\"><div class=\"value\"\(estimate ? " id=\"tile-\(id)-estimate\"" : "")>"
            + "\(HTMLText.count(value, estimate: estimate))</div><div class=\"label\">\(label)</div>\(detail)</div>\n"
    }

    func tiles() -> String {
        var html = "<section class=\"tiles\">\n"
        let bySeverity = data.alertsBySeverity
        let others = bySeverity.filter { $0.key > 3 }.values.reduce(0, +)
        var parts = (1...3).map { "<span class=\"sev\($0)\" id=\"alerts-sev\($0)\" data-v=\"\(bySeverity[$0] ?? 0)\">severity \($0): \(n(bySeverity[$0] ?? 0))</span>" }
        if others > 0 { parts.append("<span id=\"alerts-sev-other\" data-v=\"\(others)\">lower: \(n(others))</span>") }
        html += tile("alerts", "alerts", data.alerts, detail: "<div class=\"detail\">\(parts.joined(separator: " "))</div>", strong: (bySeverity[1] ?? 0) > 0)
        let flows = data.flowsByVerdict.reduce(0, +)
        var verdicts = ReportData.verdicts.enumerated().map { slot, name in
            "<span class=\"v-\(name)\" id=\"flows-\(name)\" data-v=\"\(data.flowsByVerdict[slot])\">\(name): \(n(data.flowsByVerdict[slot]))</span>"
        }
        if data.otherFlows > 0 {
            verdicts.append("<span id=\"flows-other\" data-v=\"\(data.otherFlows)\">and \(n(data.otherFlows)) flow records without a verdict (not watched)</span>")
        }
        if data.folded > 0 { verdicts.append("<span id=\"flows-folded\" data-v=\"\(data.folded)\">folded into flood records: \(n(data.folded))</span>") }
        html += tile("flows", "watched flows", flows, detail: "<div class=\"detail\">\(verdicts.joined(separator: " "))</div>")
        html += tile("answered", "answered flows: a listener on an abandoned port", data.flowsByVerdict[2], strong: data.flowsByVerdict[2] > 0)
        html += tile("sources", "distinct sources", data.distinctSources.count, estimate: data.distinctSources.isEstimate)
        html += tile("scans", "scan alerts", data.scanAlerts,
                     detail: "<div class=\"detail\"><span id=\"scanners\" data-v=\"\(data.scanners.entries.count)\">from \(n(data.scanners.entries.count)) source\(data.scanners.entries.count == 1 ? "" : "s")\(data.scanners.isExact ? "" : " or more")</span></div>")
        return html + "</section>\n"
    }

    func timeline() -> String {
        guard let (first, last) = span, !data.timeline.isEmpty else { return "" }
        // At most about 120 bars: the narrowest width of the ladder that covers the span so.
        var width = data.timeline.width
        while floorDiv(last, width) - floorDiv(first, width) + 1 > 120 { width = Timeline.next(after: width) }
        let start = floorDiv(first, width) * width
        let count = Int(floorDiv(last, width) - floorDiv(first, width) + 1)
        let bars = data.timeline.rebinned(start: start, width: width, count: count)
        let peak = max(1, bars.map { $0.reduce(0, +) }.max() ?? 1)
        let chartWidth = 960.0, chartHeight = 160.0, left = 48.0, bottom = 22.0
        let step = (chartWidth - left) / Double(count)
        var svg = "<svg class=\"timeline\" viewBox=\"0 0 \(Int(chartWidth)) \(Int(chartHeight + bottom))\" role=\"img\" "
            + "aria-label=\"alerts per \(EVETime.duration(width)), stacked by verdict\">\n"
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(chartHeight)\" x2=\"\(chartWidth)\" y2=\"\(chartHeight)\"/>\n"
        svg += "<text class=\"tick\" x=\"\(left - 6)\" y=\"12\" text-anchor=\"end\">\(n(peak))</text>"
        svg += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(chartHeight)\" text-anchor=\"end\">0</text>\n"
        for (slot, counts) in bars.enumerated() {
            let total = counts.reduce(0, +)
            guard total > 0 else { continue }
            var y = chartHeight
            let x = left + Double(slot) * step
            let tip = "\(time(start + Int64(slot) * width)): " + Serie.allCases.filter { counts[$0.rawValue] > 0 }
                .map { "\(n(counts[$0.rawValue])) \($0.name)" }.joined(separator: ", ")
            svg += "<g><title>\(e(tip))</title>"
            for serie in Serie.allCases where counts[serie.rawValue] > 0 {
                // At least a pixel, so one answered alert among thousands of probes still shows,
                // and never above the chart.
                let height = min(y, max(1, chartHeight * Double(counts[serie.rawValue]) / Double(peak)))
                y -= height
                svg += "<rect class=\"s-\(serie.name)\" x=\"\(Self.fixed(x))\" y=\"\(Self.fixed(y))\" "
                    + "width=\"\(Self.fixed(max(1, step - 1)))\" height=\"\(Self.fixed(height))\"/>"
            }
            svg += "</g>\n"
        }
        for slot in [0, count / 2, count - 1] where count > 1 || slot == 0 {
            let anchor = slot == 0 ? "start" : slot == count - 1 ? "end" : "middle"
            let x = left + Double(slot) * step + (slot == count - 1 ? step : 0)
            svg += "<text class=\"tick\" x=\"\(Self.fixed(x))\" y=\"\(Int(chartHeight + 16))\" text-anchor=\"\(anchor)\">\(time(start + Int64(slot) * width))</text>\n"
        }
        svg += "</svg>\n"
        let seen = Serie.allCases.filter { serie in bars.contains { $0[serie.rawValue] > 0 } }
        let legend = seen.map { "<span><i class=\"s-\($0.name)\"></i>\($0.name)</span>" }.joined(separator: " ")
        return "<section>\n<h2>Alerts over time</h2>\n<p class=\"note\">Alerts per \(EVETime.duration(width)), stacked by verdict; answered (a listener replied) at the bottom, in red.</p>\n"
            + svg + "<p class=\"legend\">\(legend)</p>\n</section>\n"
    }

    /// Two decimals, for SVG coordinates.
    static func fixed(_ value: Double) -> String {
        let hundredths = Int((abs(value) * 100).rounded())
        let fraction = hundredths % 100
        return (value < 0 && hundredths > 0 ? "-" : "") + "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// A row of counts as a tiny bar chart over the report's whole span.
    func sparkline(_ activity: Timeline) -> String {
        guard let (first, last) = span, !activity.isEmpty else { return "" }
        var width = activity.width
        let points = 32
        while floorDiv(last, width) - floorDiv(first, width) + 1 > Int64(points) { width = Timeline.next(after: width) }
        let start = floorDiv(first, width) * width
        let counts = activity.rebinned(start: start, width: width, count: points).map { $0[0] }
        let peak = Double(max(1, counts.max() ?? 1))
        var path = ""
        for (slot, count) in counts.enumerated() where count > 0 {
            let height = max(1, 20 * Double(count) / peak)
            path += "M\(slot * 3) 20v-\(Self.fixed(height))h2v\(Self.fixed(height))z"
        }
        return "<svg class=\"spark\" viewBox=\"0 0 96 20\" aria-hidden=\"true\"><path d=\"\(path)\"/></svg>"
    }

    /// A sortable table: the header's cells, the rows (cells given whole), and what was left out.
    func table(_ id: String, _ title: String, _ note: String, _ headers: [(String, Bool)], _ rows: [String], more: Int) -> String {
        var html = "<section>\n<h2>\(title)</h2>\n"
        if !note.isEmpty { html += "<p class=\"note\">\(note)</p>\n" }
        guard !rows.isEmpty else { return html + "<p class=\"empty\" id=\"\(id)-empty\">None.</p>\n</section>\n" }
        html += "<div class=\"scroll\"><table id=\"\(id)\" class=\"sortable\"><thead><tr>"
        html += headers.map { "<th\($0.1 ? " class=\"num\"" : "")>\($0.0)</th>" }.joined()
        html += "</tr></thead>\n<tbody>\n" + rows.joined(separator: "\n") + "\n</tbody></table></div>\n"
        if more > 0 { html += "<p class=\"more\" id=\"\(id)-more\" data-v=\"\(more)\">and \(n(more)) more</p>\n" }
        return html + "</section>\n"
    }

    func cell(_ value: Int, estimate: Bool = false, _ cls: String = "num") -> String {
        "<td class=\"\(cls)\" data-v=\"\(value)\">\(HTMLText.count(value, estimate: estimate))</td>"
    }

    func cell(_ text: String) -> String { "<td>\(e(text))</td>" }

    func cell(time micros: Int64) -> String {
        "<td class=\"time\" data-v=\"\(micros == .max || micros == .min ? 0 : micros)\">\(time(micros))</td>"
    }

    func portsTable() -> String {
        let rows = data.ports.sorted { a, b in
            let (x, y) = (a.value.flows + a.value.alerts + a.value.folded, b.value.flows + b.value.alerts + b.value.folded)
            return x != y ? x > y : a.key < b.key
        }
        let shown = rows.prefix(top).map { key, row in
            "<tr data-key=\"\(e(key.text))\"><td data-v=\"\(key.port)\">\(e(key.text))</td>" + cell(row.service ?? "–")
                + cell(row.flows) + row.verdicts.enumerated().map { cell($1, $0 == 2 && $1 > 0 ? "num answered" : "num") }.joined()
                + cell(row.folded) + cell(row.alerts) + cell(row.sources.count, estimate: row.sources.isEstimate)
                + cell(time: row.first) + cell(time: row.last) + "<td>\(sparkline(row.activity))</td></tr>"
        }
        return table("ports", "Ports", "Each watched port and protocol: its flows by verdict (flow records), flows folded into flood records, alerts, distinct sources, and when flows began over the span.",
                     [("Port", true), ("Service", false), ("Flows", true), ("Unanswered", true), ("Rejected", true), ("Answered", true),
                      ("Backscatter", true), ("Folded", true), ("Alerts", true), ("Sources", true), ("First", false), ("Last", false), ("Activity", false)],
                     shown, more: rows.count - shown.count)
    }

    func listenersTable() -> String {
        let shown = data.listeners.top(top) { a, b in
            if a.detail.severity != b.detail.severity { return a.detail.severity < b.detail.severity }
            if a.count != b.count { return a.count > b.count }
            return (a.key.address, a.key.port) < (b.key.address, b.key.port)
        }
        .map { entry in
            let key = entry.key, detail = entry.detail
            let address = key.address.contains(":") ? "[\(key.address)]" : key.address
            let text = "\(address):\(key.port)/\(key.proto)"
            let service = detail.service ?? data.services[ReportData.PortKey(port: key.port, proto: key.proto)] ?? "–"
            let evidence = detail.evidence.map { "<code>\(e($0))</code>" + (detail.evidenceFiles > 1 ? " and \(n(detail.evidenceFiles - 1)) more" : "") } ?? "–"
            let severity = detail.severity == .max ? "<td data-v=\"999\">–</td>"
                : "<td class=\"sev\(detail.severity) num\" data-v=\"\(detail.severity)\">\(detail.severity)</td>"
            return "<tr data-key=\"\(e(text))\"><td>\(e(text))</td>" + cell(service) + cell(detail.status ?? "–") + severity
                + cell(entry.count, estimate: entry.error > 0) + cell(detail.alerts) + cell(detail.clients.count, estimate: detail.clients.isEstimate)
                + cell(time: detail.first) + cell(time: detail.last) + "<td>\(evidence)</td></tr>"
        }
        return table("listeners", "Listeners that answered",
                     "Servers that replied on an abandoned port: the most severe first. Answered flows from flow records, answer alerts from alerts; the evidence is the pcap written for the flow.",
                     [("Listener", false), ("Service", false), ("Baseline", false), ("Severity", true), ("Answered flows", true),
                      ("Answer alerts", true), ("Clients", true), ("First", false), ("Last", false), ("Evidence", false)],
                     shown, more: data.listeners.entries.count - shown.count)
    }

    func sourcesTable() -> String {
        let shown = data.sources.top(top) { a, b in
            a.count != b.count ? a.count > b.count : a.key < b.key
        }
        .map { entry in
            let detail = entry.detail
            let ports = detail.ports.sorted { (Int($0.prefix { $0 != "/" }) ?? 0, $0) < (Int($1.prefix { $0 != "/" }) ?? 0, $1) }
            var portText = ports.prefix(12).map(e).joined(separator: " ")
            if ports.count > 12 || detail.portsBeyond { portText += " …" }
            return "<tr data-key=\"\(e(entry.key))\"><td>\(e(entry.key))</td>" + cell(entry.count, estimate: entry.error > 0)
                + cell(detail.flows) + cell(detail.alerts) + cell(detail.answered, detail.answered > 0 ? "num answered" : "num")
                + "<td class=\"num\" data-v=\"\(detail.ports.count)\">\(n(detail.ports.count))\(detail.portsBeyond ? "+" : "")</td>"
                + "<td class=\"ports\">\(portText)</td>" + cell(detail.scanKind ?? "–") + cell(detail.tool ?? "–")
                + cell(time: detail.first) + cell(time: detail.last) + "</tr>"
        }
        let distinct = data.distinctSources.count
        return table("sources", "Sources", "Who touched the watched ports: records are the flows and alerts of each source (the client side). The scan kind and tool are the sensor's fingerprint of its probes.",
                     [("Source", false), ("Records", true), ("Flows", true), ("Alerts", true), ("Answered", true), ("Ports", true),
                      ("Ports touched", false), ("Scan kind", false), ("Tool", false), ("First", false), ("Last", false)],
                     shown, more: max(0, distinct - shown.count))
    }

    func scansTable() -> String {
        let shown = data.scanners.top(top) { a, b in
            a.detail.ports.count != b.detail.ports.count ? a.detail.ports.count > b.detail.ports.count : a.key < b.key
        }
        .map { entry in
            let detail = entry.detail
            return "<tr data-key=\"\(e(entry.key))\"><td>\(e(entry.key))</td>" + cell(detail.alerts) + cell(detail.ports.count) + cell(detail.hosts.count)
                + cell(detail.kind ?? "–") + cell(detail.tool ?? "–") + cell(time: detail.first) + cell(time: detail.last) + "</tr>"
        }
        return table("scans", "Scans", "Scan alerts by source: the watched ports and hosts they named (all windows together).",
                     [("Scanner", false), ("Scan alerts", true), ("Ports", true), ("Hosts", true), ("Kind", false), ("Tool", false),
                      ("First seen", false), ("Last", false)],
                     shown, more: data.scanners.entries.count - shown.count)
    }

    func floodsTable() -> String {
        guard !data.floods.isEmpty else { return "" }
        let rows = data.floods.sorted { a, b in a.value.flows != b.value.flows ? a.value.flows > b.value.flows : (a.key.port, a.key.kind) < (b.key.port, b.key.kind) }
        let shown = rows.prefix(top).map { key, detail in
            "<tr data-key=\"\(e("\(key.kind) \(key.port)/\(key.proto)"))\">" + cell(key.kind) + "<td data-v=\"\(key.port)\">\(key.port)/\(e(key.proto))</td>"
                + cell(detail.service ?? "–") + cell(detail.records) + cell(detail.flows) + cell(detail.packets) + cell(detail.sources)
                + cell(detail.topSource.map { "\($0) (\(n(detail.topSourceFlows)) flows)" } ?? "–")
                + cell(time: detail.first) + cell(time: detail.last) + "</tr>"
        }
        return table("floods", "Floods", "Flows that carried nothing and alerted nothing, folded into flood records once a port's budget was spent.",
                     [("Kind", false), ("Port", true), ("Service", false), ("Records", true), ("Flows", true), ("Packets", true),
                      ("Sources (max)", true), ("Top source", false), ("First", false), ("Last", false)],
                     shown, more: rows.count - shown.count + data.floodsUntracked)
    }

    func health() -> String {
        var html = "<section>\n<h2>Decoding and the sensor</h2>\n"
        if data.anomalies.isEmpty {
            html += "<p id=\"anomalies-empty\">No anomaly records (the sensor writes them with --anomalies).</p>\n"
        } else {
            let rows = data.anomalies.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            html += "<table id=\"anomalies\" class=\"sortable\"><thead><tr><th>Decode event</th><th class=\"num\">Records</th></tr></thead><tbody>\n"
            html += rows.prefix(top).map { "<tr data-key=\"\(e($0.key))\"><td><code>\(e($0.key))</code></td>" + cell($0.value) + "</tr>" }.joined(separator: "\n")
            html += "\n</tbody></table>\n"
            if rows.count > top { html += "<p class=\"more\">and \(n(rows.count - top)) more</p>\n" }
        }
        if let c = data.counters {
            let figures: [(String, String, Int)] = [
                ("packets", "packets decoded", c.packets), ("bytes", "bytes decoded", c.bytes), ("flows", "flows tracked", c.flows),
                ("kernel_packets", "packets the kernel delivered (live)", c.kernelPackets),
                ("kernel_drops", "dropped by the kernel", c.kernelDrops), ("kernel_ifdrops", "dropped by the interface", c.interfaceDrops),
                ("ring_drops", "dropped at the ring (the detection thread fell behind)", c.ringDrops),
                ("records_lost", "EVE records lost to write errors", c.recordsLost),
                ("alerts_shed", "alerts shed by the alert limits", c.alertsShed),
                ("alerts_suppressed", "alerts suppressed by thresholds", c.alertsSuppressed),
                ("evidence_errors", "evidence packets not written", c.evidenceErrors),
                ("syslog_dropped", "syslog messages dropped", c.syslogDropped),
            ]
            // A read has no kernel: its rows only when a live sensor wrote them.
            let live = c.kernelPackets + c.kernelDrops + c.interfaceDrops > 0
            let shown = figures.filter { live || !$0.0.hasPrefix("kernel") }
            html += "<table id=\"counters\"><thead><tr><th>Sensor counter (stats records)</th><th class=\"num\">Value</th></tr></thead><tbody>\n"
            html += shown.map { "<tr data-key=\"\($0.0)\"><td>\($0.1)</td>" + cell($0.2, $0.2 > 0 && $0.0.contains("drop") ? "num bad" : "num") + "</tr>" }
                .joined(separator: "\n")
            html += "\n</tbody></table>\n"
        } else {
            html += "<p id=\"counters-empty\">No stats record: the sensor's packet and drop counters are unknown for this span.</p>\n"
        }
        let kinds = data.recordsByKind.sorted { $0.key < $1.key }.map { "\(e($0.key)) \(n($0.value))" }.joined(separator: ", ")
        html += "<p class=\"note\" id=\"records\">Records read: \(kinds.isEmpty ? "none" : kinds).</p>\n"
        return html + "</section>\n"
    }
}
