import Detect
import Testing
import TestSupport
import Wire

/// Which matches become alerts: once per flow and sid, per packet, pass rules, flow keywords.
@Suite struct MatchingTests {
    private static let anySyn = "alert tcp any any -> any 571 (msg:\"to 571\"; sid:10; rev:1;)"

    @Test func oncePerFlowAndSidByDefault() throws {
        let h = try EngineHarness(rules: Self.anySyn)
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.syn, at: 1)
        h.feed(p.syn, at: 3)
        let records = try h.finish()
        #expect(records.ruleAlerts.count == 1)
        #expect(records.ruleAlerts.first?["pcap_cnt"] as? Int == 1)
        #expect(records.ghostportStats?[path: "detect", "repeats"] as? Int == 2)
        #expect(records.ghostportStats?[path: "detect", "alerts_by_sid"] as? [String: Int] == ["10": 1])
        let flow = try #require(records.flows.first)
        #expect(flow.ghostport?["sids"] as? [Int] == [10])
        #expect(flow.ghostport?["repeats"] as? Int == 2)
    }

    @Test func perPacketAlertsOnEveryMatch() throws {
        let h = try EngineHarness(rules: Self.anySyn) { $0.perPacket = true }
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.syn, at: 1)
        h.feed(p.syn, at: 3)
        let records = try h.finish()
        #expect(records.ruleAlerts.map { $0["pcap_cnt"] as? Int } == [1, 2, 3])
        #expect(records.ghostportStats?[path: "detect", "repeats"] as? Int == 0)
        #expect(records.ghostportStats?[path: "detect", "alerts_by_sid"] as? [String: Int] == ["10": 3])
        #expect(records.flows.first?.ghostport?["sids"] as? [Int] == [10])
    }

    /// A new flow (another source port) alerts again in once-per-flow mode.
    @Test func eachFlowAlertsOnce() throws {
        let h = try EngineHarness(rules: Self.anySyn)
        var p = Probe()
        h.feed(p.syn, at: 0)
        p.sport = 40002
        h.feed(p.syn, at: 1)
        h.feed(p.syn, at: 2)
        #expect(try h.finish().ruleAlerts.count == 2)
    }

    @Test func passRuleSilencesAlerts() throws {
        let rules = """
            pass tcp 10.0.0.0/8 any -> any 571 (msg:"our scanner"; sid:1; rev:1;)
            alert tcp any any -> any 571 (msg:"to 571"; sid:10; rev:1;)
            """
        let h = try EngineHarness(rules: rules)
        h.feed(Probe(client: "10.20.30.40").syn, at: 0)
        h.feed(Probe(client: "45.77.1.9").syn, at: 1)
        let records = try h.finish()
        #expect(records.ruleAlerts.map { $0["src_ip"] as? String } == ["45.77.1.9"])
        #expect(records.ghostportStats?[path: "detect", "alerts_by_sid"] as? [String: Int] == ["10": 1])
        // A pass rule never shows up as an alert of its own.
        #expect(records.alerts(sid: 1).isEmpty)
    }

    /// A pass rule on any port still silences a port-specific alert.
    @Test func passRuleOnAnyPortSilences() throws {
        let rules = """
            alert tcp any any -> any 571 (msg:"to 571"; sid:10; rev:1;)
            pass tcp 10.0.0.0/8 any -> any any (msg:"ours"; sid:2; rev:1;)
            """
        let h = try EngineHarness(rules: rules)
        h.feed(Probe(client: "10.20.30.40").syn, at: 0)
        #expect(try h.finish().ruleAlerts.isEmpty)
    }

    @Test func flowEstablishedMatchesOnlyAfterTheHandshake() throws {
        let rules = "alert tcp any any -> any 571 (msg:\"established to 571\"; flow:established,to_server; sid:20; rev:1;)"
        let h = try EngineHarness(rules: rules) { $0.perPacket = true }
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.1)
        let ackCount = h.feed(p.ack, at: 0.2)
        let dataCount = h.feed(.ipv4(src: p.client, dst: p.server, .tcp(sport: p.sport, dport: 571, flags: [.psh, .ack], payload: [1])), at: 0.3)
        let records = try h.finish()
        #expect(records.ruleAlerts.map { $0["pcap_cnt"] as? Int } == [Int(ackCount), Int(dataCount)])
    }

    @Test func flowNotEstablishedMatchesTheHandshake() throws {
        let rules = "alert tcp any any -> any 571 (msg:\"not established\"; flow:not_established; sid:21; rev:1;)"
        let h = try EngineHarness(rules: rules) { $0.perPacket = true }
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.1)
        h.feed(p.ack, at: 0.2)
        #expect(try h.finish().ruleAlerts.map { $0["pcap_cnt"] as? Int } == [1])
    }

    /// `to_server` is the direction of the flow's first packet, not of the port numbers.
    @Test func toServerAndToClient() throws {
        let rules = """
            alert tcp any any <> any 571 (msg:"to server"; flow:to_server; sid:30; rev:1;)
            alert tcp any any <> any 571 (msg:"to client"; flow:to_client; sid:31; rev:1;)
            """
        let h = try EngineHarness(rules: rules) { $0.perPacket = true }
        let p = Probe()
        h.feed(p.syn, at: 0)
        h.feed(p.synAck, at: 0.1)
        h.feed(p.ack, at: 0.2)
        let records = try h.finish()
        #expect(records.ruleAlerts.map { [$0["pcap_cnt"] as? Int, $0.sid] } == [[1, 30], [2, 31], [3, 30]])
    }

    /// A UDP flow is established once both sides spoke.
    @Test func udpEstablishedAfterAReply() throws {
        let rules = "alert udp any 571 -> any any (msg:\"reply\"; flow:established,to_client; sid:40; rev:1;)"
        let h = try EngineHarness(rules: rules)
        let p = Probe()
        h.feed(p.udpRequest, at: 0)
        h.feed(p.udpReply, at: 0.1)
        let records = try h.finish()
        #expect(records.ruleAlerts.map { $0["pcap_cnt"] as? Int } == [2])
    }

    @Test func flagsKeywordSelectsTheSegment() throws {
        let rules = "alert tcp any any -> any 571 (msg:\"syn\"; flags:S,CE; sid:50; rev:1;)"
        let h = try EngineHarness(rules: rules) { $0.perPacket = true }
        let p = Probe()
        h.feed(p.ack, at: 0)  // midstream ACK: not a SYN
        h.feed(.ipv4(src: p.client, dst: p.server, .tcp(sport: 40100, dport: 571, flags: [.syn, .ece, .cwr])), at: 1)
        h.feed(.ipv4(src: p.client, dst: p.server, .tcp(sport: 40101, dport: 571, flags: [.syn, .fin])), at: 2)
        #expect(try h.finish().ruleAlerts.map { $0["pcap_cnt"] as? Int } == [2])
    }

    /// Two rules matching one packet alert in ruleset order; the flow lists them in that order.
    @Test func severalRulesOnOnePacket() throws {
        let rules = """
            alert tcp any any -> any 571 (msg:"b"; sid:61; rev:1;)
            alert tcp any any -> 192.168.0.0/16 571 (msg:"a"; sid:60; rev:1;)
            """
        let h = try EngineHarness(rules: rules)
        h.feed(Probe().syn, at: 0)
        let records = try h.finish()
        #expect(records.ruleAlerts.map(\.sid) == [61, 60])
        #expect(records.flows.first?.ghostport?["sids"] as? [Int] == [61, 60])
    }

    /// Rule addresses: $HOME_NET and negation.
    @Test func addressVariables() throws {
        let rules = "alert tcp $EXTERNAL_NET any -> $HOME_NET 571 (msg:\"in\"; sid:70; rev:1;)"
        let h = try EngineHarness(rules: rules)
        h.feed(Probe(client: "45.77.1.9", server: "192.168.4.20").syn, at: 0)
        h.feed(Probe(client: "10.1.1.1", server: "192.168.4.20").syn, at: 1)
        h.feed(Probe(client: "45.77.1.9", server: "8.8.8.8").syn, at: 2)
        #expect(try h.finish().ruleAlerts.map { $0["pcap_cnt"] as? Int } == [1])
    }
}
