/// The algebra address and port expressions compile to.
protocol CompilableSet: Sendable {
    static var anyValue: Self { get }
    var isEmpty: Bool { get }
    func union(_ other: Self) -> Self
    func subtracting(_ other: Self) -> Self
    func complement() -> Self
}

extension AddressSet: CompilableSet {
    static var anyValue: AddressSet { .any }
}

extension IntervalSet: CompilableSet {
    static var anyValue: IntervalSet { .all }
}

/// What kind of set an expression denotes: how to read one literal, and its name in messages.
struct SetGrammar<Value: CompilableSet>: Sendable {
    var noun: String
    /// Reads one literal (no lists, `!` or `$`); returns a reason on failure.
    var literal: @Sendable (ArraySlice<UInt8>) -> Result<Value, LiteralError>
}

struct LiteralError: Error, Sendable {
    var reason: String
}

extension SetGrammar where Value == AddressSet {
    static let address = SetGrammar(noun: "address") { token in
        let text = token.text
        if let slash = token.firstIndex(of: UInt8(ascii: "/")) {
            let host = token[token.startIndex..<slash]
            let mask = token[(slash + 1)...]
            if let v4 = IPAddressText.parseIPv4(host) {
                if let bits = mask.decimalUInt32, bits <= 32 {
                    return .success(.ipv4(v4, prefix: Int(bits)))
                }
                // Suricata also takes a dotted netmask; only contiguous ones make a block.
                if let netmask = IPAddressText.parseIPv4(mask), (~netmask &+ 1) & ~netmask == 0 {
                    return .success(.ipv4(v4, prefix: netmask.nonzeroBitCount))
                }
                return .failure(LiteralError(reason: "invalid netmask in address '\(text)'"))
            }
            if let v6 = IPAddressText.parseIPv6(host) {
                if let bits = mask.decimalUInt32, bits <= 128 {
                    return .success(.ipv6(v6, prefix: Int(bits)))
                }
                return .failure(LiteralError(reason: "invalid netmask in address '\(text)'"))
            }
            return .failure(LiteralError(reason: "invalid address '\(text)'"))
        }
        if let dash = token.firstIndex(of: UInt8(ascii: "-")) {
            let first = token[token.startIndex..<dash]
            let last = token[(dash + 1)...]
            if let low = IPAddressText.parseIPv4(first), let high = IPAddressText.parseIPv4(last) {
                guard low <= high else { return .failure(LiteralError(reason: "invalid address range '\(text)'")) }
                return .success(AddressSet(v4: IntervalSet(low...high)))
            }
            if let low = IPAddressText.parseIPv6(first), let high = IPAddressText.parseIPv6(last) {
                guard low <= high else { return .failure(LiteralError(reason: "invalid address range '\(text)'")) }
                return .success(AddressSet(v6: IntervalSet(low...high)))
            }
            return .failure(LiteralError(reason: "invalid address '\(text)'"))
        }
        if let v4 = IPAddressText.parseIPv4(token) { return .success(.ipv4(v4)) }
        if let v6 = IPAddressText.parseIPv6(token) { return .success(.ipv6(v6)) }
        return .failure(LiteralError(reason: "invalid address '\(text)'"))
    }
}

extension SetGrammar where Value == PortSet {
    static let port = SetGrammar(noun: "port") { token in
        func number(_ digits: ArraySlice<UInt8>) -> UInt16? {
            guard let value = digits.decimalUInt32, value <= UInt32(UInt16.max) else { return nil }
            return UInt16(value)
        }
        guard let colon = token.firstIndex(of: UInt8(ascii: ":")) else {
            guard let port = number(token) else { return .failure(LiteralError(reason: "invalid port '\(token.text)'")) }
            return .success(PortSet(port...port))
        }
        let lowText = token[token.startIndex..<colon]
        let highText = token[(colon + 1)...]
        if lowText.isEmpty && highText.isEmpty {
            return .failure(LiteralError(reason: "invalid port range '\(token.text)'"))
        }
        guard let low = lowText.isEmpty ? 0 : number(lowText),
              let high = highText.isEmpty ? UInt16.max : number(highText) else {
            return .failure(LiteralError(reason: "invalid port range '\(token.text)'"))
        }
        guard low <= high else { return .failure(LiteralError(reason: "invalid port range '\(token.text)': \(low) > \(high)")) }
        return .success(PortSet(low...high))
    }
}

/// Compiles address and port expressions: `any`, literals, `[lists]`, `!negation`, `$VARIABLES`.
///
/// Variables are resolved once and cached; a variable's own errors are reported at the
/// `$NAME` that led to them.
final class SetCompiler<Value: CompilableSet> {
    let grammar: SetGrammar<Value>
    let variables: [String: String]
    private var cache: [String: Result<Value, SyntaxError>] = [:]
    private var resolving: [String] = []

    init(grammar: SetGrammar<Value>, variables: [String: String]) {
        self.grammar = grammar
        self.variables = variables
    }

    /// Compiles a whole header field; `base` is the field's offset in the logical rule.
    func compile(_ field: ArraySlice<UInt8>, base: Int) throws(SyntaxError) -> Value {
        var parser = Parser(bytes: field, base: base)
        let element = try parseElement(&parser)
        parser.skipSpaces()
        if parser.index < field.endIndex {
            throw parser.error("unexpected '\(field[parser.index...].text)' after \(grammar.noun)")
        }
        let value = element.negated ? element.value.complement() : element.value
        if value.isEmpty {
            throw SyntaxError(offset: base, reason: "\(grammar.noun) '\(field.text)' matches nothing")
        }
        return value
    }

    private struct Parser {
        let bytes: ArraySlice<UInt8>
        let base: Int
        var index: Int

        init(bytes: ArraySlice<UInt8>, base: Int) {
            self.bytes = bytes
            self.base = base
            index = bytes.startIndex
        }

        var offset: Int { base + (index - bytes.startIndex) }
        var atEnd: Bool { index >= bytes.endIndex }
        var current: UInt8? { atEnd ? nil : bytes[index] }

        mutating func skipSpaces() {
            while let byte = current, isSpace(byte) { index += 1 }
        }

        func error(_ reason: String, at position: Int? = nil) -> SyntaxError {
            SyntaxError(offset: base + ((position ?? index) - bytes.startIndex), reason: reason)
        }
    }

    /// One element: its set and whether it was written negated (lists subtract those).
    private func parseElement(_ parser: inout Parser) throws(SyntaxError) -> (value: Value, negated: Bool) {
        parser.skipSpaces()
        guard let byte = parser.current else {
            throw parser.error("missing \(grammar.noun)")
        }
        switch byte {
        case UInt8(ascii: "!"):
            parser.index += 1
            let inner = try parseElement(&parser)
            // `!!x` is x again.
            return (inner.value, !inner.negated)
        case UInt8(ascii: "["):
            return (try parseList(&parser), false)
        case UInt8(ascii: "]"):
            throw parser.error("unbalanced brackets: unexpected ']'")
        case UInt8(ascii: ","):
            throw parser.error("missing \(grammar.noun) before ','")
        default:
            let start = parser.index
            while let next = parser.current, next != UInt8(ascii: ","), next != UInt8(ascii: "]"),
                  next != UInt8(ascii: "["), !isSpace(next) {
                parser.index += 1
            }
            let token = parser.bytes[start..<parser.index]
            if token.first == UInt8(ascii: "$") {
                return (try resolve(name: token.dropFirst().text, at: parser.error("", at: start).offset), false)
            }
            if token.elementsEqual("any".utf8) { return (Value.anyValue, false) }
            switch grammar.literal(token) {
            case .success(let value): return (value, false)
            case .failure(let failure): throw parser.error(failure.reason, at: start)
            }
        }
    }

    private func parseList(_ parser: inout Parser) throws(SyntaxError) -> Value {
        let open = parser.index
        parser.index += 1
        var positive: Value?
        var negative: Value?
        parser.skipSpaces()
        if parser.current == UInt8(ascii: "]") {
            throw parser.error("empty \(grammar.noun) list", at: open)
        }
        while true {
            let element = try parseElement(&parser)
            if element.negated {
                negative = negative.map { $0.union(element.value) } ?? element.value
            } else {
                positive = positive.map { $0.union(element.value) } ?? element.value
            }
            parser.skipSpaces()
            guard let byte = parser.current else {
                throw parser.error("unbalanced brackets: missing ']'", at: open)
            }
            parser.index += 1
            if byte == UInt8(ascii: "]") { break }
            if byte != UInt8(ascii: ",") {
                throw parser.error("expected ',' or ']' in \(grammar.noun) list", at: parser.index - 1)
            }
        }
        // Suricata: a list of only negations means everything except them.
        let base = positive ?? Value.anyValue
        return negative.map { base.subtracting($0) } ?? base
    }

    private func resolve(name: String, at offset: Int) throws(SyntaxError) -> Value {
        if let cached = cache[name] {
            switch cached {
            case .success(let value): return value
            case .failure(let failure): throw SyntaxError(offset: offset, reason: failure.reason)
            }
        }
        if let index = resolving.firstIndex(of: name) {
            let cycle = (resolving[index...] + [name]).map { "$" + $0 }.joined(separator: " -> ")
            throw SyntaxError(offset: offset, reason: "variable cycle \(cycle)")
        }
        guard let text = variables[name] else {
            throw SyntaxError(offset: offset, reason: "undefined variable '$\(name)'")
        }
        resolving.append(name)
        defer { resolving.removeLast() }
        let result: Result<Value, SyntaxError>
        do {
            result = .success(try compile(Array(text.utf8)[...], base: offset))
        } catch {
            // Name the innermost variable whose value is wrong; cycles and undefined names already do.
            let named = error.reason.hasPrefix("undefined variable") || error.reason.hasPrefix("variable cycle")
                || error.reason.contains(" in variable $")
            let reason = named ? error.reason : "\(error.reason) in variable $\(name)"
            result = .failure(SyntaxError(offset: offset, reason: reason))
        }
        // A cycle depends on where resolution started, so only cache answers outside one.
        if case .success = result { cache[name] = result } else if resolving.count == 1 { cache[name] = result }
        return try result.get()
    }
}
