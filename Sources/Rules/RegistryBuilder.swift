// Building a registry from the two Debian-shipped sources: IANA's list (wireshark-common's
// `services`) says what is registered, nmap-services' open-port frequency says what is used.

/// One port and protocol as IANA registers it.
public struct ServiceRecord: Sendable, Hashable {
    public var name: String
    public var key: RegistryKey
    public var description: String

    public init(name: String, key: RegistryKey, description: String) {
        self.name = name
        self.key = key
        self.description = description
    }
}

/// One line of nmap-services: how often nmap found the port open.
public struct FrequencyRecord: Sendable, Hashable {
    public var name: String
    public var key: RegistryKey
    public var frequency: NmapFrequency

    public init(name: String, key: RegistryKey, frequency: NmapFrequency) {
        self.name = name
        self.key = key
        self.frequency = frequency
    }
}

/// Parsers for the two source formats. Protocols other than tcp, udp and sctp (dccp) are skipped;
/// where a port and protocol appears twice, the first line wins, as in services(5).
public enum RegistrySources {
    /// IANA services(5) format: `name<TAB>port[-last]/proto[/proto...]<TAB># description`.
    public static func parseServices(_ text: String, file: String) throws(RegistryError) -> [RegistryKey: ServiceRecord] {
        var records: [RegistryKey: ServiceRecord] = [:]
        var lineNumber = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let (data, comment) = splitComment(line)
            let fields = data.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count >= 2 else {
                throw RegistryError(
                    file: file, line: lineNumber, reason: "expected 'name port/proto # description', found '\(line)'")
            }
            let (ports, protocols) = try parsePortSpec(fields[1], allowRange: true, file: file, line: lineNumber)
            let description = comment.map { String($0.drop(while: { $0 == " " || $0 == "\t" })) } ?? ""
            for port in ports {
                for proto in protocols {
                    let key = RegistryKey(port: port, proto: proto)
                    if records[key] == nil {
                        records[key] = ServiceRecord(name: String(fields[0]), key: key, description: trimmed(description))
                    }
                }
            }
        }
        return records
    }

    /// nmap-services format: `name<TAB>port/proto<TAB>frequency[<TAB># comment]`.
    public static func parseFrequencies(_ text: String, file: String) throws(RegistryError) -> [RegistryKey: FrequencyRecord] {
        var records: [RegistryKey: FrequencyRecord] = [:]
        var lineNumber = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            let fields = splitComment(line).data.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 3 else {
                throw RegistryError(
                    file: file, line: lineNumber,
                    reason: "expected 'name port/proto frequency # comment', found \(fields.count) fields")
            }
            let (ports, protocols) = try parsePortSpec(fields[1], allowRange: false, file: file, line: lineNumber)
            guard let frequency = NmapFrequency(fields[2]) else {
                throw RegistryError(
                    file: file, line: lineNumber, reason: "frequency '\(fields[2])' is not a decimal from 0 to 1 like 0.000013")
            }
            for port in ports {
                for proto in protocols {
                    let key = RegistryKey(port: port, proto: proto)
                    if records[key] == nil {
                        records[key] = FrequencyRecord(name: String(fields[0]), key: key, frequency: frequency)
                    }
                }
            }
        }
        return records
    }

    private static func splitComment(_ line: Substring) -> (data: Substring, comment: Substring?) {
        guard let hash = line.firstIndex(of: "#") else { return (line, nil) }
        return (line[..<hash], line[line.index(after: hash)...])
    }

    private static func trimmed(_ text: String) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// `571/tcp/udp`, `6665-6669/tcp` (ranges only where allowed); unknown protocols are dropped.
    private static func parsePortSpec(
        _ spec: Substring, allowRange: Bool, file: String, line: Int
    ) throws(RegistryError) -> (ClosedRange<UInt16>, [RegistryProtocol]) {
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false)
        let bounds = parts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.dropFirst().allSatisfy({ !$0.isEmpty }),
              let first = UInt16(bounds[0]), let last = UInt16(bounds.last ?? bounds[0]), first <= last,
              bounds.count == 1 || allowRange
        else {
            let expected = allowRange ? "'port/proto' or 'first-last/proto'" : "'port/proto'"
            throw RegistryError(file: file, line: line, reason: "port field '\(spec)' is not \(expected)")
        }
        return (first...last, parts.dropFirst().compactMap { RegistryProtocol(rawValue: String($0)) })
    }
}

/// Which registered ports a rebuild selects: those in `ports`, of the chosen protocols, that nmap
/// lists with an open-port frequency at or below the protocol's threshold.
public struct RegistryCriterion: Sendable, Equatable {
    public var maxFrequency: [RegistryProtocol: NmapFrequency]
    public var ports: ClosedRange<UInt16>

    public init(maxFrequency: [RegistryProtocol: NmapFrequency], ports: ClosedRange<UInt16>) {
        self.maxFrequency = maxFrequency
        self.ports = ports
    }

    /// The criterion the shipped registry was built with (rules/README.md explains the numbers):
    /// TCP at most 0.000025 (two open hosts' worth in nmap's TCP sample), UDP at most 0.000400
    /// (the floor set by hosts that answer on every UDP port), SCTP like TCP; well-known ports only.
    public static let shipped = RegistryCriterion(
        maxFrequency: [
            .tcp: NmapFrequency(millionths: 25),
            .udp: NmapFrequency(millionths: 400),
            .sctp: NmapFrequency(millionths: 25),
        ],
        ports: 1...1023)

    /// Whether a rebuild decides this port and protocol; entries outside are left as they are.
    public func covers(_ key: RegistryKey) -> Bool {
        ports.contains(key.port) && maxFrequency[key.proto] != nil
    }

    /// Whether a covered port is rare enough to select. A port nmap does not list has no evidence: not selected.
    public func selects(_ key: RegistryKey, frequency: NmapFrequency?) -> Bool {
        // Port 0 is reserved: never a registry entry.
        guard key.port > 0, covers(key), let frequency, let limit = maxFrequency[key.proto] else { return false }
        return frequency <= limit
    }

    /// The note a newly selected entry gets until someone reviews it.
    public func note(for proto: RegistryProtocol) -> String {
        let limit = maxFrequency[proto].map { "nmap_freq <= \($0)" } ?? "nmap_freq"
        return "criterion (\(limit)); no known living implementation"
    }
}

public enum RegistryBuilder {
    /// Rebuilds a registry from the sources under a criterion, keeping the hand work in `base`:
    /// - a covered port the criterion selects becomes an entry; if `base` has it, its status and note stay;
    /// - a base entry that is curated, low-use or excluded stays whatever the criterion says;
    /// - a base entry outside the criterion's ports or protocols stays;
    /// - an `abandoned` base entry the criterion no longer selects is dropped (that is how narrowing works).
    /// Service names, descriptions and frequencies are refreshed from the sources wherever they list the port.
    public static func build(
        services: [RegistryKey: ServiceRecord],
        frequencies: [RegistryKey: FrequencyRecord],
        criterion: RegistryCriterion,
        base: Registry?
    ) -> Registry {
        var entries: [RegistryEntry] = []
        var kept = Set<RegistryKey>()
        for var entry in base?.entries ?? [] {
            let key = entry.key
            if let service = services[key], Registry.isValidServiceName(service.name) {
                entry.service = service.name
                entry.description = service.description
            }
            if let frequency = frequencies[key] {
                entry.nmapFrequency = frequency.frequency
            }
            let keep = entry.status.isPinned || !criterion.covers(key)
                || criterion.selects(key, frequency: entry.nmapFrequency)
            if keep {
                entries.append(entry)
                kept.insert(key)
            }
        }
        for (key, service) in services where !kept.contains(key) {
            let frequency = frequencies[key]?.frequency
            guard criterion.selects(key, frequency: frequency), Registry.isValidServiceName(service.name) else { continue }
            entries.append(RegistryEntry(
                port: key.port, proto: key.proto, service: service.name, status: .abandoned,
                nmapFrequency: frequency, description: service.description,
                note: criterion.note(for: key.proto)))
        }
        return Registry(entries: entries)
    }
}
