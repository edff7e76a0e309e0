import KernelFilter
import Rules
import Testing
import Wire

/// The kernel filter's expression, made from small rule sets.
@Suite struct KernelFilterTests {
    /// Tunnels off unless `tunnels` says otherwise: most tests look at the port terms alone.
    private func filter(_ text: String, anomalies: Bool = false, tunnels: TunnelPorts? = nil)
        -> Result<KernelFilter, KernelFilter.Unavailable>
    {
        let (rules, errors) = RuleLoader.load(text: text)
        #expect(errors.isEmpty)
        var off = TunnelPorts()
        off.enabled = false
        return KernelFilter.make(rules: rules, anomalies: anomalies, tunnels: tunnels ?? off)
    }

    private func expression(_ text: String, tunnels: TunnelPorts? = nil) -> String? {
        guard case .success(let made) = filter(text, tunnels: tunnels) else { return nil }
        return made.expression(vlan: true)
    }

    private func reason(_ text: String, anomalies: Bool = false) -> String? {
        guard case .failure(let unavailable) = filter(text, anomalies: anomalies) else { return nil }
        return unavailable.reason
    }

    @Test func singlePortOnBothSidesPlainAndTagged() throws {
        let text = try #require(expression("alert tcp any any -> any 571 (msg:\"p\"; sid:1;)"))
        // Once untagged, once behind the tag; libpcap's `port` tests either side, IPv4 and IPv6.
        #expect(text.components(separatedBy: "tcp port 571").count - 1 == 2)
        #expect(!text.contains("udp"))
        #expect(!text.contains("portrange"))
        #expect(text.contains(" or (vlan and (not (ip or ip6) or ("))
        #expect(text.hasSuffix("))"))
    }

    @Test func tunnelsKeepWhatMayCarryAWatchedPort() throws {
        var ports = TunnelPorts()
        ports.setVXLAN([4789, 8472])
        ports.teredo = 0
        let text = try #require(expression("alert tcp any any -> any 571 (msg:\"p\"; sid:1;)", tunnels: ports))
        for term in ["ip proto 47", "ip proto 4 ", "ip proto 41", "ip6 proto 47", "ip6 proto 4 ", "ip6 proto 41",
                     "udp dst port 4789", "udp dst port 8472", "udp dst port 6081"] {
            #expect(text.components(separatedBy: term).count - 1 == 2, "\(term): untagged and tagged")
        }
        #expect(!text.contains("3544"))
        let made = try #require(try? filter("alert tcp any any -> any 571 (msg:\"p\"; sid:1;)", tunnels: ports).get())
        #expect(made.summary == "1 tcp port in 1 range, tunnels (GRE, IP in IP, VXLAN 4789/8472, GENEVE 6081)")
        #expect(try #require(expression("alert tcp any any -> any 571 (msg:\"p\"; sid:1;)")).contains("proto 47") == false)
    }

    @Test func neighbouringPortsMergeIntoRanges() throws {
        let rules = (10...13).map { "alert tcp any any -> any \($0) (msg:\"p\"; sid:\($0);)" }
            + ["alert tcp any any -> any 20 (msg:\"p\"; sid:20;)", "alert tcp any any -> any 21 (msg:\"p\"; sid:21;)",
               "alert tcp any 30:40 -> any any (msg:\"p\"; sid:30;)"]
        let text = try #require(expression(rules.joined(separator: "\n")))
        #expect(text.contains("tcp portrange 10-13"))
        #expect(!text.contains("tcp port 11"))
        // Two ports are cheaper as two `port` tests than as a range.
        #expect(text.contains("tcp port 20 or tcp port 21"))
        #expect(text.contains("tcp portrange 30-40"))
        let made = try #require(try? filter(rules.joined(separator: "\n")).get())
        #expect(made.summary == "17 tcp ports in 3 ranges")
    }

    @Test func tcpAndUDPKeepTheirOwnPorts() throws {
        let text = try #require(expression("""
            alert tcp any any -> any 571 (msg:"t"; sid:1;)
            alert udp any any -> any 572 (msg:"u"; sid:2;)
            alert sctp any any -> any 573 (msg:"s"; sid:3;)
            """))
        #expect(text.contains("tcp port 571"))
        #expect(text.contains("udp port 572"))
        #expect(text.contains("sctp port 573"))
        #expect(!text.contains("udp port 571") && !text.contains("tcp port 572"))
    }

    @Test func anyPortRulesMakeItImpossible() {
        #expect(reason("""
            alert tcp any any -> any 571 (msg:"t"; sid:1;)
            alert udp any any -> any any (msg:"u"; sid:7;)
            """) == "rule sid 7 matches any udp port")
        #expect(reason("alert ip any any -> 10.0.0.1 any (msg:\"ip\"; sid:9;)") == "rule sid 9 is an ip rule, which matches any packet")
        #expect(reason("alert tcp any any -> any 571 (msg:\"t\"; sid:1;)", anomalies: true)
                == "anomaly records are on, and they need every packet")
        // One side with any port is fine: the other names the ports.
        #expect(reason("alert tcp any 571 -> any any (msg:\"t\"; sid:1;)") == nil)
    }

    @Test func icmpRulesKeepAllICMPOtherwiseOnlyErrors() throws {
        let withICMP = try #require(expression("""
            alert tcp any any -> any 571 (msg:"t"; sid:1;)
            alert icmp any any -> any any (msg:"i"; sid:2;)
            """))
        #expect(withICMP.contains("icmp or icmp6"))
        #expect(!withICMP.contains("icmp[0] = 3"))
        let without = try #require(expression("alert tcp any any -> any 571 (msg:\"t\"; sid:1;)"))
        #expect(!without.contains("icmp or icmp6"))
        for error in ["icmp[0] = 3", "icmp[0] = 4", "icmp[0] = 5", "icmp[0] = 11", "icmp[0] = 12", "ip6[40] >= 1 and ip6[40] <= 4"] {
            #expect(without.contains(error), "\(error)")
        }
        #expect(without.contains("ip[6:2] & 0x1fff != 0"))
        #expect(without.contains("ip6[6] = 44"))
    }

    @Test func withoutVLANNonIPIsKeptWhole() throws {
        guard case .success(let made) = filter("alert tcp any any -> any 571 (msg:\"t\"; sid:1;)") else {
            Issue.record("no filter")
            return
        }
        let text = made.expression(vlan: false)
        #expect(!text.contains("vlan"))
        #expect(text.hasSuffix(" or not (ip or ip6)"))
    }

    @Test func mergingFillsSmallGapsOnly() {
        let set = PortSet([10...10, 12...12, 20...25, 40...40])
        #expect(KernelFilter.merged(set, gap: 0) == set)
        #expect(KernelFilter.merged(set, gap: 1).ranges == [10...12, 20...25, 40...40])
        #expect(KernelFilter.merged(set, gap: 13).ranges == [10...25, 40...40])
        #expect(KernelFilter.merged(set, gap: 14).ranges == [10...40])
    }
}
