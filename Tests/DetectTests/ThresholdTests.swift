import Detect
import Testing
import TestSupport
import Wire

/// `threshold` (limit, threshold, both) and `detection_filter`, tracked by_src, by_dst, by_rule
/// and by_both, in packet time. Each match here is a new flow (a new source port), so the
/// once-per-flow dedupe does not hide matches from the counters.
@Suite struct ThresholdTests {
    private func rule(_ option: String, sid: Int = 900) -> String {
        "alert tcp any any -> any 571 (msg:\"thresholded\"; \(option); sid:\(sid); rev:1;)"
    }

    /// Feeds one SYN per (time, client, server); returns the pcap_cnt of the alerts.
    private func alerted(_ rules: String, _ probes: [(Double, String, String)]) throws -> (counts: [Int], suppressed: Int?) {
        let h = try EngineHarness(rules: rules)
        for (index, (time, client, server)) in probes.enumerated() {
            h.feed(Probe(client: client, server: server, sport: UInt16(20_000 + index)).syn, at: time)
        }
        let records = try h.finish()
        return (records.ruleAlerts.compactMap { $0["pcap_cnt"] as? Int },
                records.stats?[path: "detect", "alerts_suppressed"] as? Int)
    }

    private func same(_ n: Int, from client: String = "45.77.1.9", to server: String = "192.168.4.20",
                      start: Double = 0, step: Double = 1) -> [(Double, String, String)] {
        (0..<n).map { (start + Double($0) * step, client, server) }
    }

    @Test func limitAllowsTheFirstNPerWindow() throws {
        let result = try alerted(rule("threshold: type limit, track by_src, count 2, seconds 60"), same(5))
        #expect(result.counts == [1, 2])
        #expect(result.suppressed == 3)
    }

    @Test func limitWindowRestarts() throws {
        // Matches at 0, 5, 11 s with a 10 s window: the third starts a new window.
        let probes = [(0.0, "45.77.1.9", "192.168.4.20"), (5, "45.77.1.9", "192.168.4.20"), (11, "45.77.1.9", "192.168.4.20")]
        let result = try alerted(rule("threshold: type limit, track by_src, count 1, seconds 10"), probes)
        #expect(result.counts == [1, 3])
    }

    @Test func thresholdAlertsEveryNthMatch() throws {
        let result = try alerted(rule("threshold: type threshold, track by_src, count 3, seconds 60"), same(7))
        #expect(result.counts == [3, 6])
        #expect(result.suppressed == 5)
    }

    @Test func bothAlertsOncePerWindowAfterN() throws {
        let result = try alerted(rule("threshold: type both, track by_src, count 3, seconds 60"), same(7))
        #expect(result.counts == [3])
        // A new window: again once, at its third match.
        let later = same(4, start: 0, step: 1) + same(4, start: 100, step: 1)
        #expect(try alerted(rule("threshold: type both, track by_src, count 3, seconds 60"), later).counts == [3, 7])
    }

    @Test func detectionFilterAlertsAfterTheNth() throws {
        let result = try alerted(rule("detection_filter: track by_src, count 2, seconds 60"), same(5))
        #expect(result.counts == [3, 4, 5])
        #expect(result.suppressed == 2)
    }

    @Test func detectionFilterWindowRestarts() throws {
        let probes = same(3, step: 1) + same(2, start: 100, step: 1)
        #expect(try alerted(rule("detection_filter: track by_src, count 2, seconds 60"), probes).counts == [3])
    }

    @Test func bySourceCountsEachSourceApart() throws {
        let probes = [(0.0, "45.77.1.9", "192.168.4.20"), (1, "45.77.1.10", "192.168.4.20"),
                      (2, "45.77.1.9", "192.168.4.21"), (3, "45.77.1.10", "192.168.4.21")]
        #expect(try alerted(rule("threshold: type limit, track by_src, count 1, seconds 60"), probes).counts == [1, 2])
    }

    @Test func byDestinationCountsEachDestinationApart() throws {
        let probes = [(0.0, "45.77.1.9", "192.168.4.20"), (1, "45.77.1.10", "192.168.4.20"),
                      (2, "45.77.1.9", "192.168.4.21"), (3, "45.77.1.10", "192.168.4.21")]
        #expect(try alerted(rule("threshold: type limit, track by_dst, count 1, seconds 60"), probes).counts == [1, 3])
    }

    @Test func byRuleCountsEverything() throws {
        let probes = [(0.0, "45.77.1.9", "192.168.4.20"), (1, "45.77.1.10", "192.168.4.20"),
                      (2, "45.77.1.9", "192.168.4.21"), (3, "45.77.1.10", "192.168.4.21")]
        #expect(try alerted(rule("threshold: type limit, track by_rule, count 1, seconds 60"), probes).counts == [1])
    }

    @Test func byBothCountsEachPairApart() throws {
        let probes = [(0.0, "45.77.1.9", "192.168.4.20"), (1, "45.77.1.9", "192.168.4.20"),
                      (2, "45.77.1.9", "192.168.4.21"), (3, "45.77.1.10", "192.168.4.20")]
        #expect(try alerted(rule("threshold: type limit, track by_both, count 1, seconds 60"), probes).counts == [1, 3, 4])
    }

    /// Two rules with the same threshold keep separate counters.
    @Test func countersArePerRule() throws {
        let rules = """
            alert tcp any any -> any 571 (msg:"a"; threshold: type limit, track by_src, count 1, seconds 60; sid:901; rev:1;)
            alert tcp any any -> any 571 (msg:"b"; threshold: type limit, track by_src, count 1, seconds 60; sid:902; rev:1;)
            """
        let h = try EngineHarness(rules: rules)
        for i in 0..<3 { h.feed(Probe(sport: UInt16(30_000 + i)).syn, at: Double(i)) }
        let records = try h.finish()
        #expect(records.ruleAlerts.map(\.sid) == [901, 902])
        #expect(records.ghostportStats?[path: "detect", "alerts_by_sid"] as? [String: Int] == ["901": 1, "902": 1])
        #expect(records.stats?[path: "detect", "alerts_suppressed"] as? Int == 4)
    }

    /// In per-packet mode the same flow's matches count too.
    @Test func perPacketThresholdOnOneFlow() throws {
        let h = try EngineHarness(rules: rule("threshold: type threshold, track by_src, count 2, seconds 60")) { $0.perPacket = true }
        let p = Probe()
        for i in 0..<5 { h.feed(p.syn, at: Double(i)) }
        #expect(try h.finish().ruleAlerts.map { $0["pcap_cnt"] as? Int } == [2, 4])
    }

    /// A suppressed match does not mark the flow alerted.
    @Test func suppressedFlowIsNotAlerted() throws {
        let h = try EngineHarness(rules: rule("detection_filter: track by_src, count 1, seconds 60"))
        h.feed(Probe().syn, at: 0)
        let records = try h.finish()
        #expect(records.ruleAlerts.isEmpty)
        #expect(records.flows.first?.flow?["alerted"] as? Bool == false)
    }
}
