import Foundation
import Detect
import Flow
import Testing
import TestSupport
import Wire

/// The alert record: raised at the first matching packet, every EVE field Suricata writes.
@Suite struct AlertRecordTests {
    @Test func alertAtTheFirstMatchingPacketWithEveryField() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe()
        // Unrelated traffic first, so pcap_cnt is not 1.
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 53, dport: 53)), at: 0)
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 1234, dport: 80)), at: 0.5)
        let synCount = h.feed(Packet.ethernet(p.syn), at: 1, nanoseconds: 123_456_789)
        h.feed(p.synAck, at: 1.25)
        let records = try h.finish()

        let alerts = records.ruleAlerts
        #expect(alerts.map(\.sid) == [9_005_710, 9_005_711])
        let alert = try #require(alerts.first)
        #expect(alert["timestamp"] as? String == "2025-06-15T09:12:02.123456+0000")
        #expect(alert["pcap_cnt"] as? Int == Int(synCount))
        #expect(alert["event_type"] as? String == "alert")
        #expect(alert["src_ip"] as? String == "45.77.1.9")
        #expect(alert["src_port"] as? Int == 40001)
        #expect(alert["dest_ip"] as? String == "192.168.4.20")
        #expect(alert["dest_port"] as? Int == 571)
        #expect(alert["proto"] as? String == "TCP")
        #expect(alert["ip_v"] as? Int == 4)
        #expect(alert["pkt_src"] as? String == "wire/pcap")
        #expect(alert["pcap_filename"] as? String == "test.pcap")
        #expect(alert["vlan"] == nil)
        #expect(alert["icmp_type"] == nil)
        #expect(alert["in_iface"] == nil)

        let expectedID = CommunityID.compute(src: IPAddress(parsing: "45.77.1.9"), dst: IPAddress(parsing: "192.168.4.20"),
                                             proto: 6, sport: 40001, dport: 571)
        #expect(alert["community_id"] as? String == expectedID)
        #expect(expectedID.hasPrefix("1:") && expectedID.count == 30)

        let body = try #require(alert.alert)
        #expect(body["action"] as? String == "allowed")
        #expect(body["gid"] as? Int == 1)
        #expect(body["signature_id"] as? Int == 9_005_710)
        #expect(body["rev"] as? Int == 1)
        #expect(body["signature"] as? String == "GHOSTPORT probe to abandoned port 571/tcp (meter, udemon)")
        #expect(body["category"] as? String == "Attempted Information Leak")
        #expect(body["severity"] as? Int == 3)
        #expect(body["metadata"] as? [String: [String]] == ["ghostport_role": ["probe"], "service": ["meter"]])

        // ghostport's view at the alert: a probe rule on a watched port, not yet answered.
        #expect(alert.ghostport?["kind"] as? String == "probe")
        #expect(alert.ghostport?["verdict"] as? String == "probe")
        #expect(alert.ghostport?["watched_port"] as? Int == 571)
        #expect(alert.ghostport?["service"] as? String == "meter")

        // The flow as it stood at the alert: the SYN only.
        let flowAtAlert = try #require(alert.flow)
        #expect(flowAtAlert["pkts_toserver"] as? Int == 1)
        #expect(flowAtAlert["pkts_toclient"] as? Int == 0)
        #expect(flowAtAlert["bytes_toserver"] as? Int == Packet.ethernet(p.syn).count)
        #expect(flowAtAlert["start"] as? String == "2025-06-15T09:12:02.123456+0000")

        // The answer alert: from the server, severity from priority:1, the classtype's category.
        let answer = alerts[1]
        #expect(answer["src_ip"] as? String == "192.168.4.20")
        #expect(answer["src_port"] as? Int == 571)
        #expect(answer.alert?["severity"] as? Int == 1)
        #expect(answer.alert?["category"] as? String == "Information Leak")
        #expect(answer["community_id"] as? String == expectedID)
        #expect(answer.ghostport?["kind"] as? String == "answered")
        #expect(answer.ghostport?["verdict"] as? String == "answered")

        // flow_id: the same in both alerts and the flow record.
        let flowID = try #require(alert["flow_id"] as? Int)
        #expect(flowID > 0 && flowID < 1 << 51)
        #expect(answer["flow_id"] as? Int == flowID)
        let flow = try #require(records.flows.first)
        #expect(flow["flow_id"] as? Int == flowID)
        #expect(flow["community_id"] as? String == expectedID)
        #expect(flow.flow?["alerted"] as? Bool == true)
        #expect(flow.flow?["pkts_toserver"] as? Int == 1)
        #expect(flow.flow?["pkts_toclient"] as? Int == 1)
        #expect(flow.flow?["end"] as? String == "2025-06-15T09:12:02.250000+0000")
        #expect(flow.flow?["age"] as? Int == 0)
        #expect(flow.flow?["state"] as? String == "new")
        #expect(flow.ghostport?["tcp_state"] as? String == "syn_recv")
        #expect(flow["tcp"] as? NSDictionary
            == ["tcp_flags": "12", "tcp_flags_ts": "02", "tcp_flags_tc": "12", "syn": true, "ack": true, "state": "syn_recv"] as NSDictionary)
        // The flow record's time is when it was logged (the shutdown, at the last packet), as Suricata's.
        #expect(flow["timestamp"] as? String == "2025-06-15T09:12:02.250000+0000")
        #expect(flow.flow?["start"] as? String == alert.flow?["start"] as? String)

        // Suricata's alert fields: the packet's direction, the flow's tuple client to server.
        #expect(alert["direction"] as? String == "to_server" && answer["direction"] as? String == "to_client")
        for record in [alert, answer] {
            #expect(record.flow?["src_ip"] as? String == "45.77.1.9" && record.flow?["src_port"] as? Int == 40001)
            #expect(record.flow?["dest_ip"] as? String == "192.168.4.20" && record.flow?["dest_port"] as? Int == 571)
        }
        #expect(flow.ghostport?["sids"] as? [Int] == [9_005_710, 9_005_711])
        #expect(flow.ghostport?["repeats"] as? Int == 0)
    }

    /// Suricata's header order: timestamp, flow_id, pcap_cnt, event_type, src_ip, src_port,
    /// dest_ip, dest_port, proto, ip_v, pkt_src, community_id, pcap_filename, alert, flow.
    @Test func headerFieldsInSuricataOrder() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        h.feed(Probe().syn, at: 0)
        let line = try #require(try h.lines().first)
        let keys = ["\"timestamp\":", "\"flow_id\":", "\"pcap_cnt\":", "\"event_type\":", "\"src_ip\":", "\"src_port\":",
                    "\"dest_ip\":", "\"dest_port\":", "\"proto\":", "\"ip_v\":", "\"pkt_src\":", "\"community_id\":",
                    "\"pcap_filename\":", "\"alert\":", "\"flow\":"]
        let positions = keys.map { key in line.range(of: key).map { line.distance(from: line.startIndex, to: $0.lowerBound) } ?? -1 }
        #expect(!positions.contains(-1), "missing a key in \(line)")
        #expect(positions == positions.sorted(), "out of order: \(line)")
        #expect(line.hasPrefix("{\"timestamp\":\""))
    }

    @Test func vlanArrayAndIPv6() throws {
        let h = try EngineHarness(rules: TestRules.udemon)
        let p = Probe6()
        h.feed(Packet.ethernet(vlans: [.dot1ad(100), .dot1q(200)], p.syn), at: 0)
        let records = try h.finish()
        let alert = try #require(records.ruleAlerts.first)
        #expect(alert["vlan"] as? [Int] == [100, 200])
        #expect(alert["ip_v"] as? Int == 6)
        #expect(alert["src_ip"] as? String == "2001:db8::1")
        #expect(alert["dest_ip"] as? String == "2001:db8:0:1::53")
        #expect(alert["proto"] as? String == "TCP")
        let expectedID = CommunityID.compute(src: IPAddress(parsing: p.client), dst: IPAddress(parsing: p.server),
                                             proto: 6, sport: p.sport, dport: p.dport)
        #expect(alert["community_id"] as? String == expectedID)
        // The flow record keys on the outer tag only.
        let flow = try #require(records.flows.first)
        #expect(flow["vlan"] as? [Int] == [100])
        #expect(flow["flow_id"] as? Int == alert["flow_id"] as? Int)
    }

    @Test func udpAndSctpProtoNames() throws {
        let rules = """
            alert udp any any -> any 571 (msg:"udp"; sid:1; rev:1;)
            alert sctp any any -> any 571 (msg:"sctp"; sid:2; rev:1;)
            """
        let h = try EngineHarness(rules: rules)
        h.feed(Probe().udpRequest, at: 0)
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .sctp(sport: 2905, dport: 571)), at: 1)
        let alerts = try h.finish().ruleAlerts
        #expect(alerts.map { $0["proto"] as? String } == ["UDP", "SCTP"])
        #expect(alerts.map { $0["dest_port"] as? Int } == [571, 571])
        #expect(alerts[1]["community_id"] as? String
                == CommunityID.compute(src: IPAddress(parsing: "10.0.0.1"), dst: IPAddress(parsing: "10.0.0.2"),
                                       proto: 132, sport: 2905, dport: 571))
    }

    @Test func icmpAlertsCarryTypeAndCodeNotPorts() throws {
        let rules = """
            alert icmp any any -> any any (msg:"icmp"; sid:3; rev:2; classtype:misc-activity;)
            """
        let h = try EngineHarness(rules: rules)
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmpEcho()), at: 0)
        h.feed(.ipv6(src: "2001:db8::1", dst: "2001:db8::2", .icmpv6Echo()), at: 1)
        let alerts = try h.finish().ruleAlerts
        #expect(alerts.count == 2)
        let v4 = try #require(alerts.first)
        #expect(v4["proto"] as? String == "ICMP")
        #expect(v4["icmp_type"] as? Int == 8)
        #expect(v4["icmp_code"] as? Int == 0)
        #expect(v4["src_port"] == nil && v4["dest_port"] == nil)
        #expect(v4.alert?["rev"] as? Int == 2)
        #expect(v4.alert?["category"] as? String == "Misc activity")
        #expect(v4["community_id"] as? String
                == CommunityID.compute(src: IPAddress(parsing: "10.0.0.1"), dst: IPAddress(parsing: "10.0.0.2"),
                                       proto: 1, sport: 8, dport: 0))
        let v6 = alerts[1]
        #expect(v6["proto"] as? String == "IPv6-ICMP")
        #expect(v6["icmp_type"] as? Int == 128)
        #expect(v6["ip_v"] as? Int == 6)
    }

    @Test func ruleWithoutMetadataHasNoMetadataObject() throws {
        let h = try EngineHarness(rules: "alert tcp any any -> any 571 (msg:\"plain\"; sid:7;)")
        h.feed(Probe().syn, at: 0)
        let alert = try #require(try h.finish().ruleAlerts.first)
        #expect(alert.alert?["metadata"] == nil)
        #expect(alert.alert?["category"] as? String == "")
        #expect(alert.alert?["severity"] as? Int == 3)
        #expect(alert.alert?["rev"] as? Int == 0)
    }

    @Test func messageEscapesSurviveJSON() throws {
        let h = try EngineHarness(rules: #"alert tcp any any -> any 571 (msg:"a \"quoted\" \; \\ msg"; sid:8; rev:1;)"#)
        h.feed(Probe().syn, at: 0)
        let alert = try #require(try h.finish().ruleAlerts.first)
        #expect(alert.alert?["signature"] as? String == #"a "quoted" ; \ msg"#)
    }

    @Test func communityIDSeedIsUsed() throws {
        let h = try EngineHarness(rules: TestRules.udemon, records: { $0.communityIDSeed = 7 })
        h.feed(Probe().syn, at: 0)
        let records = try h.finish()
        let expectedID = CommunityID.compute(seed: 7, src: IPAddress(parsing: "45.77.1.9"), dst: IPAddress(parsing: "192.168.4.20"),
                                             proto: 6, sport: 40001, dport: 571)
        #expect(records.ruleAlerts.first?["community_id"] as? String == expectedID)
        #expect(records.flows.first?["community_id"] as? String == expectedID)
    }

    @Test func interfaceNameGoesToInIface() throws {
        let h = try EngineHarness(rules: TestRules.udemon, records: { $0.interface = "eth0" })
        h.feed(Probe().syn, at: 0)
        let records = try h.finish()
        #expect(records.ruleAlerts.first?["in_iface"] as? String == "eth0")
        #expect(records.flows.first?["in_iface"] as? String == "eth0")
    }

    @Test func anomalyRecordsWhenAsked() throws {
        let h = try EngineHarness(rules: TestRules.udemon) { $0.anomalies = true }
        // An IPv4 header whose total length claims more than the frame holds.
        h.feed(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", totalLength: 400, .udp(sport: 1, dport: 571)), at: 0)
        let records = try h.finish()
        let anomaly = try #require(records.events("anomaly").first)
        #expect(anomaly["anomaly"] as? [String: String] == ["type": "decode", "event": "decoder.ipv4.trunc_pkt"])
        #expect(anomaly["pkt_src"] as? String == "wire/pcap")
        #expect(anomaly["pcap_cnt"] as? Int == 1)
    }
}
