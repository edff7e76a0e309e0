import Detect
import Flow
import Rules
import Testing
import TestSupport
import Wire

/// The capture side's filter: only packets some rule could match reach the engine.
@Suite struct PrefilterTests {
    private func ruleSet(_ text: String) -> RuleSet {
        let (rules, errors) = RuleLoader.load(text: text)
        #expect(errors.isEmpty)
        return rules
    }

    private func decoded(_ network: Network) -> DecodedPacket {
        Decoder.decode(Packet.ethernet(network), linkType: .ethernet)
    }

    private func admits(_ prefilter: inout Prefilter, _ frame: [UInt8]) -> Bool {
        frame.withUnsafeBytes { prefilter.admits($0, linkType: .ethernet, originalLength: frame.count) }
    }

    @Test func watchedPortPacketsAreWantedOthersNot() {
        let interest = Interest(rules: ruleSet(TestRules.udemon))
        let p = Probe()
        #expect(interest.wants(decoded(p.syn)))
        #expect(interest.wants(decoded(p.synAck)))  // from the port: the answer rule's side
        #expect(interest.wants(decoded(p.udpRequest)))
        #expect(interest.wants(decoded(Probe6().syn)))
        #expect(!interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 40000, dport: 80)))))
        #expect(!interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 53, dport: 53)))))
        #expect(!interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .sctp(sport: 2905, dport: 571)))))
        #expect(!interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmpEcho()))))
        #expect(!interest.everything)
    }

    @Test func protocolsAreSeparate() {
        let interest = Interest(rules: ruleSet("alert udp any any -> any 572 (msg:\"u\"; sid:1;)"))
        #expect(interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 1000, dport: 572)))))
        #expect(!interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 1000, dport: 572)))))
    }

    @Test func ipRulesAdmitEverything() {
        let interest = Interest(rules: ruleSet("alert ip any any -> 10.0.0.0/8 any (msg:\"ip\"; sid:1;)"))
        #expect(interest.everything)
        #expect(interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 40000, dport: 80)))))
        #expect(interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .raw(proto: 47, [0, 0, 0x08, 0])))))
    }

    @Test func icmpRulesAdmitICMP() {
        let interest = Interest(rules: ruleSet("alert icmp any any -> any any (msg:\"icmp\"; sid:1;)"))
        #expect(interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmpEcho()))))
        #expect(interest.wants(decoded(.ipv6(src: "2001:db8::1", dst: "2001:db8::2", .icmpv6Echo()))))
        #expect(!interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 53, dport: 53)))))
    }

    @Test func anyPortRuleAdmitsItsWholeProtocol() {
        let interest = Interest(rules: ruleSet("alert tcp 10.0.0.0/8 any -> any any (msg:\"t\"; sid:1;)"))
        #expect(interest.wants(decoded(.ipv4(src: "192.168.0.1", dst: "192.168.0.2", .tcp(sport: 1, dport: 2)))))
        #expect(!interest.wants(decoded(.ipv4(src: "192.168.0.1", dst: "192.168.0.2", .udp(sport: 1, dport: 2)))))
    }

    @Test func portRangesAndSourcePorts() {
        let interest = Interest(rules: ruleSet("""
            alert tcp any [1000:1010] -> any any (msg:"from a range"; sid:1;)
            alert tcp any any -> any [!1:65000] (msg:"high ports"; sid:2;)
            """))
        #expect(interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 1005, dport: 80)))))
        #expect(interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 80, dport: 1005)))))
        #expect(interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 80, dport: 65001)))))
        #expect(!interest.wants(decoded(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 80, dport: 443)))))
    }

    @Test func prefilterAdmitsCandidatesAndCountsTheRest() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        var prefilter = h.engine.makePrefilter()
        let p = Probe()
        #expect(admits(&prefilter, Packet.ethernet(p.syn)))
        #expect(admits(&prefilter, Packet.ethernet(p.synAck)))
        // An ICMP error is admitted whatever it quotes: the engine decides which flow it is about.
        #expect(admits(&prefilter, Packet.ethernet(p.icmpError(quoting: p.udpRequest))))
        let web = Packet.ethernet(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 40000, dport: 80)))
        let arp = Packet.ethernet(.raw(etherType: 0x0806, [UInt8](repeating: 0, count: 28)))
        #expect(!admits(&prefilter, web))
        #expect(!admits(&prefilter, arp))
        #expect(prefilter.counters.packets == 2)
        #expect(prefilter.counters.bytes == UInt64(web.count + arp.count))
        #expect(prefilter.counters.uninspected == 1)  // ARP has no IP layer

        // What it turned away shows in the engine's stats.
        h.engine.turnedAway = prefilter.counters
        let records = try h.finish()
        #expect(records.stats?[path: "decoder", "pkts"] as? Int == 2)
        #expect(records.ghostportStats?[path: "detect", "uninspected"] as? Int == 1)
    }

    @Test("the hints the prefilter gives are the engine's own hashes: the flow table's, the source tables'")
    func prefilterHintsAreTheEnginesHashes() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        var prefilter = h.engine.makePrefilter()
        let p = Probe()
        for packet in [p.syn, p.synAck, p.udpRequest] {
            let frame = Packet.ethernet(packet)
            #expect(admits(&prefilter, frame))
            let decoded = decoded(packet)
            let key = try #require(FlowKey.of(decoded)).key
            #expect(prefilter.flowHint == key.hash(seed: h.engine.flows.seed))
            #expect(prefilter.sourceHint == AddressTableHash.of(decoded.src, seed: h.engine.flows.seed))
            #expect(prefilter.sourceHint != 0)
        }
    }

    @Test func prefilterKeepsDecodeEventsOnlyForAnomalies() {
        // A truncated IPv4 packet to an unwatched port.
        let broken = Packet.ethernet(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", totalLength: 400, .udp(sport: 1, dport: 53)))
        let interest = Interest(rules: ruleSet(TestRules.udemon))
        var quiet = Prefilter(interest: interest, keepsAnomalies: false, flowSeed: 0)
        #expect(!admits(&quiet, broken))
        #expect(quiet.counters.decodeEvents[Int(DecodeEvent.ipv4TruncPkt.rawValue)] == 1)
        var loud = Prefilter(interest: interest, keepsAnomalies: true, flowSeed: 0)
        #expect(admits(&loud, broken))
        #expect(loud.counters.packets == 0)
    }

    /// The engine applies the same filter: unwanted packets are counted, not tracked.
    @Test func engineCountsUninspectedPackets() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 40000, dport: 80)), at: 0)
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 53, dport: 53)), at: 0.1)
        h.feed(Probe().syn, at: 0.2)
        let records = try h.finish()
        #expect(records.ghostportStats?[path: "detect", "uninspected"] as? Int == 2)
        #expect(records.ghostportStats?[path: "flow", "created"] as? Int == 1)
        #expect(records.stats?[path: "decoder", "pkts"] as? Int == 3)
    }
}
