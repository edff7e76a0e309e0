import Foundation
import Testing
import TestSupport

/// Every record `ghostport read` writes validates against Tests/schema/eve.schema.json
/// (JSON Schema 2020-12), checked by Tests/schema/validate.py with python's jsonschema.
@Suite(.serialized) struct SchemaTests {
    static let validator = Repository.root + "/Tests/schema/validate.py"
    static let jsonschemaUnmet = Prerequisite.pythonModule("jsonschema", install: "apt-get install -y python3-jsonschema")

    private func validate(_ files: [String]) throws -> ProcessOutput {
        try GoldenRun.run(Prerequisite.python, [Self.validator] + files, in: NSTemporaryDirectory(), environment: [:])
    }

    /// The golden captures, read afresh (with each case's arguments), and their expectations.
    @Test(Prerequisite.trait(SchemaTests.jsonschemaUnmet))
    func goldenOutputsValidate() throws {
        try Prerequisite.require(Self.jsonschemaUnmet)
        let dir = try TempDirectory()
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
        let result = try validate(files)
        #expect(result.status == 0, "schema violations:\n\(result.stdout)\(result.stderr)")
    }

    /// A genpcap capture with the shipped rules and anomaly records on: alerts, scans, flows, stats.
    @Test(Prerequisite.trait(SchemaTests.jsonschemaUnmet),
          .enabled(if: Repository.hasGenpcap, "../shared/bench/genpcap.py is absent"))
    func generatedCaptureValidates() throws {
        try Prerequisite.require(Self.jsonschemaUnmet)
        let dir = try TempDirectory()
        let capture = try Repository.generate("schema", seed: 7, packets: 30_000, in: dir.path)
        let read = try GoldenRun.run(Tool.ghostport, ["read", "--rules", Repository.rules, "--anomalies", "--output", "eve.jsonl",
                                                      "--quiet", capture], in: dir.path)
        #expect(read.status == 0, "ghostport read exited \(read.status): \(read.stderr)")
        let result = try validate([dir.file("eve.jsonl")])
        #expect(result.status == 0, "schema violations:\n\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("alert/scan"), "the capture's scanners should have raised scan alerts")
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
            let result = try validate([file])
            #expect(result.status == 1, "broken record \(index) passed the schema: \(line)")
        }
        let good = try dir.write("good.jsonl", Array((alert + "\n").utf8))
        #expect(try validate([good]).status == 0)
    }
}
