import Rules
import Testing

/// Suricata's threshold.config: what each line means, and the errors a typo gets.
@Suite struct ThresholdConfigTests {
    static let rules = """
        alert tcp any any -> any 571 (msg:"a"; sid:10; rev:1;)
        alert tcp any any -> any 572 (msg:"b"; sid:11; rev:1; threshold: type both, track by_dst, count 3, seconds 9;)
        alert udp any any -> any 573 (msg:"c"; sid:12; gid:3; rev:1;)
        """

    static func applied(_ text: String) throws -> (rules: [Rule], errors: [RuleError], notes: [String]) {
        let (set, ruleErrors) = RuleLoader.load(text: rules, file: "t.rules")
        #expect(ruleErrors.isEmpty)
        let (config, errors) = ThresholdConfig.parse(text, file: "threshold.config", variables: ["TRUSTED": "[192.0.2.0/24]"])
        let (rules, notes) = config.apply(to: set.rules)
        return (rules, errors, notes)
    }

    static func v4(_ text: String) -> UInt128 { UInt128(IPAddressText.parseIPv4(text)!) }

    @Test func suppressWholeRuleOrByAddress() throws {
        let (rules, errors, notes) = try Self.applied("""
            # a comment, then a blank line

            suppress gen_id 1, sig_id 10, track by_src, ip [$TRUSTED, !192.0.2.7]
            suppress gen_id 3, sig_id 12
            suppress gen_id 1, sig_id 11, track by_either, ip 2001:db8::/32
            """)
        #expect(errors.isEmpty && notes.isEmpty, "\(errors) \(notes)")
        let a = rules[0], b = rules[1], c = rules[2]
        #expect(a.isSuppressed(ipVersion: 4, src: Self.v4("192.0.2.1"), dst: Self.v4("10.0.0.1")))
        #expect(!a.isSuppressed(ipVersion: 4, src: Self.v4("192.0.2.7"), dst: Self.v4("10.0.0.1")), "negated in the list")
        #expect(!a.isSuppressed(ipVersion: 4, src: Self.v4("10.0.0.1"), dst: Self.v4("192.0.2.1")), "by_src looks at the source only")
        #expect(c.isSuppressed(ipVersion: 4, src: Self.v4("10.0.0.1"), dst: Self.v4("10.0.0.2")), "no track: every alert")
        let v6 = UInt128(IPAddressText.parseIPv6("2001:db8::9")!)
        #expect(b.isSuppressed(ipVersion: 6, src: 1, dst: v6) && b.isSuppressed(ipVersion: 6, src: v6, dst: 1))
        #expect(!b.isSuppressed(ipVersion: 4, src: Self.v4("32.1.13.184"), dst: 0), "an IPv4 address is not in an IPv6 block")
    }

    @Test func thresholdsReplaceTheRulesOwnAndSidZeroFillsGaps() throws {
        let (rules, errors, _) = try Self.applied("""
            event_filter gen_id 1, sig_id 11, type limit, track by_src, count 1, seconds 60
            threshold gen_id 0, sig_id 0, type threshold, track by_rule, count 5, seconds 10
            """)
        #expect(errors.isEmpty)
        // sid 11's own threshold is replaced by its entry; the global one fills the others.
        #expect(rules[1].threshold == Threshold(kind: .limit, track: .bySource, count: 1, seconds: 60))
        #expect(rules[0].threshold == Threshold(kind: .threshold, track: .byRule, count: 5, seconds: 10))
        #expect(rules[2].threshold == Threshold(kind: .threshold, track: .byRule, count: 5, seconds: 10), "gen_id 0: every gid")
    }

    @Test func eachBadLineIsFileLineReason() throws {
        let (_, errors, notes) = try Self.applied("""
            suppress gen_id 1, sig_id 10, track by_src
            suppress gen_id 1, sig_id 10, ip 1.2.3.4
            suppress gen_id 1, sig_id 10, track by_rule, ip 1.2.3.4
            suppress gen_id 1, sig_id 10, track by_src, ip 1.2.3.400
            threshold gen_id 1, sig_id 10, type limit, track by_src, count 0, seconds 60
            threshold gen_id 1, sig_id 10, type limit, track by_src, count 1
            threshold gen_id 1, sig_id 10, type limit, track by_src, count 1, seconds 60, color blue
            rate_filter gen_id 1, sig_id 10, track by_src, count 1, seconds 1, new_action drop, timeout 5
            supress gen_id 1, sig_id 10
            suppress gen_id 1, sig_id 99
            suppress gen_id one, sig_id 10
            """)
        #expect(errors.map(\.description) == [
            "threshold.config:1: suppress with 'track' needs 'ip'",
            "threshold.config:2: suppress with 'ip' needs 'track'",
            "threshold.config:3: invalid track 'by_rule': expected by_src, by_dst or by_either",
            "threshold.config:4: ip '1.2.3.400': invalid address '1.2.3.400'",
            "threshold.config:5: invalid count '0'",
            "threshold.config:6: threshold is missing 'seconds'",
            "threshold.config:7: unknown threshold option 'color'",
            "threshold.config:8: rate_filter changes a rule's action (new_action), which this passive sensor never does",
            "threshold.config:9: unknown entry 'supress': expected suppress, threshold or event_filter",
            "threshold.config:11: invalid gen_id 'one'",
        ])
        #expect(notes == ["threshold.config:10: sig_id 99 (gen_id 1) matches no loaded rule"])
    }
}
