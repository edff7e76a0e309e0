/// Parses logical rules into `Rule` values. Variable caches live here, so one parser
/// serves a whole load.
final class RuleParser {
    let classification: Classification
    let addresses: SetCompiler<AddressSet>
    let ports: SetCompiler<PortSet>

    init(variables: [String: String], classification: Classification) {
        self.classification = classification
        addresses = SetCompiler(grammar: .address, variables: variables)
        ports = SetCompiler(grammar: .port, variables: variables)
    }

    /// A parsed rule and where its sid was written, for duplicate reports.
    struct Parsed {
        var rule: Rule
        var sidOffset: Int
    }

    func parse(_ logical: LogicalRule, file: String) throws(SyntaxError) -> Parsed {
        var parse = SingleRule(bytes: logical.bytes, parser: self)
        var parsed = try parse.run()
        parsed.rule.location = RuleLocation(file: file, line: logical.line)
        return parsed
    }
}

/// One option between the parentheses: `keyword[: value];`.
struct RuleOption {
    /// The keyword as written, trimmed.
    var name: ArraySlice<UInt8>
    /// Nil for a keyword ghostport does not support.
    var keyword: OptionKeyword?
    var keywordOffset: Int { name.startIndex }
    /// Trimmed; its indices are offsets in the logical rule.
    var value: ArraySlice<UInt8>?

    init(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>?) {
        self.name = name
        self.value = value
        keyword = OptionKeyword(name)
    }

    /// The keyword in lower case, as messages name it.
    var keywordText: String { name.text.lowercased() }
}

/// The option keywords ghostport supports (`tcp.flags` is `flags`).
enum OptionKeyword: Int, CaseIterable {
    case msg, sid, rev, gid, classtype, priority, metadata, reference, flags, flow, threshold, detectionFilter
    case dsize, flowPackets, flowPacketsToServer, flowPacketsToClient

    var spelling: StaticString {
        switch self {
        case .msg: "msg"
        case .sid: "sid"
        case .rev: "rev"
        case .gid: "gid"
        case .classtype: "classtype"
        case .priority: "priority"
        case .metadata: "metadata"
        case .reference: "reference"
        case .flags: "flags"
        case .flow: "flow"
        case .threshold: "threshold"
        case .detectionFilter: "detection_filter"
        case .dsize: "dsize"
        case .flowPackets: "flow.pkts"
        case .flowPacketsToServer: "flow.pkts_toserver"
        case .flowPacketsToClient: "flow.pkts_toclient"
        }
    }

    /// May appear only once in a rule.
    var isSingle: Bool {
        switch self {
        case .metadata, .reference, .flowPackets, .flowPacketsToServer, .flowPacketsToClient: false
        default: true
        }
    }

    /// The keyword `name` spells, in any case; nil for any other word.
    init?(_ name: ArraySlice<UInt8>) {
        if name.equalsIgnoringCase("tcp.flags") {
            self = .flags
            return
        }
        guard let keyword = Self.allCases.first(where: { name.equalsIgnoringCase($0.spelling) }) else { return nil }
        self = keyword
    }
}

private let headerFields = [
    "action", "protocol", "source address", "source port", "direction",
    "destination address", "destination port",
]

/// Suricata actions ghostport does not take (it only watches).
private let suricataOnlyActions: Set<String> = ["config"]

private struct SingleRule {
    let bytes: [UInt8]
    let parser: RuleParser
    /// Known once the options are split, so every later message can name the rule.
    var sid: UInt32?

    init(bytes: [UInt8], parser: RuleParser) {
        self.bytes = bytes
        self.parser = parser
    }

    func fail(_ offset: Int, _ reason: String) -> SyntaxError {
        SyntaxError(offset: offset, reason: sid.map { "\(reason) in sid \($0)" } ?? reason)
    }

    func slice(_ range: Range<Int>) -> ArraySlice<UInt8> { bytes[range] }

    mutating func run() throws(SyntaxError) -> RuleParser.Parsed {
        let header = splitHeader()
        let optionsStart = header.openParen ?? bytes.firstIndex(of: UInt8(ascii: "("))
        var options: [RuleOption] = []
        var optionsError: SyntaxError?
        if let optionsStart {
            let split = splitOptions(from: optionsStart)
            options = split.options
            optionsError = split.error
        }
        var sidOffset = 0
        if let sidOption = options.first(where: { $0.keyword == .sid }), let value = sidOption.value {
            sidOffset = value.startIndex
            if let number = value.decimalUInt32, number > 0 { sid = number }
        }

        if let error = header.error { throw fail(error.offset, error.reason) }
        let tokens = header.tokens
        if tokens.count != 7 || header.openParen == nil {
            throw headerShapeError(tokens: tokens, openParen: header.openParen)
        }
        if let optionsError { throw fail(optionsError.offset, optionsError.reason) }

        let action = try parseAction(tokens[0])
        let proto = try parseProtocol(tokens[1])
        let source = try compile(parser.addresses, tokens[2])
        let sourcePorts = try compile(parser.ports, tokens[3])
        let direction = try parseDirection(tokens[4])
        let destination = try compile(parser.addresses, tokens[5])
        let destinationPorts = try compile(parser.ports, tokens[6])
        if !proto.hasPorts {
            for (token, ports) in [(tokens[3], sourcePorts), (tokens[6], destinationPorts)] where !ports.isFull {
                throw fail(token.lowerBound, "ports must be 'any' for protocol \(proto.rawValue)")
            }
        }

        var rule = Rule(
            action: action, proto: proto, source: source, sourcePorts: sourcePorts, direction: direction,
            destination: destination, destinationPorts: destinationPorts, sid: 0)
        rule.text = String(decoding: bytes, as: UTF8.self)
        try applyOptions(options, to: &rule)
        guard sid != nil else { throw fail(0, "missing sid") }
        return RuleParser.Parsed(rule: rule, sidOffset: sidOffset)
    }

    // MARK: Header

    struct Header {
        var tokens: [Range<Int>] = []
        var openParen: Int?
        var error: SyntaxError?
    }

    /// Whitespace-separated header fields; a bracketed list may hold spaces.
    func splitHeader() -> Header {
        var header = Header()
        var index = 0
        while index < bytes.count {
            if isSpace(bytes[index]) {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "(") {
                header.openParen = index
                return header
            }
            let start = index
            var depth = 0
            var outermostOpen = 0
            while index < bytes.count {
                let byte = bytes[index]
                if depth == 0 && (isSpace(byte) || byte == UInt8(ascii: "(")) { break }
                if byte == UInt8(ascii: "[") {
                    if depth == 0 { outermostOpen = index }
                    depth += 1
                } else if byte == UInt8(ascii: "]") {
                    if depth == 0 {
                        header.error = SyntaxError(offset: index, reason: "unbalanced brackets: unexpected ']'")
                        return header
                    }
                    depth -= 1
                }
                index += 1
            }
            if depth > 0 {
                header.error = SyntaxError(offset: outermostOpen, reason: "unbalanced brackets: missing ']'")
                return header
            }
            header.tokens.append(start..<index)
        }
        return header
    }

    func headerShapeError(tokens: [Range<Int>], openParen: Int?) -> SyntaxError {
        let arrows: Set<String> = ["->", "<>", "<-"]
        if tokens.count != 7,
           let arrow = tokens.firstIndex(where: { arrows.contains(slice($0).text) }), arrow != 4 {
            if arrow < 4 {
                return fail(tokens[arrow].lowerBound, "missing \(headerFields[arrow]) before '\(slice(tokens[arrow]).text)'")
            }
            return fail(tokens[4].lowerBound, "unexpected '\(slice(tokens[4]).text)' before '\(slice(tokens[arrow]).text)'")
        }
        if tokens.count < 7 {
            return fail(openParen ?? bytes.count, "missing \(headerFields[tokens.count]) in rule header")
        }
        if openParen == nil {
            if tokens.count == 7 { return fail(bytes.count, "expected '(' to open rule options") }
            return fail(tokens[7].lowerBound, "expected '(' to open rule options, found '\(slice(tokens[7]).text)'")
        }
        return fail(tokens[7].lowerBound, "unexpected '\(slice(tokens[7]).text)' after destination port")
    }

    func parseAction(_ token: Range<Int>) throws(SyntaxError) -> RuleAction {
        let text = slice(token).text
        if let action = RuleAction(rawValue: text) { return action }
        if suricataOnlyActions.contains(text) { throw fail(token.lowerBound, "unsupported action '\(text)'") }
        throw fail(token.lowerBound, "unknown action '\(text)'")
    }

    func parseProtocol(_ token: Range<Int>) throws(SyntaxError) -> RuleProtocol {
        let text = slice(token).text
        guard let proto = RuleProtocol(rawValue: text.lowercased()) else {
            throw fail(token.lowerBound, "unsupported protocol '\(text)'")
        }
        return proto
    }

    func parseDirection(_ token: Range<Int>) throws(SyntaxError) -> RuleDirection {
        let text = slice(token).text
        guard let direction = RuleDirection(rawValue: text) else {
            throw fail(token.lowerBound, "invalid direction '\(text)': expected '->' or '<>'")
        }
        return direction
    }

    func compile<Value>(_ compiler: SetCompiler<Value>, _ token: Range<Int>) throws(SyntaxError) -> Value {
        do {
            return try compiler.compile(slice(token), base: token.lowerBound)
        } catch {
            throw fail(error.offset, error.reason)
        }
    }

    // MARK: Options

    /// Splits `(k: v; k; ...)` at unescaped semicolons, as Suricata does (quotes do not protect `;`).
    /// After an error it keeps splitting where it can, so the sid is still found for the message.
    func splitOptions(from open: Int) -> (options: [RuleOption], error: SyntaxError?) {
        var options: [RuleOption] = []
        var firstError: SyntaxError?
        var index = open + 1
        let count = bytes.count
        while true {
            while index < count && isSpace(bytes[index]) { index += 1 }
            guard index < count else {
                return (options, firstError ?? SyntaxError(offset: open, reason: "unbalanced parentheses: missing ')'"))
            }
            if bytes[index] == UInt8(ascii: ")") {
                var after = index + 1
                while after < count && isSpace(bytes[after]) { after += 1 }
                if after < count {
                    return (options, firstError ?? SyntaxError(offset: after, reason: "unexpected '\(slice(after..<count).text)' after ')'"))
                }
                return (options, firstError)
            }
            let keywordStart = index
            while index < count && bytes[index] != UInt8(ascii: ":") && bytes[index] != UInt8(ascii: ";") { index += 1 }
            let keyword = slice(keywordStart..<index).trimmingSpaces()
            var value: ArraySlice<UInt8>?
            if index < count && bytes[index] == UInt8(ascii: ":") {
                let valueStart = index + 1
                index = valueStart
                while index < count && bytes[index] != UInt8(ascii: ";") {
                    // A backslash keeps the next byte, `\;` included.
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                index = min(index, count)
                value = slice(valueStart..<index).trimmingSpaces()
            }
            guard index < count else {
                let tail = slice(keywordStart..<count).trimmingSpaces()
                if tail.last == UInt8(ascii: ")") {
                    let name = (keyword.last == UInt8(ascii: ")") ? keyword.dropLast() : keyword).trimmingSpaces()
                    options.append(RuleOption(name: name, value: value.map { $0.dropLast().trimmingSpaces() }))
                    return (options, firstError ?? SyntaxError(offset: tail.endIndex - 1, reason: "missing ';' after option '\(name.text)'"))
                }
                return (options, firstError ?? SyntaxError(offset: open, reason: "unbalanced parentheses: missing ')'"))
            }
            if keyword.isEmpty {
                if firstError == nil {
                    firstError = SyntaxError(offset: keywordStart, reason: "missing option keyword before ';'")
                }
            } else {
                options.append(RuleOption(name: keyword, value: value))
            }
            index += 1
        }
    }

    mutating func applyOptions(_ options: [RuleOption], to rule: inout Rule) throws(SyntaxError) {
        var seen: UInt32 = 0
        var priority: Int?
        for option in options {
            guard let keyword = option.keyword else {
                throw fail(option.keywordOffset, "unsupported keyword '\(option.keywordText)'")
            }
            let bit: UInt32 = 1 << UInt32(keyword.rawValue)
            if keyword.isSingle && seen & bit != 0 {
                throw fail(option.keywordOffset, "duplicate option '\(option.keywordText)'")
            }
            seen |= bit
            guard let value = option.value, !value.isEmpty else {
                throw fail(option.keywordOffset, "option '\(option.keywordText)' needs a value")
            }
            let at = value.startIndex
            switch keyword {
            case .msg:
                rule.msg = try parseMsg(value)
            case .sid:
                guard let number = value.decimalUInt32, number > 0 else {
                    throw fail(at, "invalid sid '\(value.text)'")
                }
                rule.sid = number
            case .rev:
                guard let number = value.decimalUInt32 else { throw fail(at, "invalid rev '\(value.text)'") }
                rule.rev = number
            case .gid:
                guard let number = value.decimalUInt32 else { throw fail(at, "invalid gid '\(value.text)'") }
                rule.gid = number
            case .classtype:
                guard let classtype = parser.classification[value.text] else {
                    throw fail(at, "unknown classtype '\(value.text)'")
                }
                rule.classtype = classtype.name
                rule.category = classtype.description
                rule.priority = classtype.priority
            case .priority:
                guard let number = value.decimalUInt32, number >= 1, number <= 255 else {
                    throw fail(at, "invalid priority '\(value.text)': expected 1 to 255")
                }
                priority = Int(number)
            case .metadata:
                try parseMetadata(value, into: &rule.metadata)
            case .reference:
                guard let comma = value.firstIndex(of: UInt8(ascii: ",")),
                      case let system = value[..<comma].trimmingSpaces(), !system.isEmpty,
                      case let id = value[(comma + 1)...].trimmingSpaces(), !id.isEmpty else {
                    throw fail(at, "invalid reference '\(value.text)': expected 'system, id'")
                }
                rule.references.append(RuleReference(system: system.text, id: id.text))
            case .flags:
                guard rule.proto == .tcp || rule.proto == .ip else {
                    throw fail(option.keywordOffset, "keyword '\(option.keywordText)' needs protocol tcp, not \(rule.proto.rawValue)")
                }
                rule.flags = try parseFlags(value)
            case .flow:
                rule.flow = try parseFlow(value)
            case .threshold:
                if seen & 1 << UInt32(OptionKeyword.detectionFilter.rawValue) != 0 {
                    throw fail(option.keywordOffset, "'threshold' and 'detection_filter' can't be used in the same rule")
                }
                rule.threshold = try parseThreshold(value)
            case .detectionFilter:
                if seen & 1 << UInt32(OptionKeyword.threshold.rawValue) != 0 {
                    throw fail(option.keywordOffset, "'threshold' and 'detection_filter' can't be used in the same rule")
                }
                rule.detectionFilter = try parseDetectionFilter(value)
            case .dsize:
                rule.dsize = try parseInteger(value, maximum: UInt32(UInt16.max))
            case .flowPackets, .flowPacketsToServer, .flowPacketsToClient:
                let match = try parseFlowPackets(value, keyword: keyword)
                guard rule.flowPackets.append(match) else {
                    throw fail(option.keywordOffset, "at most \(FlowPacketsMatches.capacity) flow.pkts conditions in a rule")
                }
            }
        }
        if let priority { rule.priority = priority }
    }

    /// A quoted string; a backslash keeps the next character (`\"`, `\;`, `\\`), as Suricata does.
    func parseMsg(_ value: ArraySlice<UInt8>) throws(SyntaxError) -> String {
        guard value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") else {
            throw fail(value.startIndex, "msg must be a quoted string")
        }
        var text: [UInt8] = []
        text.reserveCapacity(value.count)
        var index = value.startIndex + 1
        let end = value.endIndex - 1
        while index < end {
            if value[index] == UInt8(ascii: "\\") {
                guard index + 1 < end else { throw fail(value.startIndex, "unterminated string in msg") }
                index += 1
            }
            text.append(value[index])
            index += 1
        }
        return String(decoding: text, as: UTF8.self)
    }

    func parseMetadata(_ value: ArraySlice<UInt8>, into metadata: inout [String: [String]]) throws(SyntaxError) {
        for item in value.split(on: UInt8(ascii: ",")) {
            let entry = item.trimmingSpaces()
            guard let space = entry.firstIndex(where: isSpace) else {
                throw fail(entry.isEmpty ? item.startIndex : entry.startIndex,
                           "invalid metadata '\(entry.text)': expected 'key value'")
            }
            let key = entry[..<space].text
            let entryValue = entry[space...].trimmingSpaces().text
            metadata[key, default: []].append(entryValue)
        }
    }

    /// Suricata's `[!+*]FLAGS[,IGNORED]`; the modifier may stand before or after the letters.
    func parseFlags(_ value: ArraySlice<UInt8>) throws(SyntaxError) -> TCPFlagsMatch {
        let parts = value.split(on: UInt8(ascii: ","))
        guard parts.count <= 2 else { throw fail(value.startIndex, "invalid flags '\(value.text)'") }
        var flags: UInt8 = 0
        var modifier: TCPFlagsMatch.Modifier?
        var letters = 0
        var sawZero = false
        for index in parts[0].indices {
            let byte = parts[0][index]
            if isSpace(byte) { continue }
            switch byte {
            case UInt8(ascii: "+"), UInt8(ascii: "*"), UInt8(ascii: "!"):
                guard modifier == nil else { throw fail(index, "flags take only one modifier") }
                modifier = byte == UInt8(ascii: "+") ? .all : byte == UInt8(ascii: "*") ? .any : .not
            case UInt8(ascii: "0"):
                sawZero = true
                letters += 1
            default:
                guard let bit = flagBit(byte) else {
                    throw fail(index, "invalid flag '\(String(UnicodeScalar(byte)))' in flags '\(value.text)'")
                }
                flags |= bit
                letters += 1
            }
        }
        guard letters > 0 else { throw fail(value.startIndex, "invalid flags '\(value.text)': no flag given") }
        if sawZero && flags != 0 { throw fail(value.startIndex, "invalid flags '\(value.text)': '0' means no flags") }
        var ignored: UInt8 = 0
        if parts.count == 2 {
            let mask = parts[1].trimmingSpaces()
            guard !mask.isEmpty else { throw fail(parts[1].startIndex, "invalid flags '\(value.text)': empty ignore mask") }
            for index in mask.indices {
                guard let bit = flagBit(mask[index]) else {
                    throw fail(index, "invalid flag '\(String(UnicodeScalar(mask[index])))' in flags '\(value.text)'")
                }
                ignored |= bit
            }
        }
        return TCPFlagsMatch(flags: flags, modifier: modifier ?? .exact, ignored: ignored)
    }

    func flagBit(_ byte: UInt8) -> UInt8? {
        switch byte | 0x20 {
        case UInt8(ascii: "f"): TCPFlagsMatch.fin
        case UInt8(ascii: "s"): TCPFlagsMatch.syn
        case UInt8(ascii: "r"): TCPFlagsMatch.rst
        case UInt8(ascii: "p"): TCPFlagsMatch.psh
        case UInt8(ascii: "a"): TCPFlagsMatch.ack
        case UInt8(ascii: "u"): TCPFlagsMatch.urg
        case UInt8(ascii: "e"), UInt8(ascii: "2"): TCPFlagsMatch.ece
        case UInt8(ascii: "c"), UInt8(ascii: "1"): TCPFlagsMatch.cwr
        default: nil
        }
    }

    func parseFlow(_ value: ArraySlice<UInt8>) throws(SyntaxError) -> FlowMatch {
        var flow = FlowMatch()
        var directionWord: String?
        var stateWord: String?
        for item in value.split(on: UInt8(ascii: ",")) {
            let word = item.trimmingSpaces()
            let text = word.text.lowercased()
            let at = word.isEmpty ? item.startIndex : word.startIndex
            switch text {
            case "to_server", "from_client", "to_client", "from_server":
                let direction: FlowMatch.Direction = text == "to_server" || text == "from_client" ? .toServer : .toClient
                if let directionWord, flow.direction != direction {
                    throw fail(at, "conflicting flow options '\(directionWord)' and '\(text)'")
                }
                flow.direction = direction
                directionWord = text
            case "established", "not_established":
                let state: FlowMatch.State = text == "established" ? .established : .notEstablished
                if let stateWord, flow.state != state {
                    throw fail(at, "conflicting flow options '\(stateWord)' and '\(text)'")
                }
                flow.state = state
                stateWord = text
            case "stateless":
                flow.stateless = true
            case "only_stream", "no_stream", "only_frag", "no_frag":
                throw fail(at, "unsupported flow option '\(word.text)'")
            default:
                throw fail(at, "invalid flow option '\(word.text)'")
            }
        }
        return flow
    }

    func parseInteger(_ value: ArraySlice<UInt8>, maximum: UInt32) throws(SyntaxError) -> IntegerMatch {
        do {
            return try IntegerMatch.parse(value, maximum: maximum)
        } catch {
            throw fail(error.offset, error.reason)
        }
    }

    /// `flow.pkts: toserver|toclient|either, COMPARISON`, or the older `flow.pkts_toserver: COMPARISON`.
    func parseFlowPackets(_ value: ArraySlice<UInt8>, keyword: OptionKeyword) throws(SyntaxError) -> FlowPacketsMatch {
        switch keyword {
        case .flowPacketsToServer: return FlowPacketsMatch(side: .toServer, count: try parseInteger(value, maximum: .max))
        case .flowPacketsToClient: return FlowPacketsMatch(side: .toClient, count: try parseInteger(value, maximum: .max))
        default: break
        }
        guard let comma = value.firstIndex(of: UInt8(ascii: ",")) else {
            throw fail(value.startIndex, "invalid flow.pkts '\(value.text)': expected 'toserver|toclient|either, number'")
        }
        let word = value[..<comma].trimmingSpaces()
        let side: FlowPacketsMatch.Side
        switch word.text.lowercased() {
        case "toserver": side = .toServer
        case "toclient": side = .toClient
        case "either": side = .either
        default:
            throw fail(word.isEmpty ? value.startIndex : word.startIndex,
                       "invalid flow.pkts direction '\(word.text)': expected toserver, toclient or either")
        }
        return FlowPacketsMatch(side: side, count: try parseInteger(value[(comma + 1)...], maximum: .max))
    }

    /// `name value` pairs separated by commas, each name at most once.
    func parsePairs(_ value: ArraySlice<UInt8>, keyword: String, names: [String]) throws(SyntaxError)
        -> [String: ArraySlice<UInt8>]
    {
        var pairs: [String: ArraySlice<UInt8>] = [:]
        for item in value.split(on: UInt8(ascii: ",")) {
            let entry = item.trimmingSpaces()
            let at = entry.isEmpty ? item.startIndex : entry.startIndex
            let space = entry.firstIndex(where: isSpace) ?? entry.endIndex
            let name = entry[..<space].text.lowercased()
            let pairValue = entry[space...].trimmingSpaces()
            guard names.contains(name) else {
                throw fail(at, "unknown \(keyword) option '\(entry[..<space].text)'")
            }
            guard !pairValue.isEmpty else { throw fail(at, "\(keyword) option '\(name)' needs a value") }
            guard pairs.updateValue(pairValue, forKey: name) == nil else {
                throw fail(at, "duplicate '\(name)' in \(keyword)")
            }
        }
        for name in names where pairs[name] == nil {
            throw fail(value.startIndex, "\(keyword) is missing '\(name)'")
        }
        return pairs
    }

    func parseTrack(_ value: ArraySlice<UInt8>) throws(SyntaxError) -> ThresholdTrack {
        guard let track = ThresholdTrack(rawValue: value.text.lowercased()) else {
            throw fail(value.startIndex, "invalid track '\(value.text)': expected by_src, by_dst, by_rule or by_both")
        }
        return track
    }

    func parseCount(_ value: ArraySlice<UInt8>, name: String) throws(SyntaxError) -> UInt32 {
        guard let number = value.decimalUInt32, number > 0 else {
            throw fail(value.startIndex, "invalid \(name) '\(value.text)'")
        }
        return number
    }

    func parseThreshold(_ value: ArraySlice<UInt8>) throws(SyntaxError) -> Threshold {
        let pairs = try parsePairs(value, keyword: "threshold", names: ["type", "track", "count", "seconds"])
        // parsePairs guarantees all four names are present.
        let typeText = pairs["type"]!, trackText = pairs["track"]!
        let countText = pairs["count"]!, secondsText = pairs["seconds"]!
        guard let kind = Threshold.Kind(rawValue: typeText.text.lowercased()) else {
            throw fail(typeText.startIndex, "invalid threshold type '\(typeText.text)': expected limit, threshold or both")
        }
        return Threshold(
            kind: kind, track: try parseTrack(trackText),
            count: try parseCount(countText, name: "count"), seconds: try parseCount(secondsText, name: "seconds"))
    }

    func parseDetectionFilter(_ value: ArraySlice<UInt8>) throws(SyntaxError) -> DetectionFilter {
        let pairs = try parsePairs(value, keyword: "detection_filter", names: ["track", "count", "seconds"])
        let trackText = pairs["track"]!, countText = pairs["count"]!, secondsText = pairs["seconds"]!
        return DetectionFilter(
            track: try parseTrack(trackText),
            count: try parseCount(countText, name: "count"), seconds: try parseCount(secondsText, name: "seconds"))
    }
}
