import Foundation

/// Compares a sensor's EVE records of a `FloodScenario` with the scenario's truth, reading the
/// JSON lines only (no code of the sensor's decides what counts as right). Used by the offline
/// flood tests (`read`) and the live one (`run` on a veth pair, reloaded during the flood).
public enum FloodCheck {
    /// The budgets the sensor ran with, which bound its flow records of the flooded port.
    public struct Budget {
        public var perPort: Int
        public var alertsPerSid: Int
        public init(perPort: Int, alertsPerSid: Int) {
            self.perPort = perPort
            self.alertsPerSid = alertsPerSid
        }
    }

    /// The differences between `truth` and `records` (empty when they agree):
    /// - every flood and backscatter flow sent is in an aggregate or a flow record of its own,
    ///   once: flows, packets and bytes add up exactly; every folded flood flow was a SYN;
    /// - the needles: exactly the answered and rejected sessions have records with those
    ///   verdicts, each answered one its answer's alert; the scanner is one scan alert;
    /// - a flood begins and ends as often on 571/tcp, the ends' flows add up to the folded ones,
    ///   and the stats count every folded flow; with one flood (one episode, as in one window)
    ///   its distinct sources and destinations are within three standard errors (and one) of the
    ///   truth's and the heavy source is the one it names;
    /// - the flow records of 571/tcp stay within the budget, the alerts it let through and the needles.
    public static func differences(_ truth: FloodScenario.Truth, records: [[String: Any]], budget: Budget) -> [String] {
        var problems: [String] = []
        func expect(_ condition: Bool, _ message: @autoclosure () -> String) { if !condition { problems.append(message()) } }
        func of(_ type: String) -> [[String: Any]] { records.filter { $0["event_type"] as? String == type } }
        let flows = of("flow"), aggregates = of("flood"), alerts = of("alert")
        func folds(_ kind: String) -> [[String: Any]] { aggregates.filter { $0[path: ["ghostport", "flood", "kind"]] as? String == kind } }
        func sum(_ rows: [[String: Any]], _ keys: String...) -> Int { rows.reduce(0) { $0 + int($1[path: keys]) } }
        func verdict(_ flow: [String: Any]) -> String? { flow[path: ["ghostport", "verdict"]] as? String }
        func packets(_ flows: [[String: Any]]) -> Int { sum(flows, "flow", "pkts_toserver") + sum(flows, "flow", "pkts_toclient") }
        func bytes(_ flows: [[String: Any]]) -> Int { sum(flows, "flow", "bytes_toserver") + sum(flows, "flow", "bytes_toclient") }

        // The flood: folded flows plus the flow records of its kind are exactly what was sent.
        let floodRecords = flows.filter { verdict($0) == "unanswered" && $0["dest_port"] as? Int == 571 }
        let flood = folds("flood")
        let folded = sum(flood, "ghostport", "flood", "flows")
        expect(!flood.isEmpty, "no flood aggregate")
        expect(folded + floodRecords.count == truth.flood.flows,
               "flood flows: \(folded) folded + \(floodRecords.count) records, \(truth.flood.flows) sent")
        expect(sum(flood, "ghostport", "flood", "packets") + packets(floodRecords) == truth.flood.packets,
               "flood packets: \(sum(flood, "ghostport", "flood", "packets")) folded + \(packets(floodRecords)) in records, \(truth.flood.packets) sent")
        expect(sum(flood, "ghostport", "flood", "bytes") + bytes(floodRecords) == truth.flood.bytes,
               "flood bytes: \(sum(flood, "ghostport", "flood", "bytes")) folded + \(bytes(floodRecords)) in records, \(truth.flood.bytes) sent")
        for aggregate in flood where int(aggregate[path: ["ghostport", "flood", "tcp_flags", "syn"]]) != int(aggregate[path: ["ghostport", "flood", "flows"]]) {
            problems.append("a flood aggregate whose flows were not all SYNs: \(aggregate[path: ["ghostport", "flood"]] ?? "")")
        }

        // Backscatter: the same, and none of it called answered.
        let backscatterRecords = flows.filter { verdict($0) == "backscatter" }
        let backscatter = folds("backscatter")
        let backscatterFolded = sum(backscatter, "ghostport", "flood", "flows")
        expect(backscatterFolded + backscatterRecords.count == truth.backscatter.flows,
               "backscatter flows: \(backscatterFolded) folded + \(backscatterRecords.count) records, \(truth.backscatter.flows) sent")
        expect(sum(backscatter, "ghostport", "flood", "packets") + packets(backscatterRecords) == truth.backscatter.packets,
               "backscatter packets: \(sum(backscatter, "ghostport", "flood", "packets")) folded + \(packets(backscatterRecords)) in records, \(truth.backscatter.packets) sent")

        // The needles, each with its record; each answered one with its answer's alert.
        func needles(_ name: String) -> [FloodScenario.Truth.Needle] {
            flows.filter { verdict($0) == name }.map {
                FloodScenario.Truth.Needle(client: $0["src_ip"] as? String ?? "", clientPort: UInt16(truncatingIfNeeded: int($0["src_port"])),
                                           server: $0["dest_ip"] as? String ?? "")
            }
        }
        for (name, want) in [("answered", truth.answered), ("rejected", truth.rejected)] {
            let got = needles(name)
            expect(got.count == want.count && Set(got) == Set(want), "\(name): \(got.count) records, \(want.count) sent; "
                   + "missing \(Set(want).subtracting(got).map(\.client).sorted()), extra \(Set(got).subtracting(want).map(\.client).sorted())")
        }
        let answerAlerts = alerts.filter { $0[path: ["alert", "signature_id"]] as? Int == 9_005_711 }
        expect(answerAlerts.count == truth.answered.count
               && Set(answerAlerts.compactMap { $0["src_ip"] as? String }) == Set(truth.answered.map(\.server)),
               "\(answerAlerts.count) answer alerts (sid 9005711) for \(truth.answered.count) answered sessions")
        let scans = alerts.filter { $0[path: ["alert", "signature_id"]] as? Int == 8_999_001 }
        expect(scans.count == 1 && scans.first?[path: ["ghostport", "scan", "source"]] as? String == truth.scanner,
               "scan alerts: \(scans.compactMap { $0[path: ["ghostport", "scan", "source"]] as? String }), one of \(truth.scanner) expected")

        // A flood begins and ends as often; the ends add up to the folded flows.
        let floodAlerts = alerts.filter { $0[path: ["ghostport", "kind"]] as? String == "flood" && $0[path: ["ghostport", "flood", "kind"]] as? String == "flood" }
        let began = floodAlerts.filter { $0[path: ["ghostport", "flood", "state"]] as? String == "began" }
        let ended = floodAlerts.filter { $0[path: ["ghostport", "flood", "state"]] as? String == "ended" }
        expect(!began.isEmpty && began.count == ended.count, "flood alerts: \(began.count) began, \(ended.count) ended")
        expect(began.allSatisfy { $0[path: ["alert", "signature_id"]] as? Int == 8_999_002 && $0["dest_port"] as? Int == 571 },
               "a flood's alert without sid 8999002 or port 571")
        expect(sum(ended, "ghostport", "flood", "flows") == folded,
               "the floods' ends count \(sum(ended, "ghostport", "flood", "flows")) flows, the aggregates \(folded)")
        if began.count == 1, ended.count == 1 {
            // Every source but the heavy one sent one flow, so the folded flows' sources are those
            // whose flow kept no record.
            let keptHeavy = floodRecords.filter { $0["src_ip"] as? String == truth.heavySource }.count
            let heavyFolded = truth.heavyFlows - keptHeavy
            let expectedSources = (truth.flood.sources - 1) - (floodRecords.count - keptHeavy) + (heavyFolded > 0 ? 1 : 0)
            let estimate = int(ended[0][path: ["ghostport", "flood", "sources"]])
            let error = ended[0][path: ["ghostport", "flood", "standard_error"]] as? Double ?? 0
            expect(error > 0 && abs(Double(estimate - expectedSources)) <= 3 * error * Double(expectedSources) + 1,
                   "estimated \(estimate) distinct sources (standard error \(error)), \(expectedSources) sent")
            // Destinations are estimated too (50 values in 4,096 registers collide about one time in four).
            let destinations = int(ended[0][path: ["ghostport", "flood", "destinations"]])
            expect(abs(Double(destinations - truth.flood.destinations)) <= 3 * error * Double(truth.flood.destinations) + 1,
                   "estimated \(destinations) destinations, \(truth.flood.destinations) sent")
            let top = ended[0][path: ["ghostport", "flood", "top_sources"]] as? [[String: Any]] ?? []
            expect(top.count == 1 && top.first?["ip"] as? String == truth.heavySource
                   && (heavyFolded / 2...max(heavyFolded / 2, heavyFolded)).contains(int(top.first?["flows"])),
                   "top sources \(top), \(truth.heavySource) with \(heavyFolded) folded flows expected")
        }

        // The stats count every folded flow.
        if let stats = of("stats").last {
            let detect = ["ghostport", "stats", "detect"]
            expect(int(stats[path: detect + ["folded", "flood"]]) == folded, "stats: \(int(stats[path: detect + ["folded", "flood"]])) flood flows folded, the aggregates \(folded)")
            expect(int(stats[path: detect + ["folded", "backscatter"]]) == backscatterFolded, "stats: backscatter folded \(int(stats[path: detect + ["folded", "backscatter"]])), the aggregates \(backscatterFolded)")
            expect(int(stats[path: detect + ["flood_records"]]) == aggregates.count, "stats: \(int(stats[path: detect + ["flood_records"]])) flood records, \(aggregates.count) written")
            expect(int(stats[path: detect + ["verdicts", "backscatter"]]) == truth.backscatter.flows, "stats: backscatter verdicts \(int(stats[path: detect + ["verdicts", "backscatter"]])), \(truth.backscatter.flows) sent")
            expect(int(stats[path: detect + ["verdicts", "answered"]]) == truth.answered.count, "stats: answered verdicts \(int(stats[path: detect + ["verdicts", "answered"]])), \(truth.answered.count) sent")
        } else {
            problems.append("no stats record")
        }

        // Bounded: the flow records of 571/tcp.
        let records571 = flows.filter { $0["dest_port"] as? Int == 571 }.count
        let bound = budget.perPort + 2 * budget.alertsPerSid + truth.answered.count + truth.rejected.count
        expect(records571 <= bound, "\(records571) flow records of 571/tcp, more than the budget's \(bound)")
        return problems
    }

    private static func int(_ value: Any?) -> Int { value as? Int ?? 0 }
}

extension Dictionary where Key == String, Value == Any {
    /// A nested value by path, e.g. `self[path: ["flow", "pkts_toserver"]]`.
    public subscript(path keys: [String]) -> Any? {
        var current: Any? = self
        for key in keys { current = (current as? [String: Any])?[key] }
        return current
    }
}
