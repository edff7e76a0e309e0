import Platform

/// A `suppress` entry as it applies to one rule: no alert when the tracked address is in
/// `addresses`, or no alert at all without a track.
public struct Suppression: Sendable, Hashable {
    public enum Track: String, Sendable, Hashable, CaseIterable {
        case bySource = "by_src"
        case byDestination = "by_dst"
        case byEither = "by_either"
    }

    /// Nil: every alert of the rule.
    public var track: Track?
    public var addresses: AddressSet

    public init(track: Track?, addresses: AddressSet) {
        self.track = track
        self.addresses = addresses
    }

    /// Addresses as `AddressSet.contains` takes them: an IPv4 address in the low 32 bits.
    @inlinable
    public func suppresses(ipVersion: UInt8, src: UInt128, dst: UInt128) -> Bool {
        switch track {
        case nil: true
        case .bySource: addresses.contains(ipVersion: ipVersion, address: src)
        case .byDestination: addresses.contains(ipVersion: ipVersion, address: dst)
        case .byEither: addresses.contains(ipVersion: ipVersion, address: src)
            || addresses.contains(ipVersion: ipVersion, address: dst)
        }
    }
}

extension Rule {
    /// Whether a `suppress` entry keeps this match from alerting.
    @inlinable
    public func isSuppressed(ipVersion: UInt8, src: UInt128, dst: UInt128) -> Bool {
        suppressions.contains { $0.suppresses(ipVersion: ipVersion, src: src, dst: dst) }
    }
}

/// Suricata's `threshold.config`: alert suppression and rate limiting without editing the
/// rules. One entry per line, `#` comments:
///
///     suppress gen_id 1, sig_id 9005710
///     suppress gen_id 1, sig_id 9005710, track by_src, ip 192.0.2.0/24
///     suppress gen_id 1, sig_id 9005710, track by_either, ip [$HOME_NET, !10.1.1.1]
///     threshold gen_id 1, sig_id 9005710, type limit, track by_src, count 1, seconds 3600
///     event_filter gen_id 1, sig_id 0, type limit, track by_src, count 5, seconds 60
///
/// A `threshold` (or `event_filter`, its other name) for one sid replaces the rule's own
/// `threshold`; with `sig_id 0` it applies to every rule of the gid (`gen_id 0`: of every gid)
/// that has none. `suppress` with `sig_id 0` likewise covers the gid's rules. `rate_filter`
/// changes a rule's action, which a passive sensor never does: it is an error.
public struct ThresholdConfig: Sendable {
    public struct Entry: Sendable {
        public enum Action: Sendable {
            case suppress(Suppression)
            case threshold(Threshold)
        }

        public var gid: UInt32
        public var sid: UInt32
        public var action: Action
        public var file: String
        public var line: Int
    }

    public var entries: [Entry] = []

    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    /// Reads `path`; every bad line is a `FILE:LINE: reason` and is left out.
    public static func load(path: String, variables: [String: String] = [:]) -> (ThresholdConfig, [RuleError]) {
        switch FileSystem.contents(of: path) {
        case .success(let bytes): parse(String(decoding: bytes, as: UTF8.self), file: path, variables: variables)
        case .failure(let error): (ThresholdConfig(), [RuleError(error)])
        }
    }

    public static func parse(_ text: String, file: String, variables: [String: String] = [:]) -> (ThresholdConfig, [RuleError]) {
        var config = ThresholdConfig()
        var errors: [RuleError] = []
        let addresses = SetCompiler(grammar: .address, variables: RuleLoader.defaultVariables.merging(variables) { _, given in given })
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed(of: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                config.entries.append(try entry(line, file: file, line: number + 1, addresses: addresses))
            } catch {
                errors.append(RuleError(file: file, line: number + 1, column: 0, reason: error.reason))
            }
        }
        return (config, errors)
    }

    /// The rules with the entries applied, and one line for each entry that names no loaded rule.
    public func apply(to rules: [Rule]) -> (rules: [Rule], notes: [String]) {
        var rules = rules
        var bySid: [UInt64: [Int]] = [:]
        for index in rules.indices { bySid[UInt64(rules[index].gid) << 32 | UInt64(rules[index].sid), default: []].append(index) }
        let ownThreshold = Set(rules.indices.filter { rules[$0].threshold != nil })
        var notes: [String] = []
        for entry in entries {
            let targets: [Int]
            if entry.sid != 0 {
                targets = bySid[UInt64(entry.gid) << 32 | UInt64(entry.sid)] ?? []
                if targets.isEmpty {
                    notes.append("\(entry.file):\(entry.line): sig_id \(entry.sid) (gen_id \(entry.gid)) matches no loaded rule")
                }
            } else {
                targets = rules.indices.filter { entry.gid == 0 || rules[$0].gid == entry.gid }
            }
            for index in targets {
                switch entry.action {
                case .suppress(let suppression):
                    rules[index].suppressions.append(suppression)
                case .threshold(let threshold):
                    // A sid's own entry wins over the rule's keyword; a sid-0 one only fills a gap.
                    if entry.sid != 0 || !ownThreshold.contains(index) { rules[index].threshold = threshold }
                }
            }
        }
        return (rules, notes)
    }

    struct LineError: Error {
        var reason: String
    }

    private static func entry(_ line: String, file: String, line number: Int,
                              addresses: SetCompiler<AddressSet>) throws(LineError) -> Entry {
        let keywordEnd = line.firstIndex { $0 == " " || $0 == "\t" } ?? line.endIndex
        let keyword = String(line[..<keywordEnd]).lowercased()
        let pairs = try Self.pairs(String(line[keywordEnd...]), keyword: keyword)
        func value(_ name: String) throws(LineError) -> String {
            guard let value = pairs[name] else { throw LineError(reason: "\(keyword) is missing '\(name)'") }
            return value
        }
        func integer(_ name: String, allowZero: Bool) throws(LineError) -> UInt32 {
            let text = try value(name)
            guard let number = UInt32(text), allowZero || number > 0 else {
                throw LineError(reason: "invalid \(name) '\(text)'")
            }
            return number
        }
        func allow(_ names: Set<String>) throws(LineError) {
            if let unknown = pairs.keys.sorted().first(where: { !names.contains($0) }) {
                throw LineError(reason: "unknown \(keyword) option '\(unknown)'")
            }
        }
        switch keyword {
        case "suppress":
            try allow(["gen_id", "sig_id", "track", "ip"])
            let gid = try integer("gen_id", allowZero: true), sid = try integer("sig_id", allowZero: true)
            switch (pairs["track"], pairs["ip"]) {
            case (nil, nil):
                return Entry(gid: gid, sid: sid, action: .suppress(Suppression(track: nil, addresses: .any)), file: file, line: number)
            case (let track?, let ip?):
                guard let tracked = Suppression.Track(rawValue: track.lowercased()) else {
                    throw LineError(reason: "invalid track '\(track)': expected by_src, by_dst or by_either")
                }
                let set: AddressSet
                do {
                    set = try addresses.compile(Array(ip.utf8)[...], base: 0)
                } catch {
                    throw LineError(reason: "ip '\(ip)': \(error.reason)")
                }
                return Entry(gid: gid, sid: sid, action: .suppress(Suppression(track: tracked, addresses: set)), file: file, line: number)
            case (nil, _?):
                throw LineError(reason: "suppress with 'ip' needs 'track'")
            case (_?, nil):
                throw LineError(reason: "suppress with 'track' needs 'ip'")
            }
        case "threshold", "event_filter":
            try allow(["gen_id", "sig_id", "type", "track", "count", "seconds"])
            let gid = try integer("gen_id", allowZero: true), sid = try integer("sig_id", allowZero: true)
            let typeText = try value("type"), trackText = try value("track")
            guard let kind = Threshold.Kind(rawValue: typeText.lowercased()) else {
                throw LineError(reason: "invalid type '\(typeText)': expected limit, threshold or both")
            }
            guard let track = ThresholdTrack(rawValue: trackText.lowercased()) else {
                throw LineError(reason: "invalid track '\(trackText)': expected by_src, by_dst, by_rule or by_both")
            }
            let threshold = Threshold(kind: kind, track: track, count: try integer("count", allowZero: false),
                                      seconds: try integer("seconds", allowZero: false))
            return Entry(gid: gid, sid: sid, action: .threshold(threshold), file: file, line: number)
        case "rate_filter":
            throw LineError(reason: "rate_filter changes a rule's action (new_action), which this passive sensor never does")
        default:
            throw LineError(reason: "unknown entry '\(keyword)': expected suppress, threshold or event_filter")
        }
    }

    /// `name value, name value, ...`; commas inside `[...]` belong to the value.
    private static func pairs(_ text: String, keyword: String) throws(LineError) -> [String: String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[": depth += 1
            case "]": depth -= 1
            default: break
            }
            if character == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        var pairs: [String: String] = [:]
        for part in parts {
            let trimmed = part.trimmed(of: " \t")
            guard !trimmed.isEmpty else { throw LineError(reason: "empty option in \(keyword)") }
            let nameEnd = trimmed.firstIndex { $0 == " " || $0 == "\t" } ?? trimmed.endIndex
            let name = String(trimmed[..<nameEnd]).lowercased()
            let value = String(trimmed[nameEnd...]).trimmed(of: " \t")
            guard !value.isEmpty else { throw LineError(reason: "\(keyword) option '\(name)' needs a value") }
            guard pairs.updateValue(value, forKey: name) == nil else { throw LineError(reason: "duplicate '\(name)' in \(keyword)") }
        }
        return pairs
    }
}

extension StringProtocol {
    /// Without the leading and trailing characters in `set`.
    fileprivate func trimmed(of set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
