import Foundation
import Testing
import TestSupport

/// `read --jobs N`: rotated captures of one link come out as the capture they were cut from,
/// independent captures as each read alone, one after the other in the order given; and every
/// `--jobs` writes the same records. The truth: the uncut capture's read, the single reads, and
/// TrafficGen's plan (editcap, not ghostport, cuts the capture).
@Suite(.serialized) struct JobsTests {
    /// A record as JSON with what may differ removed: the file it came from and its packet number
    /// in that file (with `dropsSource`), and the ring's waits (the machine's timing).
    private static func normalized(_ line: String, dropsSource: Bool) throws -> String {
        var record = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        if dropsSource {
            record["pcap_filename"] = nil
            record["pcap_cnt"] = nil
        }
        if record["event_type"] as? String == "stats",
           var ghostport = record["ghostport"] as? [String: Any], var stats = ghostport["stats"] as? [String: Any],
           var capture = stats["capture"] as? [String: Any] {
            capture["ring_waits"] = nil
            stats["capture"] = capture
            ghostport["stats"] = stats
            record["ghostport"] = ghostport
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
    }

    private static func read(_ arguments: [String], in dir: TempDirectory, output: String) throws -> [String] {
        let run = try GoldenRun.run(Tool.ghostport, ["read", "--rules", Repository.rules, "--quiet", "--no-progress",
                                                     "--output", output] + arguments, in: dir.path)
        #expect(run.status == 0, "read \(arguments) exited \(run.status): \(run.stderr)")
        return try String(contentsOfFile: dir.file(output), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test("rotated captures of one link (editcap -c) read as the capture they were cut from, with any --jobs and in any order",
          Prerequisite.trait(Prerequisite.tools("editcap", packages: ["editcap": "wireshark-common"])))
    func rotatedCaptures() throws {
        let editcap = try Prerequisite.path(of: "editcap", package: "wireshark-common")
        let dir = try TempDirectory()
        let (capture, truth) = try Repository.generate("link", seed: 7, packets: 40_000, in: dir.path)
        try FileManager.default.createDirectory(atPath: dir.file("rotated"), withIntermediateDirectories: false)
        let cut = try Tool.run(editcap, ["-c", "4000", capture, dir.file("rotated/link.pcap")])
        #expect(cut.status == 0, "editcap: \(cut.stderr)")
        let parts = try FileManager.default.contentsOfDirectory(atPath: dir.file("rotated")).sorted()
        #expect(parts.count == 10)

        let whole = try Self.read([capture], in: dir, output: "whole.json").map { try Self.normalized($0, dropsSource: true) }
        #expect(whole.count > 300)
        let shuffled = [5, 0, 9, 2, 7, 1, 3, 8, 6, 4].map { dir.file("rotated/" + parts[$0]) }
        for (name, arguments) in [("jobs1", ["--jobs", "1", dir.file("rotated")]), ("jobs3", ["--jobs", "3", dir.file("rotated")]),
                                  ("shuffled", ["--jobs", "2"] + shuffled)] {
            let lines = try Self.read(arguments, in: dir, output: name + ".json")
            #expect(try lines.map { try Self.normalized($0, dropsSource: true) } == whole, "\(name) differs from the uncut capture's read")
            let differences = TruthCheck.differences(truth, eve: lines)
            #expect(differences.isEmpty, "\(name): \(differences.prefix(10).joined(separator: "\n"))")
        }
    }

    @Test("independent captures: each as read alone, one after the other in the order given, one stats record adding them up")
    func independentCaptures() throws {
        let dir = try TempDirectory()
        // TrafficGen's captures all start at the same time: they overlap, so none continues another.
        var captures: [String] = []
        for seed in [3, 1, 4, 2] as [UInt64] {
            captures.append(try Repository.generate("seed\(seed)", seed: seed, packets: 20_000, in: dir.path).path)
        }
        var alone: [[String]] = []
        var stats: [[String: Any]] = []
        for (index, capture) in captures.enumerated() {
            let lines = try Self.read([capture], in: dir, output: "alone\(index).json")
            alone.append(try lines.dropLast().map { try Self.normalized($0, dropsSource: false) })
            stats.append(try #require(JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any]))
            #expect(stats.last?["event_type"] as? String == "stats")
        }
        var outputs: [[String]] = []
        for jobs in [1, 2, 4] {
            let lines = try Self.read(["--jobs", String(jobs)] + captures, in: dir, output: "jobs\(jobs).json")
            let records = try lines.map { try Self.normalized($0, dropsSource: false) }
            #expect(Array(records.dropLast()) == alone.flatMap { $0 }, "--jobs \(jobs): not each capture's records in the order given")
            outputs.append(records)

            // One stats record at the end, adding up the four.
            let total = try #require(JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
            #expect(lines.filter { $0.contains("\"event_type\":\"stats\"") }.count == 1)
            for path in [["stats", "decoder", "pkts"], ["stats", "decoder", "bytes"], ["stats", "detect", "alert"],
                         ["ghostport", "stats", "flow", "created"], ["ghostport", "stats", "detect", "uninspected"],
                         ["ghostport", "stats", "detect", "verdicts", "unanswered"],
                         ["ghostport", "stats", "detect", "verdicts", "rejected"],
                         ["ghostport", "stats", "detect", "verdicts", "answered"],
                         ["ghostport", "stats", "detect", "alerts_by_sid", "8999001"]] {
                let sum = stats.reduce(0) { $0 + (($1[path: path] as? Int) ?? 0) }
                #expect(total[path: path] as? Int == sum, "--jobs \(jobs): \(path.joined(separator: ".")) is not the sum \(sum)")
            }
        }
        #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
    }

    @Test("--jobs 0 is a usage error")
    func zeroJobs() throws {
        let run = try Tool.run(Tool.ghostport, ["read", "--jobs", "0", "-"])
        #expect(run.status == 2, "exited \(run.status)")
        #expect(run.stderr.contains("--jobs must be at least 1"))
    }
}
