import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `ghostport read --redis` and `run`'s Redis settings, end to end, against a real redis-server:
/// what Redis holds (read back with redis-cli) is what the EVE file holds, record for record.
@Suite("Redis output from the command line", .serialized, Prerequisite.trait(RedisServer.unmet))
struct RedisCommandTests {
    /// A generated capture (scans, answered, rejected and unanswered flows) and its EVE file.
    static func capture(in directory: TempDirectory) throws -> (pcap: String, lines: [String]) {
        _ = try Repository.generate("scenario", seed: 16, packets: 60_000, in: directory.path)
        let pcap = directory.file("scenario.pcap")
        let eve = directory.file("file.json")
        let read = try Tool.ghostport(["read", "--quiet", "--anomalies", "-o", eve, pcap])
        #expect(read.status == 0, "\(read.stderr)")
        let lines = try String(contentsOfFile: eve, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count > 700)
        return (pcap, lines)
    }

    @Test("read --redis in each mode: the records of the file, once each, in order; Redis alone without --output")
    func everyMode() throws {
        try Prerequisite.require(RedisServer.unmet)
        let directory = try TempDirectory()
        let (pcap, lines) = try Self.capture(in: directory)
        let server = try RedisServer(password: "p@ss word")
        let url = "redis://:p%40ss%20word@127.0.0.1:\(server.port)/5"
        for mode in ["list", "rpush", "stream"] {
            let key = "eve-\(mode)"
            let read = try Tool.ghostport(["read", "--anomalies", "--redis", url, "--redis-mode", mode, "--redis-key", key,
                                           "--redis-stream-maxlen", "0", pcap])
            #expect(read.status == 0, "\(read.stderr)")
            #expect(read.stdout.isEmpty, "with --redis and no --output nothing goes to standard output")
            #expect(read.stderr.contains("ghostport: redis: \(lines.count) of \(lines.count) records written"), "\(read.stderr)")
            #expect(read.stderr.contains("on redis://:***@127.0.0.1:\(server.port)/5), none lost"), "\(read.stderr)")
            #expect(!read.stderr.contains("p@ss"), "the password shows")
            let stored: [String] = switch mode {
            case "list": try server.list(key, database: 5).reversed()
            case "rpush": try server.list(key, database: 5)
            default: try server.stream(key, database: 5)
            }
            #expect(stored.count == lines.count, "\(mode)")
            // The stats record names what Redis had acknowledged when it was written; the rest is the same.
            #expect(Array(stored.dropLast()) == Array(lines.dropLast()), "\(mode): the records differ from the file's")
            let stats = try #require(stored.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            let output = try #require(((stats["ghostport"] as? [String: Any])?["stats"] as? [String: Any])?["output"] as? [String: Any])
            // What Redis had acknowledged when the record was made, and what still waited: part of the records before it.
            let written = try #require(output["redis_written"] as? Int), queued = try #require(output["redis_queued"] as? Int)
            #expect(written + queued <= lines.count - 1, "\(output)")
            #expect(output["redis_lost"] as? Int == 0)
        }
        // Both outputs at once: the file and Redis get the same lines.
        let both = directory.file("both.json")
        let read = try Tool.ghostport(["read", "--quiet", "--anomalies", "-o", both, "--redis", url, "--redis-key", "both", pcap])
        #expect(read.status == 0, "\(read.stderr)")
        let fileLines = try String(contentsOfFile: both, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(try server.list("both", database: 5).reversed().dropLast() == fileLines.dropLast()[...])
    }

    @Test("a fleet: three sensors into one stream, each record's host its sensor, read once by one consumer group")
    func fleet() throws {
        try Prerequisite.require(RedisServer.unmet)
        let directory = try TempDirectory()
        let server = try RedisServer()
        #expect(try server.cli(["XGROUP", "CREATE", "ghostport", "siem", "$", "MKSTREAM"]) == "OK")
        var expected: [String: Int] = [:]
        for (index, site) in ["gw-a", "gw-b", "gw-c"].enumerated() {
            _ = try Repository.generate(site, seed: UInt64(40 + index), packets: 5_000, in: directory.path)
            let read = try Tool.ghostport(["read", "--quiet", "--sensor-name", site, "--redis", server.url, "--redis-mode", "stream",
                                           "-o", directory.file("\(site).json"), directory.file("\(site).pcap")])
            #expect(read.status == 0, "\(read.stderr)")
            let lines = try String(contentsOfFile: directory.file("\(site).json"), encoding: .utf8).split(separator: "\n")
            #expect(lines.allSatisfy { $0.contains(#""host":"\#(site)""#) }, "\(site): a record without its host")
            expected[site] = lines.count
        }
        // Two consumers of one group share the stream: every entry goes to one of them, once.
        var seen: [String: Int] = [:]
        var total = 0
        for round in 0..<100 {
            let consumer = round % 2 == 0 ? "one" : "two"
            let entries = try server.cliLines(["XREADGROUP", "GROUP", "siem", consumer, "COUNT", "400", "STREAMS", "ghostport", ">"])
                .filter { $0.hasPrefix("{") }
            if entries.isEmpty { break }
            total += entries.count
            for entry in entries {
                let record = try #require(try JSONSerialization.jsonObject(with: Data(entry.utf8)) as? [String: Any])
                seen[record["host"] as? String ?? "none", default: 0] += 1
            }
        }
        #expect(seen == expected, "records by host in the group: \(seen), written: \(expected)")
        #expect(total == expected.values.reduce(0, +))
        #expect(try server.cli(["XLEN", "ghostport"]) == String(total))
    }

    @Test("a wrong password, a server not there, a bad URL: one line, exit 2, nothing read")
    func refusals() throws {
        try Prerequisite.require(RedisServer.unmet)
        let server = try RedisServer(password: "right")
        let pcap = Repository.root + "/Tests/Fixtures/demo.pcap"
        let wrong = try Tool.ghostport(["read", "--redis", "redis://:wrong@127.0.0.1:\(server.port)", pcap])
        #expect(wrong.status == 2)
        #expect(wrong.errorLines == ["ghostport: redis://:***@127.0.0.1:\(server.port)/0: authentication refused: "
                                     + "WRONGPASS invalid username-password pair or user is disabled."])
        #expect(try server.cli(["DBSIZE"]) == "0")
        let missing = try Tool.ghostport(["read", "--redis", server.directory + "/nothing.sock", pcap])
        #expect(missing.status == 2)
        #expect(missing.errorLines == ["ghostport: unix://\(server.directory)/nothing.sock: cannot connect: No such file or directory"])
        let malformed = try Tool.ghostport(["read", "--redis", "rediss://h", pcap])
        #expect(malformed.status == 2)
        #expect(malformed.errorLines == ["ghostport: --redis rediss://h: TLS (rediss://) is not supported: Debian's libhiredis is built without it"])
        let orphan = try Tool.ghostport(["read", "--redis-mode", "stream", pcap])
        #expect(orphan.status == 2)
        #expect(orphan.stderr.contains("need --redis URL"))
    }

    @Test("outputs.redis in the config: checked with its line, and by run --check-config against the server")
    func configuration() throws {
        try Prerequisite.require(RedisServer.unmet)
        let server = try RedisServer(password: "right")
        let directory = try TempDirectory()
        let rules = try directory.write("r.rules", Array("alert udp any any -> any 571 (msg:\"t\"; sid:1; rev:1;)\n".utf8))
        func config(_ redis: String) throws -> String {
            try directory.write("c.yaml", Array("""
                rules: [\(rules)]
                outputs:
                  eve:
                    path: \(directory.path)/eve.json
                  redis:
                \(redis)
                """.utf8))
        }
        let bad = try Tool.ghostport(["run", "-T", "--allow-root", "-i", "lo", "--config",
                                      try config("    url: redis://h:99999\n    mode: queue")])
        #expect(bad.status == 2)
        #expect(bad.errorLines.contains { $0.hasSuffix("c.yaml:6: outputs.redis.url: redis://h:99999: port 99999 is not between 1 and 65535") },
                "\(bad.errorLines)")
        #expect(bad.errorLines.contains { $0.hasSuffix("c.yaml:7: outputs.redis.mode: must be list, rpush, channel, stream, got 'queue'") },
                "\(bad.errorLines)")
        let refused = try Tool.ghostport(["run", "-T", "--allow-root", "-i", "lo", "--config",
                                          try config("    url: redis://:wrong@127.0.0.1:\(server.port)")])
        #expect(refused.status == 2)
        #expect(refused.errorLines.first == "ghostport: outputs.redis: redis://:***@127.0.0.1:\(server.port)/0: authentication refused: "
                + "WRONGPASS invalid username-password pair or user is disabled.", "\(refused.errorLines)")
        let fine = try Tool.ghostport(["run", "-T", "--allow-root", "-i", "lo", "--config",
                                       try config("    url: redis://:right@127.0.0.1:\(server.port)\n    mode: stream")])
        #expect(fine.status == 0, "\(fine.stderr)")
    }
}
