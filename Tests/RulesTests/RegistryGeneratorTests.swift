import Testing
@testable import Rules

private func entry(
    _ port: UInt16, _ proto: RegistryProtocol, _ service: String = "meter",
    status: RegistryStatus = .abandoned, description: String = "udemon"
) -> RegistryEntry {
    RegistryEntry(port: port, proto: proto, service: service, status: status,
                  nmapFrequency: NmapFrequency(millionths: 13), description: description, note: "test")
}

@Suite("Rule generation")
struct RegistryGeneratorTests {
    @Test("571/tcp gives exactly the six documented rules: probes with and without SYN, answers, no handshake")
    func meterTCP() {
        #expect(RuleGenerator.rules(for: entry(571, .tcp)) == [
            #"alert tcp any any -> any 571 (msg:"GHOSTPORT probe to abandoned port 571/tcp (meter, udemon)"; flow:to_server; flags:+S; classtype:attempted-recon; priority:3; metadata:ghostport_role probe, service meter; sid:9005710; rev:2;)"#,
            #"alert tcp any any -> any 571 (msg:"GHOSTPORT probe without SYN to abandoned port 571/tcp (meter, udemon)"; flow:to_server; flow.pkts:toserver,1; flow.pkts:toclient,0; flags:!S; classtype:attempted-recon; priority:3; metadata:ghostport_role probe, service meter; sid:9005716; rev:1;)"#,
            #"alert tcp any any -> any 571 (msg:"GHOSTPORT handshake with abandoned port 571/tcp, only the client's side seen (meter, udemon)"; flow:to_server,established; flow.pkts:toclient,0; classtype:successful-recon-limited; priority:1; metadata:ghostport_role answered, service meter; sid:9005719; rev:1;)"#,
            #"alert tcp any 571 -> any any (msg:"GHOSTPORT answer from abandoned port 571/tcp (meter, udemon)"; flow:to_client; flow.pkts:toserver,>0; flags:+SA; classtype:successful-recon-limited; priority:1; metadata:ghostport_role answered, service meter; sid:9005711; rev:3;)"#,
            #"alert tcp any 571 -> any any (msg:"GHOSTPORT data from abandoned port 571/tcp with no handshake seen (meter, udemon)"; flow:to_client,not_established; dsize:>0; classtype:successful-recon-limited; priority:1; metadata:ghostport_role answered, service meter; sid:9005717; rev:1;)"#,
            #"alert tcp any 571 -> any any (msg:"GHOSTPORT unsolicited packet from abandoned port 571/tcp (meter, udemon)"; flow:to_client; flow.pkts:toserver,0; flow.pkts:toclient,1; dsize:0; classtype:misc-activity; priority:2; metadata:ghostport_role reply, service meter; sid:9005718; rev:2;)"#,
        ])
    }

    @Test("571/udp has no flags and its own sids")
    func meterUDP() {
        #expect(RuleGenerator.rules(for: entry(571, .udp, status: .curated)) == [
            #"alert udp any any -> any 571 (msg:"GHOSTPORT probe to abandoned port 571/udp (meter, udemon)"; flow:to_server; classtype:attempted-recon; priority:3; metadata:ghostport_role probe, service meter; sid:9005712; rev:1;)"#,
            #"alert udp any 571 -> any any (msg:"GHOSTPORT answer from abandoned port 571/udp (meter, udemon)"; flow:to_client; classtype:successful-recon-limited; priority:1; metadata:ghostport_role answered, service meter; sid:9005713; rev:1;)"#,
        ])
    }

    @Test("SCTP has no flags; low-use ports say so; a description equal to the name is not repeated")
    func sctpAndLowUse() {
        #expect(RuleGenerator.rule(for: entry(22, .sctp, "ssh", description: ""), kind: .sctpProbe)
            == #"alert sctp any any -> any 22 (msg:"GHOSTPORT probe to abandoned port 22/sctp (ssh)"; flow:to_server; classtype:attempted-recon; priority:3; metadata:ghostport_role probe, service ssh; sid:9000224; rev:1;)"#)
        #expect(RuleGenerator.rule(for: entry(9, .udp, "discard", status: .lowUse, description: "Discard"), kind: .udpAnswer)
            == #"alert udp any 9 -> any any (msg:"GHOSTPORT answer from low-use port 9/udp (discard)"; flow:to_client; classtype:successful-recon-limited; priority:1; metadata:ghostport_role answered, service discard; sid:9000093; rev:1;)"#)
    }

    @Test("quotes, semicolons and backslashes in a description are escaped in msg")
    func escapesMsg() {
        let rule = RuleGenerator.rule(for: entry(7, .tcp, "x", description: #"a "b"; c\d"#), kind: .tcpProbe)
        #expect(rule.contains(#"msg:"GHOSTPORT probe to abandoned port 7/tcp (x, a \"b\"\; c\\d)";"#))
        #expect(RuleGenerator.escapedMsg("tab\there") == "tab here")
    }

    @Test("sids follow 9000000 + port*10 + k for every protocol and kind")
    func sidFormula() {
        #expect(RuleGenerator.sid(for: RegistryKey(port: 571, proto: .tcp), kind: .tcpProbe) == 9_005_710)
        #expect(RuleGenerator.sid(for: RegistryKey(port: 571, proto: .tcp), kind: .tcpProbeWithoutSYN) == 9_005_716)
        #expect(RuleGenerator.sid(for: RegistryKey(port: 571, proto: .tcp), kind: .tcpClientOnlyHandshake) == 9_005_719)
        #expect(RuleGenerator.sid(for: RegistryKey(port: 1, proto: .tcp), kind: .tcpProbe) == 9_000_010)
        #expect(RuleGenerator.sid(for: RegistryKey(port: 517, proto: .udp), kind: .udpAnswer) == 9_005_173)
        #expect(RuleGenerator.sid(for: RegistryKey(port: 9, proto: .sctp), kind: .sctpProbe) == 9_000_094)
        #expect(RuleGenerator.sid(for: RegistryKey(port: 65535, proto: .sctp), kind: .sctpAnswer) == 9_655_355)
    }

    @Test("sids are unique over every port, protocol and kind; each protocol has its own kinds")
    func sidsUnique() {
        var seen = Set<Int>()
        for port in UInt16(1)...UInt16.max {
            for proto in RegistryProtocol.allCases {
                for kind in RegistryRuleKind.kinds(for: proto) {
                    #expect(seen.insert(RuleGenerator.sid(for: RegistryKey(port: port, proto: proto), kind: kind)).inserted)
                }
            }
        }
        #expect(seen.count == 65535 * 10)
        #expect(Set(RegistryProtocol.allCases.flatMap { RegistryRuleKind.kinds(for: $0) }) == Set(RegistryRuleKind.allCases))
    }

    /// The sid of every rule line, keyed by the rule's msg.
    private func sidsByMessage(_ ruleset: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in ruleset.split(separator: "\n") where line.hasPrefix("alert ") {
            let msg = line.split(separator: "msg:\"")[1].split(separator: "\"")[0]
            let sid = line.split(separator: "sid:")[1].split(separator: ";")[0]
            result[String(msg)] = String(sid)
        }
        return result
    }

    @Test("adding or removing entries never renumbers the others")
    func sidStability() {
        let before = Registry(entries: [entry(571, .tcp), entry(95, .tcp, "supdup"), entry(9, .sctp, "discard")])
        var grown = before.entries
        grown.insert(entry(3, .tcp, "compressnet"), at: 0)
        grown.append(entry(571, .udp))
        let after = Registry(entries: grown.filter { $0.key != RegistryKey(port: 95, proto: .tcp) })
        let old = sidsByMessage(RuleGenerator.ruleset(for: before, source: "r.tsv"))
        let new = sidsByMessage(RuleGenerator.ruleset(for: after, source: "r.tsv"))
        #expect(new.count == 16)  // six rules for each TCP entry, two for UDP and SCTP
        for (msg, sid) in old where !msg.contains("95/tcp") {
            #expect(new[msg] == sid, "\(msg) renumbered")
        }
        #expect(Set(new.values).count == new.count)
    }

    @Test("the ruleset is deterministic, sorted by port then protocol, and leaves excluded entries out")
    func rulesetShape() {
        let entries = [
            entry(571, .udp), entry(853, .tcp, "domain-s", status: .excluded), entry(571, .tcp),
            entry(9, .sctp, "discard"), entry(9, .udp, "discard", status: .lowUse),
        ]
        let a = RuleGenerator.ruleset(for: Registry(entries: entries), source: "registry.tsv")
        let b = RuleGenerator.ruleset(for: Registry(entries: entries.reversed()), source: "registry.tsv")
        #expect(a == b)
        #expect(a.hasPrefix("""
            # ghostport abandoned-port rules. GENERATED FILE: do not edit by hand.
            # Generated by `ghostport rules generate` from registry.tsv; edit the registry and rerun.
            # 4 watched entries (tcp 1, udp 2, sctp 1), 12 rules.
            # sid = 9000000 + port*10 + k;
            """))
        let sids = a.split(separator: "\n").filter { $0.hasPrefix("alert ") }
            .map { $0.split(separator: "sid:")[1].split(separator: ";")[0] }
        #expect(sids == ["9000092", "9000093", "9000094", "9000095",
                         "9005710", "9005716", "9005719", "9005711", "9005717", "9005718", "9005712", "9005713"])
        #expect(!a.contains("853"))
        #expect(a.contains("\n# 9/udp discard [low-use] nmap_freq=0.000013: test\n"))
    }
}
