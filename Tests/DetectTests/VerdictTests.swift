import Foundation
import Detect
import Testing
import TestSupport
import Wire

/// What became of a flow to a watched port: the `ghostport.verdict` of its flow record and the
/// stats record's counts.
@Suite struct VerdictTests {
    /// The verdicts of the flow records, and the stats record's unanswered/rejected/answered.
    private func outcome(_ records: [[String: Any]]) -> (verdicts: [String], counted: [Int]) {
        let counts = records.ghostportStats?["detect"] as? [String: Any]
        let verdicts = counts?["verdicts"] as? [String: Int] ?? [:]
        return (records.verdicts, [verdicts["unanswered"] ?? -1, verdicts["rejected"] ?? -1, verdicts["answered"] ?? -1])
    }

    @Test func tcpSynAnsweredBySynAckIsAnswered() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.001)
        let records = try h.finish()
        let result = outcome(records)
        #expect(result.verdicts == ["answered"])
        #expect(result.counted == [0, 0, 1])
        let flow = try #require(records.flows.first)
        #expect(flow.ghostport?["watched_port"] as? Int == 571)
        #expect(flow.ghostport?["service"] as? String == "meter")
    }

    @Test func tcpSynAnsweredByRstIsRejected() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.rst, at: 0.001)
        let result = outcome(try h.finish())
        #expect(result.verdicts == ["rejected"])
        #expect(result.counted == [0, 1, 0])
    }

    @Test func tcpSynAloneIsUnansweredAtFinish() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.syn, at: 1)  // the retry
        let records = try h.finish()
        #expect(outcome(records).verdicts == ["unanswered"])
        #expect(outcome(records).counted == [1, 0, 0])
        #expect(records.flows.first?.flow?["reason"] as? String == "shutdown")
        // Suricata's flow state (no handshake yet: new); ghostport's TCP state beside it.
        #expect(records.flows.first?.flow?["state"] as? String == "new")
        #expect(records.flows.first?.ghostport?["tcp_state"] as? String == "syn_sent")
        #expect(records.flows.first?["tcp"] as? NSDictionary
            == ["tcp_flags": "02", "tcp_flags_ts": "02", "tcp_flags_tc": "00", "syn": true, "state": "syn_sent"] as NSDictionary)
    }

    @Test func tcpDataFromTheWatchedPortIsAnswered() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(.ipv4(src: p.server, dst: p.client, .tcp(sport: 571, dport: p.sport, flags: [.psh, .ack], payload: [0x41])), at: 0.1)
        #expect(outcome(try h.finish()).verdicts == ["answered"])
    }

    /// Verdicts only move forward: a listener that answered and then reset still answered.
    @Test func answeredThenResetStaysAnswered() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.001)
        h.feed(p.rst, at: 0.002)
        #expect(outcome(try h.finish()).verdicts == ["answered"])
    }

    @Test func udpRequestAndReplyIsAnswered() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.udpRequest, at: 0)
        h.feed(p.udpReply, at: 0.002)
        let records = try h.finish()
        #expect(outcome(records).verdicts == ["answered"])
        #expect(outcome(records).counted == [0, 0, 1])
        #expect(records.flows.first?.flow?["state"] as? String == "established")
    }

    @Test func udpRequestAloneIsUnanswered() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        h.feed(Probe().udpRequest, at: 0)
        let records = try h.finish()
        #expect(outcome(records).verdicts == ["unanswered"])
        #expect(records.flows.first?.flow?["state"] as? String == "new")
    }

    @Test func udpPortUnreachableQuotingTheRequestIsRejected() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.udpRequest, at: 0)
        h.feed(p.icmpError(quoting: p.udpRequest), at: 0.003)
        let records = try h.finish()
        #expect(outcome(records).verdicts == ["rejected"])
        #expect(outcome(records).counted == [0, 1, 0])
        // The error is counted on the flow it quotes, towards the client.
        #expect(records.flows.first?.flow?["pkts_toclient"] as? Int == 1)
        #expect(records.flows.count == 1)
    }

    /// A router on the way may send the error: its address is not the server's.
    @Test func portUnreachableFromARouterStillRejects() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.udpRequest, at: 0)
        h.feed(p.icmpError(quoting: p.udpRequest, from: "198.51.100.1"), at: 0.003)
        #expect(outcome(try h.finish()).verdicts == ["rejected"])
    }

    @Test func tcpSynRejectedByICMPIsRejected() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.icmpError(code: 13, quoting: p.syn), at: 0.003)
        #expect(outcome(try h.finish()).verdicts == ["rejected"])
    }

    @Test func ipv6UdpPortUnreachableIsRejected() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe6()
        h.feed(p.udpRequest, at: 0)
        h.feed(p.icmpv6Error(type: 1, code: 4, quoting: p.udpRequest), at: 0.003)
        let records = try h.finish()
        #expect(outcome(records).verdicts == ["rejected"])
        #expect(records.flows.first?["ip_v"] as? Int == 6)
    }

    @Test func ipv6TcpAnsweredAndUdpAnswered() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe6()
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.001)
        h.feed(p.udpRequest, at: 0.002)
        h.feed(p.udpReply, at: 0.003)
        #expect(outcome(try h.finish()).verdicts == ["answered", "answered"])
    }

    /// ICMP destination unreachable codes: port (3) and the administratively prohibited ones
    /// (9, 10, 13) refuse; net, host, protocol unreachable and fragmentation needed do not.
    @Test(arguments: [(UInt8(3), "rejected"), (9, "rejected"), (10, "rejected"), (13, "rejected"),
                      (0, "unanswered"), (1, "unanswered"), (2, "unanswered"), (4, "unanswered")])
    func icmpv4UnreachableCodes(code: UInt8, verdict: String) throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.udpRequest, at: 0)
        h.feed(p.icmpError(type: 3, code: code, quoting: p.udpRequest), at: 0.001)
        #expect(outcome(try h.finish()).verdicts == [verdict])
    }

    /// ICMPv6 destination unreachable: administratively prohibited (1), port unreachable (4),
    /// failed policy (5), reject route (6) refuse; no route (0) and address unreachable (3) do not.
    @Test(arguments: [(UInt8(1), "rejected"), (4, "rejected"), (5, "rejected"), (6, "rejected"),
                      (0, "unanswered"), (3, "unanswered")])
    func icmpv6UnreachableCodes(code: UInt8, verdict: String) throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe6()
        h.feed(p.udpRequest, at: 0)
        h.feed(p.icmpv6Error(type: 1, code: code, quoting: p.udpRequest), at: 0.001)
        #expect(outcome(try h.finish()).verdicts == [verdict])
    }

    @Test func timeExceededDoesNotReject() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.udpRequest, at: 0)
        h.feed(p.icmpError(type: 11, code: 0, quoting: p.udpRequest, from: "198.51.100.1"), at: 0.001)
        #expect(outcome(try h.finish()).verdicts == ["unanswered"])
    }

    @Test func icmpErrorQuotingAnotherFlowDoesNothing() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        var other = p
        other.sport = 40002
        h.feed(p.udpRequest, at: 0)
        h.feed(p.icmpError(quoting: other.udpRequest), at: 0.001)
        let records = try h.finish()
        #expect(outcome(records).verdicts == ["unanswered"])
        #expect(records.flows.count == 1)
        #expect(records.flows.first?.flow?["pkts_toclient"] as? Int == 0)
        #expect(records.ruleAlerts.count == 1)
    }

    /// An error quoting the server's own reply travels towards the server: not a refusal.
    @Test func icmpErrorQuotingTheReplyDoesNotReject() throws {
        let h = try EngineHarness(rules: "alert udp any any -> any 571 (msg:\"probe\"; sid:1; rev:1;)")
        let p = Probe()
        h.feed(p.udpRequest, at: 0)
        h.feed(.ipv4(src: p.client, dst: p.server, .icmpError(type: 3, code: 3, quoting: p.udpReply)), at: 0.001)
        #expect(outcome(try h.finish()).verdicts == ["unanswered"])
    }

    /// Flows to ports nobody watches get no verdict and no flow record.
    @Test func unwatchedFlowsHaveNoVerdict() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        h.feed(.ipv4(src: "45.77.1.9", dst: "192.168.4.20", .tcp(sport: 40001, dport: 80)), at: 0)
        let records = try h.finish()
        #expect(records.flows.isEmpty)
        #expect(outcome(records).counted == [0, 0, 0])
    }

    /// Flows time out in packet time; an idle probe gets its record with reason `timeout`.
    @Test func idleFlowTimesOutWithItsVerdict() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        h.feed(p.syn, at: 0)
        var later = p
        later.sport = 40009
        h.feed(later.syn, at: 45)  // past the 30 s new-flow timeout
        let before = try h.records()
        #expect(before.flows.count == 1)
        #expect(before.flows.first?.flow?["reason"] as? String == "timeout")
        #expect(before.flows.first?["src_port"] as? Int == 40001)
        let records = try h.finish()
        #expect(records.verdicts == ["unanswered", "unanswered"])
    }
}
