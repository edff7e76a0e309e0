import Foundation
import Testing
import TestSupport

/// Every record `ghostport read` writes validates against ghostport's schema
/// (Tests/schema/eve.schema.json, JSON Schema 2020-12: the whole record, its `ghostport` object
/// strictly) and, with its `ghostport` object removed, against Suricata's own EVE schema (the
/// shared corpus's copy of its etc/schema.json, when it is beside the repository), checked by
/// Tests/schema/validate.py with Debian's python3-jsonschema.
@Suite(.serialized) struct SchemaTests {
    static let validator = Repository.root + "/Tests/schema/validate.py"
    static let jsonschemaUnmet = Prerequisite.pythonModule("jsonschema", install: "apt-get install -y python3-jsonschema")
    /// Suricata's EVE schema: outside the repository, so checked where it is there (CI has it).
    static let suricataSchema: String? = {
        let path = URL(fileURLWithPath: Repository.root).deletingLastPathComponent()
            .appendingPathComponent("shared/corpus/expected/suricata-eve/schema.json").standardizedFileURL.path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    /// Runs `script` (validate.py by default) with Suricata's schema when it is here, on `files`.
    private func validate(_ files: [String], require kinds: [String] = [], script: String = SchemaTests.validator)
        throws -> ProcessOutput {
        var arguments = [script]
        if let suricata = Self.suricataSchema { arguments += ["--suricata", suricata] }
        if !kinds.isEmpty { arguments += ["--require", kinds.joined(separator: ",")] }
        let result = try GoldenRun.run(Prerequisite.python, arguments + files, in: NSTemporaryDirectory(), environment: [:])
        if Self.suricataSchema != nil {
            #expect(result.stdout.contains("Suricata's schema") || script != Self.validator, "Suricata's schema was not checked")
        }
        return result
    }

    /// The golden cases' records, read afresh and as expected.
    private func goldenOutputs(in dir: TempDirectory) throws -> [String] {
        var files: [String] = []
        for name in GoldenTests.folders {
            let build = try #require(GoldenCaptures.all[name])
            let folder = GoldenTests.directory + "/" + name
            let output = try GoldenRun.read(capture: build(), rules: folder + "/test.rules",
                                            extraArguments: GoldenRun.arguments(in: folder))
            #expect(output.status == 0)
            files.append(try dir.write(name + ".jsonl", Array(output.eve.utf8)))
            files.append(folder + "/expected.jsonl")
        }
        return files
    }

    /// The golden captures, read afresh (with each case's arguments), and their expectations:
    /// every record kind they write (a kind none writes fails the test).
    @Test(Prerequisite.trait(SchemaTests.jsonschemaUnmet))
    func goldenOutputsValidate() throws {
        try Prerequisite.require(Self.jsonschemaUnmet)
        let dir = try TempDirectory()
        let result = try validate(try goldenOutputs(in: dir), require: ["alert", "alert/scan", "flow", "stats", "anomaly"])
        #expect(result.status == 0, "schema violations:\n\(result.stdout)\(result.stderr)")
    }

    /// A value of the wrong JSON type in any field (a number where a string belongs, a string for
    /// a number, ...) is caught by both schemas, for every field of every record kind and shape
    /// the golden cases write.
    @Test(Prerequisite.trait(SchemaTests.jsonschemaUnmet))
    func mistypedFieldsAreCaught() throws {
        try Prerequisite.require(Self.jsonschemaUnmet)
        let dir = try TempDirectory()
        let result = try validate(try goldenOutputs(in: dir), script: Repository.root + "/Tests/schema/mistyped.py")
        #expect(result.status == 0, "retyped fields that passed:\n\(result.stdout)\(result.stderr)")
        for kind in ["alert ", "alert/scan ", "flow ", "stats ", "anomaly "] {
            #expect(result.stdout.contains(kind), "no \(kind)record was retyped: \(result.stdout)")
        }
    }

    /// A TrafficGen scenario with the shipped rules, anomaly records and evidence files (under a
    /// bound, so the stats count removals) on: alerts, scans, flows, stats.
    @Test(Prerequisite.trait(SchemaTests.jsonschemaUnmet))
    func generatedCaptureValidates() throws {
        try Prerequisite.require(Self.jsonschemaUnmet)
        let dir = try TempDirectory()
        let (capture, _) = try Repository.generate("schema", seed: 7, packets: 30_000, in: dir.path)
        let read = try GoldenRun.run(Tool.ghostport, ["read", "--rules", Repository.rules, "--anomalies", "--output", "eve.jsonl",
                                                      "--evidence", "evidence", "--evidence-max-files", "5",
                                                      "--quiet", capture], in: dir.path)
        let eve = try String(contentsOfFile: dir.file("eve.jsonl"), encoding: .utf8)
        #expect(eve.contains("\"evidence\":\"evidence/flow-") && eve.range(of: #""evidence_removed":[1-9]"#, options: .regularExpression) != nil)
        #expect(read.status == 0, "ghostport read exited \(read.status): \(read.stderr)")
        let result = try validate([dir.file("eve.jsonl")], require: ["alert", "alert/scan", "flow", "stats"])
        #expect(result.status == 0, "schema violations:\n\(result.stdout)\(result.stderr)")
    }

    /// The schema is not vacuous: records with a field missing, mistyped or unknown fail.
    @Test(Prerequisite.trait(SchemaTests.jsonschemaUnmet))
    func brokenRecordsFail() throws {
        try Prerequisite.require(Self.jsonschemaUnmet)
        let expected = try String(contentsOfFile: GoldenTests.directory + "/tcp-answered-571/expected.jsonl", encoding: .utf8)
        let alert = try #require(expected.split(separator: "\n").first.map(String.init))
        let broken = [
            alert.replacingOccurrences(of: #","community_id":"#, with: #","community":"#),
            alert.replacingOccurrences(of: "+0000", with: "+00:00"),
            alert.replacingOccurrences(of: #""src_ip":"45.77.1.9""#, with: #""src_ip":"45.77.1.900""#),
            alert.replacingOccurrences(of: #""signature_id":9005710"#, with: #""signature_id":"9005710""#),
            alert.replacingOccurrences(of: #""verdict":"probe""#, with: #""verdict":"maybe""#),
            alert.replacingOccurrences(of: #""proto":"TCP""#, with: #""proto":"tcp""#),
            #"{"timestamp":"2025-06-15T09:12:01.000000+0000","event_type":"drop"}"#,
        ]
        let dir = try TempDirectory()
        for (index, line) in broken.enumerated() {
            #expect(line != alert || index == broken.count - 1, "mutation \(index) changed nothing")
            let file = try dir.write("broken\(index).jsonl", Array((line + "\n").utf8))
            let result = try GoldenRun.run(Prerequisite.python, [Self.validator, file], in: NSTemporaryDirectory(), environment: [:])
            #expect(result.status == 1, "broken record \(index) passed the schema: \(line)")
        }
        let good = try dir.write("good.jsonl", Array((alert + "\n").utf8))
        #expect(try validate([good]).status == 0)
    }
}
