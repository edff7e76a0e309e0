import Rules
import TestSupport
import Testing

/// Loads rules that must all be valid.
func ruleSet(_ text: String, variables: [String: String] = [:],
             sourceLocation: SourceLocation = #_sourceLocation) -> RuleSet {
    let (set, errors) = load(text, variables: variables)
    #expect(errors.map(\.description) == [], sourceLocation: sourceLocation)
    return set
}

extension RuleSet {
    /// Sids of the alerts, or ["pass", sid] when a pass rule won.
    func sids(_ packet: PacketFacts, flow: FlowFacts = .unknown) -> [String] {
        var matches = RuleMatches()
        match(packet, flow: flow, into: &matches)
        if let pass = matches.pass { return ["pass \(rules[pass].sid)"] }
        return matches.alerts.map { "\(rules[$0].sid)" }
    }
}

func tcp(_ src: String, _ sport: UInt16, _ dst: String, _ dport: UInt16, flags: UInt8 = TCPFlagsMatch.syn) -> PacketFacts {
    .ipv4(src: IPAddressText.parseIPv4(src)!, dst: IPAddressText.parseIPv4(dst)!, proto: 6, sport: sport, dport: dport, tcpFlags: flags)
}

func udp(_ src: String, _ sport: UInt16, _ dst: String, _ dport: UInt16) -> PacketFacts {
    .ipv4(src: IPAddressText.parseIPv4(src)!, dst: IPAddressText.parseIPv4(dst)!, proto: 17, sport: sport, dport: dport)
}

@Suite struct PortMatchTests {
    @Test func destinationPortAndProtocol() {
        let set = ruleSet("alert udp any any -> any 571 (sid:1;)")
        #expect(set.sids(udp("1.2.3.4", 40000, "10.0.0.1", 571)) == ["1"])
        #expect(set.sids(udp("1.2.3.4", 40000, "10.0.0.1", 572)) == [])
        #expect(set.sids(tcp("1.2.3.4", 40000, "10.0.0.1", 571)) == [])
    }

    @Test func sourcePortKeyedRules() {
        let set = ruleSet("alert tcp any 571 -> any any (sid:1;)\nalert tcp any 1:1023 -> any 1024: (sid:2;)")
        #expect(set.sids(tcp("10.0.0.1", 571, "1.2.3.4", 40000)) == ["1", "2"])
        #expect(set.sids(tcp("10.0.0.1", 571, "1.2.3.4", 80)) == ["1"])
        #expect(set.sids(tcp("10.0.0.1", 40000, "1.2.3.4", 571)) == [])
    }

    @Test func rangesListsAndNegation() {
        let set = ruleSet("""
            alert tcp any any -> any [80:100,!99] (sid:1;)
            alert tcp any any -> any 1024: (sid:2;)
            alert tcp any any -> any !22 (sid:3;)
            alert tcp any [1:80,![2,4]] -> any any (sid:4;)
            """)
        #expect(set.sids(tcp("1.1.1.1", 5, "2.2.2.2", 98)) == ["1", "3", "4"])
        #expect(set.sids(tcp("1.1.1.1", 4, "2.2.2.2", 99)) == ["3"])
        #expect(set.sids(tcp("1.1.1.1", 3, "2.2.2.2", 65535)) == ["2", "3", "4"])
        #expect(set.sids(tcp("1.1.1.1", 2000, "2.2.2.2", 22)) == [])
    }

    @Test func portsMustBeDecoded() {
        let set = ruleSet("alert tcp any any -> any any (sid:1;)\nalert ip any any -> any any (sid:2;)")
        var fragment = tcp("1.1.1.1", 1, "2.2.2.2", 2)
        fragment.hasPorts = false
        #expect(set.sids(fragment) == ["2"])
        #expect(set.sids(tcp("1.1.1.1", 1, "2.2.2.2", 2)) == ["1", "2"])
    }
}

@Suite struct AddressMatchTests {
    @Test func cidrNegationAndVariables() {
        let set = ruleSet("""
            alert tcp $EXTERNAL_NET any -> $HOME_NET 571 (sid:1;)
            alert tcp [10.0.0.0/24, !10.0.0.5] any -> any 571 (sid:2;)
            alert tcp any any -> !192.168.1.0/24 571 (sid:3;)
            """)
        #expect(set.sids(tcp("8.8.8.8", 1, "192.168.1.10", 571)) == ["1"])
        #expect(set.sids(tcp("10.0.0.4", 1, "192.168.1.10", 571)) == ["2"])
        #expect(set.sids(tcp("10.0.0.5", 1, "192.168.1.10", 571)) == [])
        #expect(set.sids(tcp("10.0.0.5", 1, "192.168.2.10", 571)) == ["3"])
    }

    @Test func ipv6() {
        let set = ruleSet("""
            alert udp 2001:db8::/32 any -> any 571 (sid:1;)
            alert udp any any -> ::1 571 (sid:2;)
            alert udp !2001:db8::/32 any -> any 571 (sid:3;)
            """)
        let inside = PacketFacts.ipv6(src: v6("2001:db8::7"), dst: v6("::1"), proto: 17, sport: 5, dport: 571)
        #expect(set.sids(inside) == ["1", "2"])
        let outside = PacketFacts.ipv6(src: v6("2001:db9::7"), dst: v6("::2"), proto: 17, sport: 5, dport: 571)
        #expect(set.sids(outside) == ["3"])
        // IPv4 0.0.0.1 must not be mistaken for ::1.
        #expect(set.sids(udp("1.1.1.1", 5, "0.0.0.1", 571)) == ["3"])
    }
}

@Suite struct DirectionAndProtocolMatchTests {
    @Test func bidirectionalMatchesEitherWayOnce() {
        let set = ruleSet("""
            alert tcp 10.0.0.1 any <> 1.1.1.1 571 (sid:1;)
            alert tcp any 571 <> any 571 (sid:2;)
            alert tcp any any <> any any (sid:3;)
            """)
        #expect(set.sids(tcp("10.0.0.1", 40000, "1.1.1.1", 571)) == ["1", "3"])
        #expect(set.sids(tcp("1.1.1.1", 571, "10.0.0.1", 40000)) == ["1", "3"])
        #expect(set.sids(tcp("1.1.1.1", 40000, "10.0.0.1", 571)) == ["3"])
        #expect(set.sids(tcp("1.1.1.1", 571, "10.0.0.1", 571)) == ["1", "2", "3"])
    }

    @Test func icmpMatchesV4AndV6() {
        let set = ruleSet("alert icmp any any -> any any (sid:1;)")
        #expect(set.sids(.ipv4(src: 1, dst: 2, proto: 1)) == ["1"])
        #expect(set.sids(.ipv6(src: 1, dst: 2, proto: 58)) == ["1"])
        #expect(set.sids(.ipv4(src: 1, dst: 2, proto: 17, sport: 1, dport: 2)) == [])
    }

    @Test func ipMatchesAnyProtocol() {
        let set = ruleSet("alert ip 10.0.0.0/8 any -> any any (sid:1;)")
        #expect(set.sids(.ipv4(src: 0x0A00_0001, dst: 2, proto: 47)) == ["1"])
        #expect(set.sids(udp("10.1.1.1", 1, "2.2.2.2", 2)) == ["1"])
        #expect(set.sids(udp("11.1.1.1", 1, "2.2.2.2", 2)) == [])
    }

    @Test func sctp() {
        let set = ruleSet("alert sctp any any -> any 571 (sid:1;)")
        #expect(set.sids(.ipv4(src: 1, dst: 2, proto: 132, sport: 9, dport: 571)) == ["1"])
    }
}

@Suite struct PassAndOptionMatchTests {
    @Test func passSilencesAlertsWhateverTheOrder() {
        let set = ruleSet("""
            alert tcp any any -> any 571 (sid:1;)
            alert ip any any -> any any (sid:2;)
            pass tcp 10.0.0.5 any -> any any (sid:3;)
            alert icmp any any -> any any (sid:4;)
            pass ip 10.0.0.6 any -> any any (sid:5;)
            """)
        #expect(set.sids(tcp("10.0.0.5", 1, "2.2.2.2", 571)) == ["pass 3"])
        #expect(set.sids(tcp("10.0.0.6", 1, "2.2.2.2", 571)) == ["pass 5"])
        #expect(set.sids(tcp("10.0.0.7", 1, "2.2.2.2", 571)) == ["1", "2"])
        #expect(set.sids(.ipv4(src: 0x0A00_0006, dst: 2, proto: 1)) == ["pass 5"])
        #expect(set.sids(.ipv4(src: 0x0A00_0007, dst: 2, proto: 1)) == ["2", "4"])
    }

    @Test func flagsAreChecked() {
        let set = ruleSet("""
            alert tcp any any -> any 571 (flags:S; sid:1;)
            alert tcp any any -> any 571 (flags:SA+; sid:2;)
            alert tcp any any -> any 571 (flags:!R; sid:3;)
            alert ip any any -> any any (flags:*FR; sid:4;)
            alert tcp any any -> any 571 (flags:S,CE; sid:5;)
            """)
        let syn = TCPFlagsMatch.syn, ack = TCPFlagsMatch.ack, rst = TCPFlagsMatch.rst
        #expect(set.sids(tcp("1.1.1.1", 1, "2.2.2.2", 571, flags: syn)) == ["1", "3", "5"])
        #expect(set.sids(tcp("1.1.1.1", 1, "2.2.2.2", 571, flags: syn | TCPFlagsMatch.ece)) == ["3", "5"])
        #expect(set.sids(tcp("1.1.1.1", 1, "2.2.2.2", 571, flags: syn | ack)) == ["2", "3"])
        #expect(set.sids(tcp("1.1.1.1", 1, "2.2.2.2", 571, flags: rst | ack)) == ["4"])
        // An `ip` rule with flags only ever matches TCP.
        #expect(set.sids(udp("1.1.1.1", 1, "2.2.2.2", 571)) == [])
    }

    @Test func flowIsChecked() {
        let set = ruleSet("""
            alert tcp any any -> any 571 (flow:to_server,established; sid:1;)
            alert tcp any any -> any 571 (flow:stateless; sid:2;)
            alert tcp any any -> any 571 (flow:not_established; sid:3;)
            """)
        let packet = tcp("1.1.1.1", 1, "2.2.2.2", 571)
        #expect(set.sids(packet, flow: FlowFacts(direction: .toServer, established: true)) == ["1", "2"])
        #expect(set.sids(packet, flow: FlowFacts(direction: .toClient, established: true)) == ["2"])
        #expect(set.sids(packet, flow: FlowFacts(direction: .toServer, established: false)) == ["2", "3"])
        #expect(set.sids(packet) == ["2", "3"])
    }

    @Test func dsizeIsChecked() {
        let set = ruleSet("""
            alert tcp any any -> any 571 (dsize:0; sid:1;)
            alert tcp any any -> any 571 (dsize:>0; sid:2;)
            alert tcp any any -> any 571 (dsize:100<>200; sid:3;)
            alert tcp any any -> any 571 (dsize:!100-200; sid:4;)
            alert tcp any any -> any 571 (dsize:<=100; sid:5;)
            """)
        var packet = tcp("1.1.1.1", 1, "2.2.2.2", 571)
        let table: [(UInt16, [String])] = [
            (0, ["1", "4", "5"]), (1, ["2", "4", "5"]), (100, ["2", "4", "5"]), (101, ["2", "3"]),
            (199, ["2", "3"]), (200, ["2", "4"]), (65535, ["2", "4"]),
        ]
        for (length, expected) in table {
            packet.payloadLength = length
            #expect(set.sids(packet) == expected, "dsize \(length)")
        }
    }

    /// Counts include the packet being matched; a packet with no flow never matches.
    @Test func flowPacketsAreChecked() {
        let set = ruleSet("""
            alert tcp any any -> any 571 (flow.pkts:toserver,1; flow.pkts:toclient,0; sid:1;)
            alert tcp any any -> any 571 (flow.pkts_toserver:>=2; sid:2;)
            alert tcp any any -> any 571 (flow.pkts:either,3; sid:3;)
            alert tcp any any -> any 571 (flow.pkts_toclient:!0; sid:4;)
            """)
        let packet = tcp("1.1.1.1", 1, "2.2.2.2", 571)
        func counts(_ server: UInt32, _ client: UInt32) -> FlowFacts {
            FlowFacts(direction: .toServer, packetsToServer: server, packetsToClient: client)
        }
        #expect(set.sids(packet, flow: counts(1, 0)) == ["1"])
        #expect(set.sids(packet, flow: counts(2, 0)) == ["2"])
        #expect(set.sids(packet, flow: counts(1, 3)) == ["3", "4"])
        #expect(set.sids(packet, flow: counts(3, 1)) == ["2", "3", "4"])
        #expect(set.sids(packet, flow: FlowFacts(direction: .toClient, packetsToServer: 1)) == ["1"])
        #expect(set.sids(packet, flow: FlowFacts(direction: .unknown, packetsToServer: 1)) == [])
        #expect(set.sids(packet) == [])
    }

    @Test func thresholdsAreExposedAsData() throws {
        let set = ruleSet("alert udp any any -> any 571 (threshold: type limit, track by_src, count 1, seconds 60; sid:1;)")
        var matches = RuleMatches()
        set.match(udp("1.1.1.1", 1, "2.2.2.2", 571), into: &matches)
        let index = try #require(matches.alerts.first)
        #expect(set.rules[index].threshold == Threshold(kind: .limit, track: .bySource, count: 1, seconds: 60))
    }

    @Test func bufferIsReusedAcrossPackets() {
        let set = ruleSet("alert udp any any -> any 571 (sid:1;)\npass udp 9.9.9.9 any -> any any (sid:2;)")
        var matches = RuleMatches()
        set.match(udp("9.9.9.9", 1, "2.2.2.2", 571), into: &matches)
        #expect(matches.pass != nil && matches.alerts.isEmpty)
        set.match(udp("1.1.1.1", 1, "2.2.2.2", 571), into: &matches)
        #expect(matches.pass == nil && matches.alerts == [0])
        set.match(udp("1.1.1.1", 1, "2.2.2.2", 572), into: &matches)
        #expect(matches.isEmpty)
    }
}

/// The compiled tables must agree with a rule-by-rule reading of the same rules.
@Suite struct TableAgreesWithNaiveMatchTests {

    /// Integer conditions written as text, with what they mean written independently.
    static let sizes: [(text: String, holds: @Sendable (UInt32) -> Bool)] = [
        ("0", { $0 == 0 }), (">0", { $0 > 0 }), ("<3", { $0 < 3 }), ("!1", { $0 != 1 }), ("1-3", { $0 == 2 }),
        (">=2", { $0 >= 2 }), ("<=1", { $0 <= 1 }), ("!0-2", { $0 != 1 }), ("1<>4", { $0 == 2 || $0 == 3 }),
    ]

    static func naive(_ set: RuleSet, _ packet: PacketFacts, _ flow: FlowFacts,
                      extra: [UInt32: (PacketFacts, FlowFacts) -> Bool] = [:]) -> (pass: Bool, alerts: [Int]) {
        var alerts: [Int] = []
        var passed = false
        for (index, rule) in set.rules.enumerated() {
            switch rule.proto {
            case .ip: break
            case .icmp: guard packet.proto == 1 || packet.proto == 58 else { continue }
            case .tcp, .udp, .sctp: guard packet.proto == rule.proto.number, packet.hasPorts else { continue }
            }
            if let flags = rule.flags, !(packet.proto == 6 && packet.hasPorts && flags.matches(packet.tcpFlags)) { continue }
            if let ruleFlow = rule.flow, !ruleFlow.matches(flow) { continue }
            if let condition = extra[rule.sid], !condition(packet, flow) { continue }
            func oneWay(_ a: AddressSet, _ pa: PortSet, _ b: AddressSet, _ pb: PortSet) -> Bool {
                a.contains(ipVersion: packet.ipVersion, address: packet.src)
                    && b.contains(ipVersion: packet.ipVersion, address: packet.dst)
                    && (!packet.hasPorts || (pa.contains(packet.sport) && pb.contains(packet.dport)))
            }
            let hit = oneWay(rule.source, rule.sourcePorts, rule.destination, rule.destinationPorts)
                || (rule.direction == .both && oneWay(rule.destination, rule.destinationPorts, rule.source, rule.sourcePorts))
            guard hit else { continue }
            if rule.action == .pass { passed = true } else { alerts.append(index) }
        }
        return passed ? (true, []) : (false, alerts)
    }

    @Test(arguments: [1, 2, 3, 4])
    func randomRulesAndPackets(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let ports = ["any", "571", "1:1023", "1024:", "[80:100,!99]", "!22", "[7,9,13]", "[1:80,![2,4]]", "60000:"]
        let addresses = ["any", "$HOME_NET", "$EXTERNAL_NET", "10.0.0.0/8", "!10.0.0.5", "[10.0.0.0/24,!10.0.0.7]", "fe80::/10"]
        let protocols = ["tcp", "udp", "sctp", "icmp", "ip"]
        var lines: [String] = []
        var extra: [UInt32: (PacketFacts, FlowFacts) -> Bool] = [:]
        for sid in 1...300 {
            let proto = protocols.randomElement(using: &random)!
            let hasPorts = proto == "tcp" || proto == "udp" || proto == "sctp"
            let action = Int.random(in: 0..<20, using: &random) == 0 ? "pass" : "alert"
            let direction = Bool.random(using: &random) && Bool.random(using: &random) ? "<>" : "->"
            let sport = hasPorts ? ports.randomElement(using: &random)! : "any"
            let dport = hasPorts ? ports.randomElement(using: &random)! : "any"
            var options = "sid:\(sid);"
            if proto == "tcp" && Int.random(in: 0..<4, using: &random) == 0 { options += " flags:S+;" }
            if Int.random(in: 0..<5, using: &random) == 0 { options += " flow:to_server;" }
            var conditions: [(PacketFacts, FlowFacts) -> Bool] = []
            if Int.random(in: 0..<4, using: &random) == 0 {
                let size = Self.sizes.randomElement(using: &random)!
                options += " dsize:\(size.text);"
                conditions.append { packet, _ in size.holds(UInt32(packet.payloadLength)) }
            }
            for _ in 0..<Int.random(in: 0...2, using: &random) where Bool.random(using: &random) {
                let count = Self.sizes.randomElement(using: &random)!
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    options += " flow.pkts:toserver,\(count.text);"
                    conditions.append { _, flow in flow.direction != .unknown && count.holds(flow.packetsToServer) }
                case 1:
                    options += " flow.pkts_toclient:\(count.text);"
                    conditions.append { _, flow in flow.direction != .unknown && count.holds(flow.packetsToClient) }
                default:
                    options += " flow.pkts:either,\(count.text);"
                    conditions.append { _, flow in
                        flow.direction != .unknown && (count.holds(flow.packetsToServer) || count.holds(flow.packetsToClient))
                    }
                }
            }
            if !conditions.isEmpty {
                extra[UInt32(sid)] = { packet, flow in conditions.allSatisfy { $0(packet, flow) } }
            }
            lines.append("\(action) \(proto) \(addresses.randomElement(using: &random)!) \(sport) \(direction) "
                         + "\(addresses.randomElement(using: &random)!) \(dport) (\(options))")
        }
        let set = ruleSet(lines.joined(separator: "\n"))
        #expect(set.count == 300)
        let hosts: [UInt32] = [0x0A00_0005, 0x0A00_0007, 0x0A00_0101, 0xC0A8_0001, 0x0808_0808]
        let portChoices: [UInt16] = [0, 2, 4, 22, 80, 99, 100, 571, 1023, 1024, 8080, 60001]
        var matches = RuleMatches()
        for _ in 0..<3000 {
            let proto: UInt8 = [6, 17, 132, 1, 58, 47].randomElement(using: &random)!
            var packet: PacketFacts
            if Int.random(in: 0..<4, using: &random) == 0 {
                packet = .ipv6(src: UInt128(0xfe80) << 112 | UInt128(random.next() & 0xff), dst: UInt128(random.next() & 3),
                               proto: proto, sport: portChoices.randomElement(using: &random)!,
                               dport: portChoices.randomElement(using: &random)!, tcpFlags: UInt8.random(in: 0...0x3f, using: &random))
            } else {
                packet = .ipv4(src: hosts.randomElement(using: &random)!, dst: hosts.randomElement(using: &random)!,
                               proto: proto, sport: portChoices.randomElement(using: &random)!,
                               dport: portChoices.randomElement(using: &random)!, tcpFlags: UInt8.random(in: 0...0x3f, using: &random))
            }
            packet.payloadLength = UInt16.random(in: 0...4, using: &random)
            let directions: [FlowFacts.Direction] = [.toServer, .toClient, .unknown]
            let flow = FlowFacts(direction: directions.randomElement(using: &random)!, established: Bool.random(using: &random),
                                 packetsToServer: UInt32.random(in: 0...4, using: &random),
                                 packetsToClient: UInt32.random(in: 0...4, using: &random))
            set.match(packet, flow: flow, into: &matches)
            let expected = Self.naive(set, packet, flow, extra: extra)
            #expect((matches.pass != nil) == expected.pass, "\(packet)")
            #expect(matches.alerts == expected.alerts, "\(packet)")
            if let pass = matches.pass { #expect(set.rules[pass].action == .pass) }
        }
    }
}
