import FuzzSupport
import Rules

/// Loads the input as rules text (invalid UTF-8 replaced, as a file read would be after decoding)
/// and checks every error points inside the text (RuleErrorInvariants.swift, shared with Tests/Robustness).
/// Whatever loaded is then matched against a few packets to exercise the compiled port tables.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: FuzzDriver.bytes(data, size), as: UTF8.self)
    let (ruleSet, errors) = RuleLoader.load(text: text, file: "fuzz.rules")

    let broken = RuleErrorInvariants.violations(errors, text: text, file: "fuzz.rules")
    invariant(broken.isEmpty, broken.joined(separator: "; "))

    // Strict loading reports the same errors and loads nothing when there are any.
    let (strictSet, strictErrors) = RuleLoader.load(text: text, file: "fuzz.rules", strict: true)
    invariant(strictErrors == errors, "strict loading reported different errors")
    invariant(errors.isEmpty ? strictSet.count == ruleSet.count : strictSet.count == 0,
              "strict loading kept \(strictSet.count) rules with \(errors.count) errors")

    // The same text as a threshold.config: every error names a line of it, applying it keeps
    // every rule, and suppressions answer for every probe.
    let (thresholds, thresholdErrors) = ThresholdConfig.parse(text, file: "fuzz.config")
    let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
    for error in thresholdErrors {
        invariant(error.file == "fuzz.config" && error.line >= 1 && error.line <= lineCount && error.column == 0,
                  "threshold error outside the text: \(error)")
    }
    let (applied, _) = thresholds.apply(to: ruleSet.rules)
    invariant(applied.count == ruleSet.count, "applying thresholds changed the rule count")
    for rule in applied where !rule.suppressions.isEmpty {
        for facts in probes { _ = rule.isSuppressed(ipVersion: facts.ipVersion, src: facts.src, dst: facts.dst) }
    }

    var matches = RuleMatches()
    for facts in probes {
        ruleSet.match(facts, into: &matches)
        for index in matches.alerts { invariant(ruleSet.rules.indices.contains(index), "alert index \(index)") }
        if let pass = matches.pass {
            invariant(ruleSet.rules.indices.contains(pass), "pass index \(pass)")
            invariant(matches.alerts.isEmpty, "a pass rule matched alongside alerts")
        }
    }
    return 0
}

/// A probe to 571/tcp from outside, its SYN-ACK, a UDP probe, an ICMP packet, an IPv6 SCTP packet.
let probes: [PacketFacts] = [
    .ipv4(src: 0x2D4D_0109, dst: 0xC0A8_0414, proto: 6, sport: 40001, dport: 571, tcpFlags: 0x02),
    .ipv4(src: 0xC0A8_0414, dst: 0x2D4D_0109, proto: 6, sport: 571, dport: 40001, tcpFlags: 0x12),
    .ipv4(src: 0x0A00_0001, dst: 0x0A00_0002, proto: 17, sport: 53, dport: 1),
    .ipv4(src: 0x0A00_0001, dst: 0x0A00_0002, proto: 1),
    .ipv6(src: 0x2001_0DB8 << 96 | 1, dst: 0x2001_0DB8 << 96 | 2, proto: 132, sport: 9, dport: 0),
]

@main
enum FuzzRulesMain {
    static func main() { FuzzDriver.run(fuzzRules) }
}
