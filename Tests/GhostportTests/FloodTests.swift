import Foundation
import Testing
import TestSupport

/// A flood on 571/tcp with needles in it, read with `read` and the budgets a live sensor has:
/// the output is bounded, the aggregates add up to what the generator sent (its own truth,
/// not ghostport's), and every needle keeps its record.
@Suite("floods: summarised, bounded, the needles kept")
struct FloodTests {
    static let limits = ["--alert-limit-per-sid", "100", "--alert-limit-per-source", "100",
                         "--flood-per-port", "200", "--flood-sensor-wide", "2000"]

    struct Output {
        var records: [[String: Any]]
        var raw: String

        func of(_ type: String) -> [[String: Any]] { records.filter { $0["event_type"] as? String == type } }
        var flows: [[String: Any]] { of("flow") }
        var aggregates: [[String: Any]] { of("flood") }
        func floodAlerts(_ kind: String) -> [[String: Any]] {
            of("alert").filter { ($0["ghostport"] as? [String: Any])?["kind"] as? String == "flood"
                && $0[path: "ghostport", "flood", "kind"] as? String == kind }
        }
        func alerts(sid: Int) -> [[String: Any]] { of("alert").filter { $0[path: "alert", "signature_id"] as? Int == sid } }
    }

    private func read(_ truthScenario: FloodScenario, extra: [String] = []) throws -> (FloodScenario.Truth, Output, TempDirectory) {
        let dir = try TempDirectory()
        let truth = try truthScenario.write(to: dir.path, name: "flood")
        let result = try Tool.ghostport(["read", "--quiet", "--output", dir.file("eve.jsonl")] + Self.limits + extra
                                        + [dir.file("flood.pcap")])
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: dir.file("eve.jsonl"), encoding: .utf8)
        let records = try text.split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        return (truth, Output(records: records, raw: text), dir)
    }

    private static func int(_ value: Any?) -> Int { value as? Int ?? 0 }

    private static func verdict(_ flow: [String: Any]) -> String? { flow[path: "ghostport", "verdict"] as? String }

    private static func packets(_ flow: [String: Any]) -> Int {
        int(flow[path: "flow", "pkts_toserver"]) + int(flow[path: "flow", "pkts_toclient"])
    }

    private static func bytes(_ flow: [String: Any]) -> Int {
        int(flow[path: "flow", "bytes_toserver"]) + int(flow[path: "flow", "bytes_toclient"])
    }

    @Test("every flow the flood sent is in an aggregate or a flow record, once; the needles keep theirs")
    func floodAddsUp() throws {
        let (truth, out, _) = try read(FloodScenario())
        // The flood: folded flows plus the flow records of its kind are exactly what was sent.
        let floodRecords = out.flows.filter { Self.verdict($0) == "unanswered" && $0["dest_port"] as? Int == 571 }
        let floodAggregates = out.aggregates.filter { $0[path: "ghostport", "flood", "kind"] as? String == "flood" }
        #expect(!floodAggregates.isEmpty)
        let folded = floodAggregates.reduce(0) { $0 + Self.int($1[path: "ghostport", "flood", "flows"]) }
        #expect(folded + floodRecords.count == truth.flood.flows)
        #expect(floodAggregates.reduce(0) { $0 + Self.int($1[path: "ghostport", "flood", "packets"]) }
                + floodRecords.reduce(0) { $0 + Self.packets($1) } == truth.flood.packets)
        #expect(floodAggregates.reduce(0) { $0 + Self.int($1[path: "ghostport", "flood", "bytes"]) }
                + floodRecords.reduce(0) { $0 + Self.bytes($1) } == truth.flood.bytes)
        #expect(floodAggregates.allSatisfy { $0[path: "ghostport", "flood", "tcp_flags", "syn"] as? Int
            == Self.int($0[path: "ghostport", "flood", "flows"]) })

        // Backscatter: the same, and none of it called answered.
        let backscatterRecords = out.flows.filter { Self.verdict($0) == "backscatter" }
        let backscatterAggregates = out.aggregates.filter { $0[path: "ghostport", "flood", "kind"] as? String == "backscatter" }
        #expect(backscatterAggregates.reduce(0) { $0 + Self.int($1[path: "ghostport", "flood", "flows"]) }
                + backscatterRecords.count == truth.backscatter.flows)
        #expect(backscatterAggregates.reduce(0) { $0 + Self.int($1[path: "ghostport", "flood", "packets"]) }
                + backscatterRecords.reduce(0) { $0 + Self.packets($1) } == truth.backscatter.packets)

        // The needles: exactly the answered and rejected sessions, each with its record; each
        // answered one with its answer's alert.
        func needles(_ verdict: String) -> Set<FloodScenario.Truth.Needle> {
            Set(out.flows.filter { Self.verdict($0) == verdict }.map {
                FloodScenario.Truth.Needle(client: $0["src_ip"] as? String ?? "", clientPort: UInt16(Self.int($0["src_port"])),
                                           server: $0["dest_ip"] as? String ?? "")
            })
        }
        #expect(needles("answered") == Set(truth.answered))
        #expect(needles("rejected") == Set(truth.rejected))
        #expect(Set(out.alerts(sid: 9_005_711).compactMap { $0["src_ip"] as? String }) == Set(truth.answered.map(\.server)))
        #expect(out.alerts(sid: 9_005_711).count == truth.answered.count)
        // The scanner is one scan alert.
        let scans = out.alerts(sid: 8_999_001)
        #expect(scans.count == 1 && scans.first?[path: "ghostport", "scan", "source"] as? String == truth.scanner)

        // Bounded: the flow records of 571/tcp stay within the budget, the alerts the limits let
        // through, and the needles.
        let records571 = out.flows.filter { $0["dest_port"] as? Int == 571 }
        #expect(records571.count <= 200 + 2 * 100 + truth.answered.count + truth.rejected.count)
        #expect(out.flows.count < (truth.flood.flows + truth.backscatter.flows) / 5)
    }

    @Test("a flood begins and ends once per port and kind, with its figures; the stats count every folded flow")
    func floodAlertsAndStats() throws {
        let (truth, out, _) = try read(FloodScenario())
        let began = out.floodAlerts("flood").filter { $0[path: "ghostport", "flood", "state"] as? String == "began" }
        let ended = out.floodAlerts("flood").filter { $0[path: "ghostport", "flood", "state"] as? String == "ended" }
        try #require(began.count == 1 && ended.count == 1)
        #expect(began[0][path: "alert", "signature_id"] as? Int == 8_999_002 && began[0]["dest_port"] as? Int == 571)
        #expect(ended[0][path: "ghostport", "flood", "ended_by"] as? String == "shutdown")
        let folded = out.aggregates.filter { $0[path: "ghostport", "flood", "kind"] as? String == "flood" }
            .reduce(0) { $0 + Self.int($1[path: "ghostport", "flood", "flows"]) }
        #expect(Self.int(ended[0][path: "ghostport", "flood", "flows"]) == folded)

        // Distinct sources of the folded flows, from the truth: every source but the heavy one
        // sent one flow, so the folded flows' sources are those whose flow kept no record.
        let kept = out.flows.filter { Self.verdict($0) == "unanswered" && $0["dest_port"] as? Int == 571 }
        let keptHeavy = kept.filter { $0["src_ip"] as? String == truth.heavySource }.count
        let heavyFolded = truth.heavyFlows - keptHeavy
        let expectedSources = (truth.flood.sources - 1) - (kept.count - keptHeavy) + (heavyFolded > 0 ? 1 : 0)
        let estimate = Self.int(ended[0][path: "ghostport", "flood", "sources"])
        let error = try #require(ended[0][path: "ghostport", "flood", "standard_error"] as? Double)
        #expect(abs(Double(estimate - expectedSources)) <= 3 * error * Double(expectedSources) + 1,
                "estimated \(estimate) distinct sources, \(expectedSources) sent")
        #expect(Self.int(ended[0][path: "ghostport", "flood", "destinations"]) == truth.flood.destinations)
        // The heavy source is the only one named (the others sent one flow each), with no more
        // flows than it sent.
        let top = try #require(ended[0][path: "ghostport", "flood", "top_sources"] as? [[String: Any]])
        #expect(top.count == 1 && top.first?["ip"] as? String == truth.heavySource)
        #expect((heavyFolded / 2...heavyFolded).contains(Self.int(top.first?["flows"])))

        let backscatter = out.floodAlerts("backscatter")
        #expect(backscatter.count == 2 && backscatter.allSatisfy { $0[path: "alert", "signature_id"] as? Int == 8_999_003 })
        #expect(backscatter.allSatisfy { $0["dest_ip"] as? String == "198.51.100.7" && $0[path: "ghostport", "flood", "port"] as? Int == 571 })

        let stats = try #require(out.of("stats").last)
        let backscatterFolded = out.aggregates.filter { $0[path: "ghostport", "flood", "kind"] as? String == "backscatter" }
            .reduce(0) { $0 + Self.int($1[path: "ghostport", "flood", "flows"]) }
        #expect(Self.int(stats[path: "ghostport", "stats", "detect", "folded", "flood"]) == folded)
        #expect(Self.int(stats[path: "ghostport", "stats", "detect", "folded", "backscatter"]) == backscatterFolded)
        #expect(Self.int(stats[path: "ghostport", "stats", "detect", "flood_records"]) == out.aggregates.count)
        #expect(Self.int(stats[path: "ghostport", "stats", "detect", "verdicts", "backscatter"]) == truth.backscatter.flows)
        #expect(Self.int(stats[path: "ghostport", "stats", "detect", "verdicts", "answered"]) == truth.answered.count)
    }

    @Test("with no budget every flow keeps its record, as before")
    func noBudget() throws {
        let (truth, out, _) = try read(FloodScenario(), extra: ["--flood-per-port", "0", "--flood-sensor-wide", "0"])
        #expect(out.aggregates.isEmpty && out.floodAlerts("flood").isEmpty)
        #expect(out.flows.filter { Self.verdict($0) == "unanswered" && $0["dest_port"] as? Int == 571 }.count == truth.flood.flows)
    }

    @Test("flood records and alerts validate against the schema", Prerequisite.trait(SchemaTests.jsonschemaUnmet))
    func schema() throws {
        try Prerequisite.require(SchemaTests.jsonschemaUnmet)
        let (_, _, dir) = try read(FloodScenario())
        let result = try GoldenRun.run(Prerequisite.python, [SchemaTests.validator, "--require", "alert/flood,flood,flow,stats",
                                                             dir.file("eve.jsonl")], in: dir.path, environment: [:])
        #expect(result.status == 0, "schema violations:\n\(result.stdout)\(result.stderr)")
    }
}

extension Dictionary where Key == String, Value == Any {
    /// A nested value by path, e.g. `self[path: "flow", "pkts_toserver"]`.
    fileprivate subscript(path keys: String...) -> Any? {
        var current: Any? = self
        for key in keys { current = (current as? [String: Any])?[key] }
        return current
    }
}
