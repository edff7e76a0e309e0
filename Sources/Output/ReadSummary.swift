import Detect
import Wire

/// The table `read` prints at the end: alerts by port and verdict, top sources.
public struct ReadSummary {
    public let stats: EngineStats
    public let topClients: [(address: IPAddress, flows: UInt64)]
    public let packets: UInt64

    public init(stats: SensorStats, topClients: [(address: IPAddress, flows: UInt64)], packets: UInt64) {
        self.stats = stats.engine
        self.topClients = topClients
        self.packets = packets
    }

    public var text: String {
        var lines: [String] = []
        lines.append("read \(packets) packets, \(stats.bytes) bytes; \(stats.flowsSeen) flows, \(stats.watchedFlows) to watched ports; \(stats.alerts) alerts")
        let shed = stats.alertsShedBySource + stats.alertsShedBySid
        if shed > 0 {
            lines.append("alert limit: \(shed) alerts shed (\(stats.alertsShedBySource) over the per-source limit, \(stats.alertsShedBySid) over the per-sid limit)")
        }
        let folded = stats.folded.reduce(0, +)
        if folded > 0 {
            lines.append("floods: \(folded) flows that carried nothing folded into \(stats.floodRecords) aggregate records "
                         + "(\(stats.folded[Int(FloodKind.flood.rawValue)]) flood, \(stats.folded[Int(FloodKind.backscatter.rawValue)]) backscatter)")
        }
        if !stats.byPort.isEmpty {
            lines.append("")
            let backscatter = stats.verdicts[Int(Verdict.backscatter.rawValue)] > 0
            lines.append(pad("port", 12) + pad("flows", 10) + pad("unanswered", 12) + pad("rejected", 10)
                         + (backscatter ? pad("answered", 10) + "backscatter" : "answered"))
            let rows = stats.byPort.sorted { $0.value.reduce(0, +) > $1.value.reduce(0, +) || ($0.value.reduce(0, +) == $1.value.reduce(0, +) && $0.key < $1.key) }
            for (port, counts) in rows.prefix(25) {
                lines.append(pad(port, 12) + pad(String(counts.reduce(0, +)), 10) + pad(String(counts[1]), 12)
                             + pad(String(counts[2]), 10) + (backscatter ? pad(String(counts[3]), 10) + String(counts[4]) : String(counts[3])))
            }
            if rows.count > 25 { lines.append("... \(rows.count - 25) more ports") }
        }
        if !topClients.isEmpty {
            lines.append("")
            lines.append("top sources (flows to watched ports):")
            for (source, count) in topClients {
                lines.append("  " + pad(source.description, 40) + String(count))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
