import Baseline
import Detect
import Testing
import TestSupport
import Wire

/// Answers judged by a listener baseline inside one engine, in packet time: learned while the
/// policy learns, known or new after, silenced when asked.
@Suite struct ListenerTests {
    static func listener(_ alert: [String: Any]) -> String? { alert.ghostport?["listener"] as? String }
    static func sid(_ alert: [String: Any]) -> Int? { (alert["alert"] as? [String: Any])?["signature_id"] as? Int }

    /// Learning for the first 10 s: 192.168.4.20:571 answers at 1 s (learning) and 2 s (known);
    /// at 20 s, after learning, 192.168.4.21:571 answers (new, 8999004), again at 21 s (new, its
    /// rule's sid), and the first listener at 22 s (known).
    @Test func learningEndsAtItsTime() throws {
        let h = try EngineHarness(rules: TestRules.udemon) {
            $0.baseline = BaselinePolicy(known: .alert, learnUntil: EngineHarness.time(10))
        }
        let baseline = ListenerBaseline()
        h.engine.baseline = baseline
        func session(server: String, sport: UInt16, at seconds: Double) {
            let p = Probe(server: server, sport: sport)
            h.feed(p.syn, at: seconds)
            h.feed(p.synAck, at: seconds + 0.001)
        }
        session(server: "192.168.4.20", sport: 40001, at: 1)
        session(server: "192.168.4.20", sport: 40002, at: 2)
        session(server: "192.168.4.21", sport: 40003, at: 20)
        session(server: "192.168.4.21", sport: 40004, at: 21)
        session(server: "192.168.4.20", sport: 40005, at: 22)
        let records = try h.finish()
        let answers = records.alerts.filter { $0.ghostport?["kind"] as? String == "answered" }
        #expect(answers.map(Self.listener) == ["learning", "known", "new", "new", "known"])
        #expect(answers.map(Self.sid) == [9_005_711, 9_005_711, 8_999_004, 9_005_711, 9_005_711])
        #expect(answers.map { ($0["alert"] as? [String: Any])?["severity"] as? Int } == [1, 3, 1, 1, 3])
        // Probes carry no listener.
        #expect(records.alerts.filter { Self.sid($0) == 9_005_710 }.allSatisfy { Self.listener($0) == nil })
        #expect(baseline.count == 1)
        let learned = try #require(baseline.entries.first)
        #expect(learned.key.address == IPAddress(ipv4: 0xC0A8_0414) && learned.key.port == 571 && learned.key.proto == 6)
        // Three answered flows, one client; last seen the third flow's end.
        #expect(learned.value.flows == 3 && learned.value.clients == 1)
        #expect(learned.value.firstSeen == EngineHarness.baseSeconds + 1 && learned.value.lastSeen == EngineHarness.baseSeconds + 22)
        let counts = records.ghostportStats?["detect"] as? [String: Any]
        #expect(counts?["listeners"] as? [String: Int] == ["held": 1, "learned": 1, "refused": 0, "silenced": 0])
    }

    @Test func knownListenersSilenced() throws {
        let h = try EngineHarness(rules: TestRules.udemon) { $0.baseline = BaselinePolicy(known: .silent, learnUntil: nil) }
        let known = ListenerKey(address: IPAddress(ipv4: 0xC0A8_0414), port: 571, proto: 6)
        h.engine.baseline = ListenerBaseline(entries: [known: ListenerEntry()])
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.001)
        let records = try h.finish()
        #expect(records.alerts.map(Self.sid) == [9_005_710], "the probe alerts, the known answer does not")
        #expect(records.verdicts == ["answered"])
        let counts = records.ghostportStats?["detect"] as? [String: Any]
        #expect((counts?["listeners"] as? [String: Int])?["silenced"] == 1)
    }

    @Test func withoutBaselineNoListenerField() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.001)
        let records = try h.finish()
        #expect(records.alerts.count == 2 && records.alerts.allSatisfy { Self.listener($0) == nil })
        #expect((records.ghostportStats?["detect"] as? [String: Any])?["listeners"] == nil)
    }
}
