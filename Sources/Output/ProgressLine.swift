/// The line `read`'s progress bar redraws in place on a terminal: how far through the files,
/// packets and bytes read, rates, alerts so far and, when the total is known (files, not a
/// pipe), the time left at the rate so far.
///
///     [############..................]  40%  120.0/300.0 MiB  1843200 pkts  921.6k pkt/s  60.0 MiB/s  12 alerts  ETA 0:03
///     1843200 pkts  120.0 MiB  921.6k pkt/s  60.0 MiB/s  12 alerts
public enum ProgressLine {
    public static func render(bytesRead: Int64, bytesTotal: Int64?, packets: UInt64, alerts: UInt64,
                              seconds: Double) -> String {
        var parts: [String] = []
        let mib = Double(bytesRead) / 1_048_576
        if let total = bytesTotal, total > 0 {
            let fraction = min(1, max(0, Double(bytesRead) / Double(total)))
            let width = 30
            let filled = Int(fraction * Double(width))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            let percent = String(Int(fraction * 100))
            parts.append(String(repeating: " ", count: 3 - percent.count) + percent + "%")
            parts.append("\(oneDecimal(mib))/\(oneDecimal(Double(total) / 1_048_576)) MiB")
            parts.append("\(packets) pkts")
        } else {
            parts.append("\(packets) pkts")
            parts.append("\(oneDecimal(mib)) MiB")
        }
        if seconds > 0 {
            parts.append("\(rate(Double(packets) / seconds)) pkt/s")
            parts.append("\(oneDecimal(mib / seconds)) MiB/s")
        }
        parts.append("\(alerts) alert\(alerts == 1 ? "" : "s")")
        if let total = bytesTotal, total > 0, seconds > 0, bytesRead > 0 {
            let left = Double(max(0, total - bytesRead)) / (Double(bytesRead) / seconds)
            parts.append("ETA \(clock(left))")
        }
        return parts.joined(separator: "  ")
    }

    /// 0.0, 12.5, 1234.0: one decimal, rounded.
    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// 950, 12.3k, 4.5M.
    static func rate(_ value: Double) -> String {
        if value >= 1_000_000 { return oneDecimal(value / 1_000_000) + "M" }
        if value >= 1_000 { return oneDecimal(value / 1_000) + "k" }
        return String(Int(value.rounded()))
    }

    /// m:ss, or h:mm:ss from an hour on.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 360_000 else { return "--:--" }
        let total = Int(seconds.rounded(.up))
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        let ss = secs < 10 ? "0\(secs)" : "\(secs)"
        if hours > 0 { return "\(hours):\(minutes < 10 ? "0" : "")\(minutes):\(ss)" }
        return "\(minutes):\(ss)"
    }
}
