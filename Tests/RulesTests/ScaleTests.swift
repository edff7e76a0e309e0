import Rules
import Testing

/// Rules the way a generated abandoned-port ruleset looks: one or two per port.
func generatedRules(_ count: Int) -> String {
    var lines: [String] = []
    lines.reserveCapacity(count)
    for i in 0..<count {
        let port = 1 + (i % 65535)
        let sid = 2_000_000 + i
        switch i % 5 {
        case 0:
            lines.append("alert udp $EXTERNAL_NET any -> $HOME_NET \(port) (msg:\"abandoned udp/\(port)\"; classtype:attempted-recon; metadata: port \(port); sid:\(sid); rev:1;)")
        case 1:
            lines.append("alert tcp $EXTERNAL_NET any -> $HOME_NET \(port) (msg:\"abandoned tcp/\(port) syn\"; flags:S,CE; flow:to_server; threshold: type limit, track by_src, count 1, seconds 60; sid:\(sid); rev:1;)")
        case 2:
            lines.append("alert tcp $HOME_NET \(port) -> any any (msg:\"answer from tcp/\(port)\"; flags:SA+; sid:\(sid);)")
        case 3:
            lines.append("alert udp any any <> [10.0.0.0/8,!10.0.0.1] \(port) (msg:\"udp/\(port) either way\"; sid:\(sid);)")
        default:
            lines.append("alert sctp any any -> any [\(port),\(port + 1 <= 65535 ? port + 1 : 1)] (msg:\"sctp/\(port)\"; sid:\(sid);)")
        }
    }
    return lines.joined(separator: "\n")
}

@Suite struct ScaleTests {
    @Test func tenThousandGeneratedRulesLoad() throws {
        let (set, errors) = RuleLoader.load(text: generatedRules(10_000), file: "generated.rules")
        #expect(errors.isEmpty)
        #expect(set.count == 10_000)
        #expect(Set(set.rules.map(\.sid)).count == 10_000)

        // Rule i=5 is `udp ... -> $HOME_NET 6`; i=9999 is sctp on ports 10000 and 10001.
        var matches = RuleMatches()
        set.match(.ipv4(src: 0x0808_0808, dst: 0x0A00_0002, proto: 17, sport: 999, dport: 6), into: &matches)
        #expect(matches.alerts.map { set.rules[$0].sid } == [2_000_005])
        set.match(.ipv4(src: 1, dst: 2, proto: 132, sport: 1, dport: 10001), into: &matches)
        #expect(matches.alerts.map { set.rules[$0].sid } == [2_009_999])
        // i=7 answers from tcp/8 (a SYN-ACK leaving the home net).
        set.match(.ipv4(src: 0xC0A8_0001, dst: 0x0808_0808, proto: 6, sport: 8, dport: 50000,
                        tcpFlags: TCPFlagsMatch.syn | TCPFlagsMatch.ack), into: &matches)
        #expect(matches.alerts.map { set.rules[$0].sid } == [2_000_007])
        #expect(set.groupCount > 0 && set.tableBytes < 4_000_000)
    }
}
