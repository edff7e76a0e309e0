// The abandoned-port registry: one line per port and protocol IANA registers but nobody runs.
// A plain tab-separated file (`rules/registry.tsv`) so every change is one reviewable diff line.

/// A transport protocol a registry entry watches.
public enum RegistryProtocol: String, Sendable, Hashable, Comparable, CaseIterable {
    case tcp, udp, sctp

    /// Where this protocol's two rules sit in the sid scheme: probe at `sidSlot`, answered at `sidSlot + 1`.
    public var sidSlot: Int {
        switch self {
        case .tcp: 0
        case .udp: 2
        case .sctp: 4
        }
    }

    public static func < (lhs: RegistryProtocol, rhs: RegistryProtocol) -> Bool {
        lhs.sidSlot < rhs.sidSlot
    }
}

/// A port and its transport: the identity of a registry entry (`571/tcp`).
public struct RegistryKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var port: UInt16
    public var proto: RegistryProtocol

    public init(port: UInt16, proto: RegistryProtocol) {
        self.port = port
        self.proto = proto
    }

    public static func < (lhs: RegistryKey, rhs: RegistryKey) -> Bool {
        (lhs.port, lhs.proto) < (rhs.port, rhs.proto)
    }

    public var description: String { "\(port)/\(proto.rawValue)" }
}

/// An open-port frequency as nmap-services prints it, kept exactly in millionths (six decimals)
/// so thresholds compare without floating-point surprises.
public struct NmapFrequency: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let scale = 1_000_000
    public var millionths: Int

    public init(millionths: Int) {
        self.millionths = millionths
    }

    /// Parses `0.000013`, `0`, `1` or `0.5`: at most six decimals, no more than 1.
    public init?<S: StringProtocol>(_ text: S) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !whole.isEmpty, whole.count <= 1, fraction.count <= 6,
              parts.count == 1 || !fraction.isEmpty,
              whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
              let wholeValue = Int(whole)
        else { return nil }
        let padded = String(fraction) + String(repeating: "0", count: 6 - fraction.count)
        guard let fractionValue = Int(padded) else { return nil }
        let value = wholeValue * NmapFrequency.scale + fractionValue
        guard value <= NmapFrequency.scale else { return nil }
        millionths = value
    }

    public static func < (lhs: NmapFrequency, rhs: NmapFrequency) -> Bool {
        lhs.millionths < rhs.millionths
    }

    /// Six decimals, as nmap-services writes it: `0.000013`.
    public var description: String {
        let fraction = String(millionths % NmapFrequency.scale)
        return "\(millionths / NmapFrequency.scale)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}

/// What the registry says about a port.
public enum RegistryStatus: String, Sendable, Hashable, CaseIterable {
    /// Selected by the criterion (rare in nmap's scans, no living use known): watched.
    case abandoned
    /// Abandoned too, but chosen by hand outside the criterion: watched, kept on every rebuild.
    case curated
    /// Watched although some legitimate use survives (the note says which): kept on every rebuild.
    case lowUse = "low-use"
    /// Meets the criterion but has a living use: not watched; kept so a rebuild does not re-add it.
    case excluded

    /// Whether rules are generated for it.
    public var isWatched: Bool { self != .excluded }

    /// A hand decision that a rebuild from the sources must not undo.
    public var isPinned: Bool { self != .abandoned }
}

/// One port and protocol, what IANA calls it, and the evidence for watching (or not watching) it.
public struct RegistryEntry: Sendable, Hashable {
    public var port: UInt16
    public var proto: RegistryProtocol
    /// IANA's service name (nmap's where IANA names none; the note says so).
    public var service: String
    public var status: RegistryStatus
    /// Share of hosts found with the port open in nmap's scans; nil when nmap-services lacks the port.
    public var nmapFrequency: NmapFrequency?
    /// IANA's description, possibly empty.
    public var description: String
    /// Why the port is watched or excluded: history, implementations, caveats.
    public var note: String

    public init(
        port: UInt16, proto: RegistryProtocol, service: String, status: RegistryStatus,
        nmapFrequency: NmapFrequency?, description: String, note: String
    ) {
        self.port = port
        self.proto = proto
        self.service = service
        self.status = status
        self.nmapFrequency = nmapFrequency
        self.description = description
        self.note = note
    }

    public var key: RegistryKey { RegistryKey(port: port, proto: proto) }
}

/// A registry file problem, located: `rules/registry.tsv:12: port '0x' is not a number from 1 to 65535`.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason)" }
}

/// The abandoned-port registry: entries unique by port and protocol, sorted by port then protocol.
public struct Registry: Sendable, Equatable {
    /// The column header every registry file carries before its first entry.
    public static let columns = ["port", "proto", "service", "status", "nmap_freq", "description", "note"]

    public private(set) var entries: [RegistryEntry]

    /// Sorts the entries; where two share a port and protocol the later one wins.
    public init(entries: [RegistryEntry]) {
        var byKey: [RegistryKey: RegistryEntry] = [:]
        for entry in entries {
            byKey[entry.key] = entry
        }
        self.entries = byKey.values.sorted { $0.key < $1.key }
    }

    /// The entries rules are generated for.
    public var watched: [RegistryEntry] { entries.filter { $0.status.isWatched } }

    public subscript(key: RegistryKey) -> RegistryEntry? {
        entries.first { $0.key == key }
    }

    // MARK: Text form

    /// Parses a registry file; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(RegistryError) -> Registry {
        var entries: [RegistryEntry] = []
        var firstLine: [RegistryKey: Int] = [:]
        var sawHeader = false
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if line.isEmpty || line.first == "#" { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            if !sawHeader {
                guard fields.map(String.init) == columns else {
                    throw RegistryError(
                        file: file, line: lineNumber,
                        reason: "expected the column header \(columns.joined(separator: " ")) (tab-separated) before any entry")
                }
                sawHeader = true
                continue
            }
            let entry = try parseEntry(fields, file: file, line: lineNumber)
            if let first = firstLine[entry.key] {
                throw RegistryError(
                    file: file, line: lineNumber, reason: "duplicate entry \(entry.key) (first at line \(first))")
            }
            firstLine[entry.key] = lineNumber
            entries.append(entry)
        }
        guard sawHeader else {
            throw RegistryError(
                file: file, line: max(1, lineNumber - (text.last?.isNewline == true ? 1 : 0)),
                reason: "no column header \(columns.joined(separator: " ")) (tab-separated) in the file")
        }
        return Registry(entries: entries)
    }

    private static func parseEntry(_ fields: [Substring], file: String, line: Int) throws(RegistryError) -> RegistryEntry {
        func fail(_ reason: String) -> RegistryError {
            RegistryError(file: file, line: line, reason: reason)
        }
        guard fields.count == columns.count else {
            throw fail("expected \(columns.count) tab-separated fields (\(columns.joined(separator: " "))), found \(fields.count)")
        }
        guard let port = UInt16(fields[0]), port > 0 else {
            throw fail("port '\(fields[0])' is not a number from 1 to 65535")
        }
        guard let proto = RegistryProtocol(rawValue: String(fields[1])) else {
            throw fail("protocol '\(fields[1])' is not tcp, udp or sctp")
        }
        let service = String(fields[2])
        guard isValidServiceName(service) else {
            throw fail("service name '\(service)' must be non-empty, without spaces, commas, semicolons, quotes or backslashes")
        }
        guard let status = RegistryStatus(rawValue: String(fields[3])) else {
            throw fail("status '\(fields[3])' is not abandoned, curated, low-use or excluded")
        }
        let frequency: NmapFrequency?
        if fields[4] == "-" {
            frequency = nil
        } else if let parsed = NmapFrequency(fields[4]) {
            frequency = parsed
        } else {
            throw fail("nmap_freq '\(fields[4])' is not a frequency like 0.000013 (or '-' when nmap-services lacks the port)")
        }
        let note = String(fields[6])
        guard !note.allSatisfy(\.isWhitespace) else {
            throw fail("note is empty: say why \(port)/\(proto.rawValue) is watched or excluded")
        }
        return RegistryEntry(
            port: port, proto: proto, service: service, status: status,
            nmapFrequency: frequency, description: String(fields[5]), note: note)
    }

    /// Service names go into rule metadata, where spaces, `,` `;` `"` and `\` would break the option.
    public static func isValidServiceName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && scalar.value > 0x20 && scalar.value < 0x7F && !",;\"\\".unicodeScalars.contains(scalar)
        }
    }

    /// The file text: a short preamble, the column header, one line per entry.
    /// Tabs and line breaks inside a field become spaces, so the text always parses back.
    public func serialized() -> String {
        var text = """
            # ghostport abandoned-port registry. One entry per port and protocol; tab-separated.
            # status: abandoned (selected by the criterion), curated (abandoned, chosen by hand),
            #         low-use (watched despite a surviving use), excluded (living use: not watched).
            # nmap_freq: open-port frequency from nmap-services, '-' when nmap lacks the port.
            # See rules/README.md for the sources, the criterion and how to rebuild. Comments are not kept on rebuild.

            """
        text += Registry.columns.joined(separator: "\t") + "\n"
        for entry in entries {
            let fields = [
                String(entry.port), entry.proto.rawValue, entry.service, entry.status.rawValue,
                entry.nmapFrequency?.description ?? "-", entry.description, entry.note,
            ]
            text += fields.map(Registry.flattened).joined(separator: "\t") + "\n"
        }
        return text
    }

    private static func flattened(_ field: String) -> String {
        String(field.map { $0 == "\t" || $0.isNewline ? " " : $0 })
    }
}
