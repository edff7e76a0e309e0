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

        func of(_ type: String) -> [[String: Any]] { records.filter { $0["event_type"] as? String == type } }
        var flows: [[String: Any]] { of("flow") }
        var aggregates: [[String: Any]] { of("flood") }
        func floodAlerts(_ kind: String) -> [[String: Any]] {
            of("alert").filter { ($0["ghostport"] as? [String: Any])?["kind"] as? String == "flood"
                && $0[path: "ghostport", "flood", "kind"] as? String == kind }
        }
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
        return (truth, Output(records: records), dir)
    }

    private static func verdict(_ flow: [String: Any]) -> String? { flow[path: "ghostport", "verdict"] as? String }

    @Test("every flow the flood sent is in an aggregate or a flow record, once; the needles keep theirs; the stats count it all")
    func floodAddsUp() throws {
        let (truth, out, _) = try read(FloodScenario())
        let problems = FloodCheck.differences(truth, records: out.records, budget: .init(perPort: 200, alertsPerSid: 100))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(out.flows.count < (truth.flood.flows + truth.backscatter.flows) / 5)
    }

    @Test("a flood begins and ends once per port and kind, the end at shutdown; backscatter is named as such")
    func floodAlerts() throws {
        let (_, out, _) = try read(FloodScenario())
        let ended = out.floodAlerts("flood").filter { $0[path: "ghostport", "flood", "state"] as? String == "ended" }
        #expect(ended.count == 1 && ended.first?[path: "ghostport", "flood", "ended_by"] as? String == "shutdown")
        let backscatter = out.floodAlerts("backscatter")
        #expect(backscatter.count == 2 && backscatter.allSatisfy { $0[path: "alert", "signature_id"] as? Int == 8_999_003 })
        #expect(backscatter.allSatisfy { $0["dest_ip"] as? String == "198.51.100.7" && $0[path: "ghostport", "flood", "port"] as? Int == 571 })
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
