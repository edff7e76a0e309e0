import Detect
import Testing
import TestSupport

/// Engine bugs the first round of engine tests found, each pinned by the input that showed it.
@Suite("Engine regressions") struct EngineRegressionTests {
    /// A watched flow the table evicts to make room still ends: its flow record is written and its
    /// verdict counted, as for a flow that timed out or was drained at the end.
    @Test func evictedWatchedFlowsKeepTheirRecordsAndVerdicts() throws {
        let h = try EngineHarness(rules: TestRules.udemon) { $0.flowMemoryBytes = 1 }
        for i in 0..<2000 {
            h.feed(Probe(client: "45.77.\(i / 250).\(i % 250 + 1)", sport: UInt16(10_000 + i)).syn, at: Double(i) * 0.001)
        }
        let records = try h.finish()
        #expect(records.ghostportStats?[path: "flow", "evicted"] as? Int == 2000 - 1024)
        #expect(records.flows.count == 2000)
        #expect(records.ghostportStats?[path: "detect", "verdicts"] as? [String: Int] == ["unanswered": 2000, "rejected": 0, "answered": 0, "backscatter": 0])
    }

    /// A flow matching more sids than `AlertedSids` holds inline still alerts once per sid.
    @Test func moreThanEightSidsStillOncePerFlow() throws {
        let rules = (1...9).map { "alert tcp any any -> any 571 (msg:\"r\($0)\"; sid:\(1000 + $0); rev:1;)" }.joined(separator: "\n")
        let h = try EngineHarness(rules: rules)
        let p = Probe()
        for i in 0..<3 { h.feed(p.syn, at: Double(i)) }
        let records = try h.finish()
        #expect(records.ruleAlerts.count == 9)
        #expect(records.ruleAlerts.filter { $0.sid == 1009 }.count == 1)
    }

    /// A match a threshold held back does not use up the flow's one alert for that sid: the
    /// first match the filter lets through alerts.
    @Test func suppressedFirstMatchDoesNotSilenceTheFlow() throws {
        let rule = "alert tcp any any -> any 571 (msg:\"df\"; detection_filter: track by_src, count 1, seconds 60; sid:900; rev:1;)"
        let h = try EngineHarness(rules: rule)
        let p = Probe()
        for i in 0..<3 { h.feed(p.syn, at: Double(i)) }
        #expect(try h.finish().ruleAlerts.map { $0["pcap_cnt"] as? Int } == [2])
    }

    /// `ghostport.sids` lists the sids the flow alerted on, not ones a threshold held back.
    @Test func suppressedSidIsNotListed() throws {
        let rule = "alert tcp any any -> any 571 (msg:\"df\"; detection_filter: track by_src, count 1, seconds 60; sid:900; rev:1;)"
        let h = try EngineHarness(rules: rule)
        h.feed(Probe().syn, at: 0)
        let records = try h.finish()
        #expect(records.ruleAlerts.isEmpty)
        #expect(records.flows.first?.ghostport?["sids"] as? [Int] == [])
    }

    /// An ICMP port unreachable refuses a UDP flow; it is not the server speaking, so the flow is
    /// not established and `flow:established` rules do not match the client's retry.
    @Test func icmpRefusalDoesNotEstablishAUdpFlow() throws {
        let rules = "alert udp any any -> any 571 (msg:\"established udp\"; flow:established,to_server; sid:41; rev:1;)"
        let h = try EngineHarness(rules: rules)
        let p = Probe()
        h.feed(p.udpRequest, at: 0)
        h.feed(p.icmpError(quoting: p.udpRequest), at: 0.001)
        h.feed(p.udpRequest, at: 1)  // the retry
        let records = try h.finish()
        #expect(records.ruleAlerts.isEmpty)
        #expect(records.flows.first?.flow?["state"] as? String == "new")
        #expect(records.verdicts == ["rejected"])
    }

    /// As the rules issue specifies (Suricata's default action order, per packet): a pass rule
    /// silences the alerts of the packets it matches, not the rest of the flow.
    @Test func passRuleSilencesOnlyThePacketsItMatches() throws {
        let rules = "pass tcp 10.0.0.0/8 any -> any 571 (msg:\"ours\"; sid:1; rev:1;)\n" + TestRules.udemon
        let h = try EngineHarness(rules: rules)
        let p = Probe(client: "10.9.9.9")
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.001)
        let sids = try h.finish().ruleAlerts.compactMap { ($0["alert"] as? [String: Any])?["signature_id"] as? Int }
        #expect(sids == [9005711])
    }
}
