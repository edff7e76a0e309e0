import Foundation
import Testing
import TestSupport

/// The repository around the tests, and the python tools beside it.
enum Repository {
    /// The repository root: two folders up from this file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    /// `../shared/bench/genpcap.py`, the deterministic traffic generator.
    static let genpcap = URL(fileURLWithPath: root).deletingLastPathComponent()
        .appendingPathComponent("shared/bench/genpcap.py").standardizedFileURL.path
    static let checkTruth = root + "/Tests/truth/check_truth.py"
    static let rules = root + "/rules"

    /// Whether `python3` runs here.
    static let hasPython: Bool = python(["-c", "import sys"])?.status == 0
    static var hasGenpcap: Bool { hasPython && FileManager.default.fileExists(atPath: genpcap) }

    /// `python3 ARGUMENTS...` through env, run in `directory` (default a fresh one); nil if it cannot start.
    static func python(_ arguments: [String], in directory: String? = nil) -> ProcessOutput? {
        guard let scratch = try? TempDirectory() else { return nil }
        return withExtendedLifetime(scratch) {
            try? GoldenRun.run("/usr/bin/env", ["python3"] + arguments, in: directory ?? scratch.path, environment: [:])
        }
    }

    /// Writes a genpcap capture `name.pcap` (and `name.truth.json`) into `directory`.
    static func generate(_ name: String, seed: Int, packets: Int, in directory: String) throws -> String {
        let output = try #require(python([genpcap, name + ".pcap", "--packets", String(packets), "--seed", String(seed)], in: directory))
        #expect(output.status == 0, "genpcap.py failed: \(output.stderr)")
        return directory + "/" + name + ".pcap"
    }
}

/// genpcap.py's ground truth: for three seeds, every watched port's flows and verdicts and every
/// scanner, as `ghostport read` with the shipped rules reports them, checked by check_truth.py.
@Suite(.serialized) struct TruthTests {
    @Test(.enabled(if: Repository.hasGenpcap, "python3 or ../shared/bench/genpcap.py is absent: no truth to check against"),
          arguments: [571, 1, 2025])
    func readMatchesTheTruth(seed: Int) throws {
        let dir = try TempDirectory()
        let capture = try Repository.generate("seed\(seed)", seed: seed, packets: 50_000, in: dir.path)
        let read = try GoldenRun.run(Tool.ghostport, ["read", "--rules", Repository.rules, "--output", "eve.jsonl", "--quiet", capture],
                                     in: dir.path)
        #expect(read.status == 0, "ghostport read exited \(read.status): \(read.stderr)")
        let check = try #require(Repository.python([Repository.checkTruth, dir.file("seed\(seed).truth.json"), dir.file("eve.jsonl")],
                                                   in: dir.path))
        #expect(check.status == 0, "check_truth.py found differences for seed \(seed):\n\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("MATCH"))
    }
}
