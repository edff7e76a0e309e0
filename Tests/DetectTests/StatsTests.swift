import Detect
import Flow
import Testing
import TestSupport
import Wire

/// The stats record, and the flow table's memory bound.
@Suite struct StatsTests {
    @Test func statsRecordContent() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.1)
        var rejected = p
        rejected.sport = 40002
        h.feed(rejected.syn, at: 1)
        h.feed(rejected.rst, at: 1.1)
        var quiet = p
        quiet.sport = 40003
        h.feed(quiet.udpRequest, at: 2)
        // Two decode events: a truncated IPv4 packet and a UDP header cut short.
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", totalLength: 400, .udp(sport: 1, dport: 53)), at: 3)
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .raw(proto: 17, [0, 53, 0])), at: 4)
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 1, dport: 80)), at: 5)
        let records = try h.finish()

        let statsRecord = try #require(records.events("stats").last)
        #expect(records.last?["event_type"] as? String == "stats")
        #expect(statsRecord["timestamp"] as? String == "2025-06-15T09:12:06.000000+0000")  // the last packet's time
        #expect(statsRecord["flow_id"] == nil && statsRecord["src_ip"] == nil)
        let stats = try #require(records.stats), own = try #require(records.ghostportStats)
        #expect(stats["uptime"] as? Int == 0)
        #expect(own[path: "capture", "ring_waits"] as? Int == 0)
        #expect(stats["capture"] == nil)  // offline: no kernel counters, so no capture section
        #expect(stats[path: "decoder", "pkts"] as? Int == 8)
        // Nested by layer, as Suricata nests its decoder.event.LAYER.EVENT counters.
        let events = try #require(stats[path: "decoder", "event"] as? [String: [String: Int]])
        #expect(events == ["ipv4": ["trunc_pkt": 1], "udp": ["pkt_too_small": 1]])
        #expect(own[path: "flow", "created"] as? Int == 3)
        #expect(own[path: "flow", "watched"] as? Int == 3)
        #expect(own[path: "flow", "evicted"] as? Int == 0)
        #expect(stats[path: "flow", "active"] as? Int == 0)  // all drained at the end
        // Two SYNs, one SYN-ACK, one UDP request; the RST matches no rule.
        #expect(stats[path: "detect", "alert"] as? Int == 4)
        #expect(stats[path: "detect", "alerts_suppressed"] as? Int == 0)
        #expect(own[path: "detect", "alerts_by_sid"] as? [String: Int] == ["9005710": 2, "9005711": 1, "9005712": 1])
        #expect(own[path: "detect", "verdicts"] as? [String: Int] == ["unanswered": 1, "rejected": 1, "answered": 1, "backscatter": 0])
        #expect(own[path: "output", "lost"] as? Int == 0)
        #expect(own[path: "output", "evidence_errors"] as? Int == 0)
    }

    @Test func engineStatsMatchTheRecord() throws {
        let h = try EngineHarness(rules: TestRules.udemon) { $0.countsClients = true }
        h.feed(Probe().syn, at: 0)
        _ = try h.finish()
        #expect(h.engine.stats.alerts == 1)
        #expect(h.engine.stats.alertsBySid == [9_005_710: 1])
        #expect(h.engine.stats.verdicts[Int(Verdict.unanswered.rawValue)] == 1)
        #expect(h.engine.stats.byPort["571/tcp"] == [0, 1, 0, 0, 0])
        #expect(h.engine.watchedFlowsByClient.value(for: IPAddress(parsing: "45.77.1.9")) == 1)
        #expect(h.engine.topClients(10).map(\.address) == [IPAddress(parsing: "45.77.1.9")])
    }

    @Test("clients are counted only when asked (read's summary asks, --quiet and run do not)")
    func clientsCountedOnlyWhenAsked() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        h.feed(Probe().syn, at: 0)
        _ = try h.finish()
        #expect(h.engine.stats.watchedFlows == 1)
        #expect(h.engine.watchedFlowsByClient.isEmpty)
        #expect(h.engine.topClients(10).isEmpty)
    }

    /// A tiny memory bound (the table's floor is 1024 flows) and 5,000 concurrent flows:
    /// evictions are counted, nothing crashes, later flows still get verdicts.
    @Test func flowTableBoundEvicts() throws {
        let h = try EngineHarness(rules: TestRules.udemon) { $0.flowMemoryBytes = 1 }
        #expect(h.engine.flows.capacity == 1024)
        for i in 0..<5000 {
            let client = "45.77.\(i / 250).\(i % 250 + 1)"
            h.feed(Probe(client: client, sport: UInt16(10_000 + i)).syn, at: Double(i) * 0.001)
        }
        let p = Probe(client: "45.99.0.1")
        h.feed(p.syn, at: 6)
        h.feed(p.synAck, at: 6.001)
        let records = try h.finish()
        let stats = try #require(records.stats), own = try #require(records.ghostportStats)
        #expect(own[path: "flow", "created"] as? Int == 5001)
        #expect(own[path: "flow", "evicted"] as? Int == 5001 - 1024)
        #expect(stats[path: "flow", "active"] as? Int == 0)
        #expect(records.ruleAlerts.count == 5002)
        #expect(records.flows.contains { $0["src_ip"] as? String == "45.99.0.1" && $0.ghostport?["verdict"] as? String == "answered" })
    }
}
