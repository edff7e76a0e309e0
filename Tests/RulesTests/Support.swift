import Rules
import Testing

/// Loads rules text as file `t.rules`.
func load(_ text: String, variables: [String: String] = [:],
          classification: Classification = .suricataDefault) -> (RuleSet, [RuleError]) {
    RuleLoader.load(text: text, file: "t.rules", variables: variables, classification: classification)
}

/// The one rule in `text`, which must load cleanly.
func rule(_ text: String, variables: [String: String] = [:],
          sourceLocation: SourceLocation = #_sourceLocation) throws -> Rule {
    let (ruleSet, errors) = load(text, variables: variables)
    #expect(errors.map(\.description) == [], sourceLocation: sourceLocation)
    return try #require(ruleSet.rules.first, sourceLocation: sourceLocation)
}

/// The single error `text` produces; the rule must not load.
func failure(_ text: String, variables: [String: String] = [:],
             sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    let (ruleSet, errors) = load(text, variables: variables)
    #expect(ruleSet.count == 0, sourceLocation: sourceLocation)
    #expect(errors.count == 1, sourceLocation: sourceLocation)
    return errors.first?.description
}

/// A rule around a header, with a fixed option tail.
func header(_ text: String) -> String { "\(text) (msg:\"m\"; sid:1;)" }

func v4(_ text: String) -> UInt128 { UInt128(IPAddressText.parseIPv4(text)!) }
func v6(_ text: String) -> UInt128 { IPAddressText.parseIPv6(text)! }
