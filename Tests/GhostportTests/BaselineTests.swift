import Foundation
import Testing
import TestSupport

/// A baseline learned from one generated capture, then a read over that capture and a second
/// one on other addresses: every answer is judged known or new exactly as the generator's own
/// truth says (its answered flows' servers, ports and protocols), never by ghostport's output.
@Suite("the listener baseline: learn, detect, show, diff")
struct BaselineTests {
    struct Captures {
        let directory: TempDirectory
        let learned: Scenario.Truth
        let other: Scenario.Truth
        var baseline: String { directory.file("baseline.txt") }
        var first: String { directory.file("a.pcap") }
        var second: String { directory.file("b.pcap") }

        init() throws {
            directory = try TempDirectory()
            learned = try Scenario(.init(seed: 11, packets: 20_000)).write(to: directory.path, name: "a")
            var configuration = Scenario.Configuration(seed: 12, packets: 20_000)
            configuration.firstAddress = 200_000
            other = try Scenario(configuration).write(to: directory.path, name: "b")
            let learn = try Tool.ghostport(["baseline", "learn", "--output", baseline, first])
            #expect(learn.status == 0, "\(learn.stderr)")
        }
    }

    struct Listener: Hashable {
        var server: String
        var port: Int
        var proto: String
    }

    static func listeners(_ truth: Scenario.Truth) -> [Listener] {
        truth.watchedFlows.filter { $0.verdict == .answered }.map { Listener(server: $0.server, port: Int($0.serverPort), proto: $0.proto.rawValue) }
    }

    static func records(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    static func listener(_ record: [String: Any]) -> Listener {
        // An answer's alert goes server to client: its flow's tuple is client to server.
        let flow = record["flow"] as? [String: Any] ?? [:]
        return Listener(server: flow["dest_ip"] as? String ?? "", port: flow["dest_port"] as? Int ?? 0,
                        proto: (record["proto"] as? String ?? "").lowercased())
    }

    @Test("learned listeners answer as known (severity 3), others as new (8999004, severity 1); probes untouched")
    func knownAndNew() throws {
        let captures = try Captures()
        let known = Set(Self.listeners(captures.learned))
        try #require(!known.isEmpty)
        let secondAnswers = Self.listeners(captures.other)
        let expectedKnown = Self.listeners(captures.learned).count + secondAnswers.filter { known.contains($0) }.count
        let expectedNew = secondAnswers.filter { !known.contains($0) }.count
        try #require(expectedNew > 0)

        let with = try Tool.ghostport(["read", "--quiet", "--baseline", captures.baseline, captures.first, captures.second])
        #expect(with.status == 0, "\(with.stderr)")
        let alerts = try Self.records(with.stdout).filter { $0["event_type"] as? String == "alert" }
        func own(_ alert: [String: Any]) -> [String: Any] { alert["ghostport"] as? [String: Any] ?? [:] }
        func signature(_ alert: [String: Any]) -> [String: Any] { alert["alert"] as? [String: Any] ?? [:] }
        let knownAlerts = alerts.filter { own($0)["listener"] as? String == "known" }
        let newAlerts = alerts.filter { own($0)["listener"] as? String == "new" }
        #expect(knownAlerts.count == expectedKnown)
        #expect(newAlerts.count == expectedNew)
        #expect(knownAlerts.allSatisfy { known.contains(Self.listener($0)) && signature($0)["severity"] as? Int == 3 })
        // Each new listener alerts once as one (8999004, severity 1); its later answers as their rules.
        let firsts = newAlerts.filter { signature($0)["signature_id"] as? Int == 8_999_004 }
        let newListeners = Set(secondAnswers.filter { !known.contains($0) })
        #expect(firsts.count == newListeners.count && Set(firsts.map(Self.listener)) == newListeners)
        #expect(firsts.allSatisfy { signature($0)["severity"] as? Int == 1 && (own($0)["rule_signature_id"] as? Int ?? 0) > 9_000_000
            && own($0)["baseline_since"] is String && own($0)["verdict"] as? String == "answered" })
        #expect(newAlerts.allSatisfy { !known.contains(Self.listener($0)) })
        #expect(!alerts.contains { own($0)["listener"] as? String == "learning" })

        // Without the baseline: the same alerts but for the listener fields; no alert but the
        // answers carries one.
        let without = try Tool.ghostport(["read", "--quiet", captures.first, captures.second])
        let plain = try Self.records(without.stdout).filter { $0["event_type"] as? String == "alert" }
        #expect(!plain.contains { own($0)["listener"] != nil })
        func probes(_ alerts: [[String: Any]]) -> [String] {
            alerts.filter { own($0)["listener"] == nil }.map { "\($0["flow_id"] ?? 0) \(signature($0)["signature_id"] ?? 0) \(signature($0)["severity"] ?? 0)" }.sorted()
        }
        #expect(probes(alerts) == probes(plain.filter { own($0)["kind"] as? String != "answered" }))
        #expect(alerts.count == plain.count)
    }

    @Test("baseline.known silent: no alert for a known listener, its flow record keeps the verdict")
    func silent() throws {
        let captures = try Captures()
        let result = try Tool.ghostport(["read", "--quiet", "--baseline", captures.baseline, "--baseline-known", "silent",
                                         captures.first, captures.second])
        #expect(result.status == 0, "\(result.stderr)")
        let records = try Self.records(result.stdout)
        let alerts = records.filter { $0["event_type"] as? String == "alert" }
        #expect(!alerts.contains { ($0["ghostport"] as? [String: Any])?["listener"] as? String == "known" })
        let answeredFlows = records.filter { $0["event_type"] as? String == "flow"
            && ($0["ghostport"] as? [String: Any])?["verdict"] as? String == "answered" }
        #expect(answeredFlows.count == Self.listeners(captures.learned).count + Self.listeners(captures.other).count)
        let stats = try #require(records.last { $0["event_type"] as? String == "stats" })
        let listeners = ((stats["ghostport"] as? [String: Any])?["stats"] as? [String: Any]).flatMap { ($0["detect"] as? [String: Any])?["listeners"] as? [String: Any] }
        #expect(listeners?["silenced"] as? Int == Self.listeners(captures.learned).count)
        #expect(listeners?["held"] as? Int == Set(Self.listeners(captures.learned)).count)
    }

    @Test("the file holds every listener of the truth with its flows; show prints them; diff names what appeared")
    func fileShowAndDiff() throws {
        let captures = try Captures()
        let text = try String(contentsOfFile: captures.baseline, encoding: .utf8)
        var flows: [Listener: Int] = [:]
        for listener in Self.listeners(captures.learned) { flows[listener, default: 0] += 1 }
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("since") }
        #expect(lines.count == flows.count)
        for (listener, count) in flows {
            #expect(lines.contains { $0.hasPrefix("\(listener.server) \(listener.port)/\(listener.proto) ") && $0.split(separator: " ")[4] == "\(count)" },
                    "\(listener) with \(count) flows not in:\n\(text)")
        }

        let show = try Tool.ghostport(["baseline", "show", captures.baseline])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.hasPrefix("\(captures.baseline): \(flows.count) listeners, learning since "))
        #expect(show.stdout.split(separator: "\n").count == flows.count + 2)
        #expect(show.stdout.contains("meter") || show.stdout.contains("utime") || show.stdout.contains("discard"), "no service named:\n\(show.stdout)")

        // Learned onto: the second capture's listeners are added, the first's kept.
        let copy = captures.directory.file("more.txt")
        try FileManager.default.copyItem(atPath: captures.baseline, toPath: copy)
        let learn = try Tool.ghostport(["baseline", "learn", "--output", copy, captures.second])
        #expect(learn.status == 0, "\(learn.stderr)")
        let diff = try Tool.ghostport(["baseline", "diff", captures.baseline, copy])
        #expect(diff.status == 1, "\(diff.stderr)")
        let added = Set(diff.stdout.split(separator: "\n").filter { $0.hasPrefix("+ ") }.map { line in
            let fields = line.split(separator: " ")
            let portProto = fields[2].split(separator: "/")
            return Listener(server: String(fields[1]), port: Int(portProto[0]) ?? 0, proto: String(portProto[1]))
        })
        #expect(added == Set(Self.listeners(captures.other)).subtracting(flows.keys))
        #expect(!diff.stdout.contains("- "))
        let same = try Tool.ghostport(["baseline", "diff", captures.baseline, captures.baseline])
        #expect(same.status == 0 && same.stdout.isEmpty)

        // Hand-written: one listener went silent while another kept answering; one is gone.
        let old = captures.directory.file("old.txt"), new = captures.directory.file("new.txt")
        try """
            192.0.2.1 104/tcp 2026-11-01T00:00:00Z 2026-11-02T00:00:00Z 10 2
            192.0.2.2 519/tcp 2026-11-01T00:00:00Z 2026-11-02T00:00:00Z 10 2 # plant floor
            192.0.2.3 87/udp 2026-11-01T00:00:00Z 2026-11-01T00:00:00Z 1 1

            """.write(toFile: old, atomically: true, encoding: .utf8)
        try """
            192.0.2.1 104/tcp 2026-11-01T00:00:00Z 2026-11-09T00:00:00Z 90 3
            192.0.2.2 519/tcp 2026-11-01T00:00:00Z 2026-11-02T00:00:00Z 10 2 # plant floor

            """.write(toFile: new, atomically: true, encoding: .utf8)
        let silence = try Tool.ghostport(["baseline", "diff", old, new])
        #expect(silence.status == 1)
        #expect(silence.stdout == "= 192.0.2.2 519/tcp silent since 2026-11-02T00:00:00Z\n- 192.0.2.3 87/udp last seen 2026-11-01T00:00:00Z\n")
    }

    @Test("alerts with a listener and stats with a baseline validate against the schema", Prerequisite.trait(SchemaTests.jsonschemaUnmet))
    func schema() throws {
        try Prerequisite.require(SchemaTests.jsonschemaUnmet)
        let captures = try Captures()
        let eve = captures.directory.file("eve.json")
        let read = try Tool.ghostport(["read", "--quiet", "--output", eve, "--baseline", captures.baseline, captures.first, captures.second])
        #expect(read.status == 0, "\(read.stderr)")
        let result = try GoldenRun.run(Prerequisite.python, [SchemaTests.validator, "--require", "alert,flow,stats", eve],
                                       in: captures.directory.path, environment: [:])
        #expect(result.status == 0, "schema violations:\n\(result.stdout)\(result.stderr)")
    }

    @Test("a broken baseline is FILE:LINE: reason and exit 2; a missing one names the path")
    func brokenFile() throws {
        let directory = try TempDirectory()
        let path = directory.file("broken.txt")
        try "# ok\n192.0.2.7 104/tcp\n192.0.2.8 104/tpc\n".write(toFile: path, atomically: true, encoding: .utf8)
        let capture = try directory.write("demo.pcap", DemoCapture.make())
        let read = try Tool.ghostport(["read", "--quiet", "--baseline", path, capture])
        #expect(read.status == 2)
        #expect(read.stderr == "ghostport: \(path):3: '104/tpc' is not a port and protocol, as 104/tcp (tcp, udp or sctp)\n")
        let missing = try Tool.ghostport(["baseline", "show", directory.file("none.txt")])
        #expect(missing.status == 2 && missing.stderr.hasPrefix("ghostport: \(directory.file("none.txt")): "))
    }

    static let scapyUnmet = Prerequisite.pythonModule("scapy", install: "apt-get install -y python3-scapy")

    /// scapy (not ghostport) writes the probes: 8081/tcp from five sources, never answered;
    /// 8443/tcp from four, answered; 5555/udp from three, never answered; 7777/tcp from two (too
    /// few); 571/tcp, in the registry, from six. Suggested: 8081/tcp and 5555/udp, as rules that
    /// load and then alert on those probes.
    @Test("suggest: probed, never answered, outside the registry: rules that load and alert", Prerequisite.trait(Self.scapyUnmet))
    func suggest() throws {
        try Prerequisite.require(Self.scapyUnmet)
        let directory = try TempDirectory()
        let capture = directory.file("probes.pcap")
        let script = """
            import sys
            from scapy.all import Ether, IP, TCP, UDP, wrpcap
            def syn(src, dport): return Ether()/IP(src=src, dst="192.0.2.1")/TCP(sport=40000, dport=dport, flags="S")
            packets = [syn("198.51.100.%d" % i, 8081) for i in range(1, 6)]
            packets += [syn("198.51.100.%d" % i, 8443) for i in range(1, 5)]
            packets += [Ether()/IP(src="192.0.2.1", dst="198.51.100.1")/TCP(sport=8443, dport=40000, flags="SA")]
            packets += [Ether()/IP(src="203.0.113.%d" % i, dst="192.0.2.1")/UDP(sport=50000, dport=5555)/b"x" for i in range(1, 4)]
            packets += [syn("198.51.100.%d" % i, 7777) for i in range(1, 3)]
            packets += [syn("198.51.100.%d" % i, 571) for i in range(1, 7)]
            wrpcap(sys.argv[1], packets)
            """
        let made = try GoldenRun.run(Prerequisite.python, ["-c", script, capture], in: directory.path, environment: [:])
        #expect(made.status == 0, "\(made.stderr)")
        let result = try Tool.ghostport(["baseline", "suggest", capture])
        #expect(result.status == 0, "\(result.stderr)")
        let rules = result.stdout.split(separator: "\n").filter { $0.hasPrefix("alert ") }
        // `alert tcp any any -> any 8081 (...` or `alert tcp any 8081 -> any any (...`: the port that is not `any`.
        func ports(_ proto: String) -> Set<Substring> {
            Set(rules.filter { $0.hasPrefix("alert \(proto) ") }.compactMap { rule in
                let fields = rule.split(separator: " ")
                return [fields[3], fields[6]].first { $0 != "any" }
            })
        }
        #expect(ports("tcp") == ["8081"] && ports("udp") == ["5555"], "\(result.stdout)")
        #expect(rules.count == 6 + 2, "six rules for a TCP port, two for a UDP one: \(result.stdout)")
        #expect(result.stderr.contains("2 outside the rules with 3+ sources and no answer"), "\(result.stderr)")

        // Saved beside the shipped rules: they load, and alert on the probes they were made from.
        let local = directory.file("local.rules")
        try result.stdout.write(toFile: local, atomically: true, encoding: .utf8)
        let check = try Tool.ghostport(["rules", "check", local])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let read = try Tool.ghostport(["read", "--quiet", "--rules", local, capture])
        let alerts = read.stdout.split(separator: "\n").filter { $0.contains("\"event_type\":\"alert\"") }
        #expect(alerts.filter { $0.contains("\"dest_port\":8081") }.count == 5)
        #expect(alerts.filter { $0.contains("\"dest_port\":5555") }.count == 3)
        #expect(alerts.count == 8, "\(read.stdout)")
    }
}
