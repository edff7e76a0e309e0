import Foundation
import Testing
import TestSupport

/// The repository around the tests.
enum Repository {
    /// The repository root: two folders up from this file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let rules = root + "/rules"

    /// Writes a TrafficGen scenario `name.pcap` (and `name.truth.json`) into `directory`.
    static func generate(_ name: String, seed: UInt64, packets: Int, in directory: String) throws -> (path: String, truth: Scenario.Truth) {
        let truth = try Scenario(Scenario.Configuration(seed: seed, packets: packets)).write(to: directory, name: name)
        return (directory + "/" + name + ".pcap", truth)
    }
}

/// `ghostport read` with the shipped rules against TrafficGen's truth, for three seeds: every
/// watched flow with its planned verdict (the flow's tuple, VLAN included), no verdict the truth
/// lacks, the per-port counts, and exactly the planned scanners (no near miss). The truth is what
/// the generator planned; the comparison reads the EVE lines only.
@Suite(.serialized) struct TruthTests {
    @Test(arguments: [571, 1, 2025] as [UInt64])
    func readMatchesTheTruth(seed: UInt64) throws {
        let dir = try TempDirectory()
        let (capture, truth) = try Repository.generate("seed\(seed)", seed: seed, packets: 50_000, in: dir.path)
        #expect(truth.watchedFlows.count > 200 && truth.scanners.count == 3)
        let read = try GoldenRun.run(Tool.ghostport, ["read", "--rules", Repository.rules, "--output", "eve.jsonl", "--quiet", capture],
                                     in: dir.path)
        #expect(read.status == 0, "ghostport read exited \(read.status): \(read.stderr)")
        let lines = try String(contentsOfFile: dir.file("eve.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        let differences = TruthCheck.differences(truth, eve: lines)
        #expect(differences.isEmpty, "seed \(seed): \(differences.count) differences:\n\(differences.prefix(20).joined(separator: "\n"))")
    }
}
