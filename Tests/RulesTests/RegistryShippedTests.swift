import Testing
import TestSupport
@testable import Rules

/// The repository root: three levels above this file (Tests/RulesTests/<file>).
private let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

private let registryPath = repositoryRoot + "/rules/registry.tsv"
private let rulesPath = repositoryRoot + "/rules/abandoned-ports.rules"
private let ianaServices = "/usr/share/wireshark/services"
private let nmapServices = "/usr/share/nmap/nmap-services"

private func exists(_ path: String) -> Bool {
    (try? RegistryFile.contents(of: path)) != nil
}

@Suite("The shipped registry and rules")
struct RegistryShippedTests {
    /// The two lists the registry is built from, from Debian's packages.
    static var sourcesUnmet: String? {
        var missing: [String] = []
        if !exists(ianaServices) { missing.append("\(ianaServices) (apt-get install -y wireshark-common)") }
        if !exists(nmapServices) { missing.append("\(nmapServices) (apt-get install -y nmap-common)") }
        return missing.isEmpty ? nil : "missing " + missing.joined(separator: " and ")
    }

    @Test("rules/abandoned-ports.rules is exactly a fresh generation from rules/registry.tsv")
    func rulesAreFresh() throws {
        let registry = try Registry.parse(try RegistryFile.contents(of: registryPath), file: registryPath)
        let shipped = try RegistryFile.contents(of: rulesPath)
        #expect(shipped == RuleGenerator.ruleset(for: registry, source: "registry.tsv"),
                "run `ghostport rules generate` and commit the result")
    }

    @Test("the traffic generator's ports are watched, 571 on both protocols")
    func generatorPortsWatched() throws {
        let registry = try Registry.parse(try RegistryFile.contents(of: registryPath), file: registryPath)
        let required: [(UInt16, RegistryProtocol)] = [
            (571, .tcp), (571, .udp), (3, .tcp), (9, .udp), (39, .udp), (87, .tcp),
            (95, .tcp), (104, .tcp), (517, .udp), (519, .tcp),
        ]
        for (port, proto) in required {
            let entry = registry[RegistryKey(port: port, proto: proto)]
            #expect(entry?.status.isWatched == true, "\(port)/\(proto) must be watched")
        }
        #expect(registry[RegistryKey(port: 571, proto: .tcp)]?.service == "meter")
    }

    @Test("the shipped registry is well formed: every watched well-known entry has evidence, sids unique")
    func shippedShape() throws {
        let registry = try Registry.parse(try RegistryFile.contents(of: registryPath), file: registryPath)
        for entry in registry.entries where entry.status == .abandoned {
            let limit = RegistryCriterion.shipped.maxFrequency[entry.proto]
            #expect(entry.nmapFrequency != nil && limit != nil && entry.nmapFrequency! <= limit!,
                    "\(entry.key) is 'abandoned' but not selected by the shipped criterion")
        }
        let sids = registry.watched.flatMap { entry in
            RegistryRuleKind.kinds(for: entry.proto).map { RuleGenerator.sid(for: entry.key, kind: $0) }
        }
        #expect(Set(sids).count == sids.count)
    }

    @Test("rebuilding from this machine's IANA and nmap lists with the shipped criterion reproduces the registry",
          Prerequisite.trait(RegistryShippedTests.sourcesUnmet))
    func rebuildReproduces() throws {
        try Prerequisite.require(Self.sourcesUnmet)
        let registry = try Registry.parse(try RegistryFile.contents(of: registryPath), file: registryPath)
        let services = try RegistrySources.parseServices(try RegistryFile.contents(of: ianaServices), file: ianaServices)
        let table = try RegistrySources.parseFrequencies(try RegistryFile.contents(of: nmapServices), file: nmapServices)
        let rebuilt = RegistryBuilder.build(
            services: services, frequencies: table, criterion: .shipped, base: registry)
        #expect(rebuilt.serialized() == registry.serialized())
    }
}
