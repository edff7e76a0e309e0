/// An integer comparison as Suricata's integer keywords write it (`dsize`, `flow.pkts`):
/// `N` or `=N`, `!N` or `!=N`, `<N`, `<=N`, `>N`, `>=N`, and the exclusive ranges `A-B` and
/// `A<>B` (A < x < B) and their negation `!A-B`.
public struct IntegerMatch: Sendable, Hashable, BitwiseCopyable {
    public enum Mode: Sendable, Hashable, BitwiseCopyable {
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual
        /// Strictly between `value` and `upper`.
        case between
        /// Not strictly between `value` and `upper`.
        case notBetween
    }

    public var mode: Mode
    public var value: UInt32
    /// The upper bound of a range; unused otherwise.
    public var upper: UInt32

    public init(_ mode: Mode, _ value: UInt32, upper: UInt32 = 0) {
        self.mode = mode
        self.value = value
        self.upper = upper
    }

    @inlinable
    public func matches(_ x: UInt32) -> Bool {
        switch mode {
        case .equal: x == value
        case .notEqual: x != value
        case .less: x < value
        case .lessOrEqual: x <= value
        case .greater: x > value
        case .greaterOrEqual: x >= value
        case .between: x > value && x < upper
        case .notBetween: !(x > value && x < upper)
        }
    }

    /// Parses the text of one comparison; `maximum` bounds every number (65,535 for `dsize`).
    /// The error's offset is an index into `text`.
    static func parse(_ text: ArraySlice<UInt8>, maximum: UInt32) throws(SyntaxError) -> IntegerMatch {
        var rest = text.trimmingSpaces()
        let start = rest.startIndex
        func number(_ digits: ArraySlice<UInt8>) throws(SyntaxError) -> UInt32 {
            let trimmed = digits.trimmingSpaces()
            let at = trimmed.isEmpty ? digits.startIndex : trimmed.startIndex
            guard !trimmed.isEmpty else { throw SyntaxError(offset: at, reason: "missing number in '\(text.text)'") }
            var value: UInt64 = 0
            var radix: UInt64 = 10
            var body = trimmed
            if body.count > 2, body.first == UInt8(ascii: "0"), body[body.startIndex + 1] | 0x20 == UInt8(ascii: "x") {
                radix = 16
                body = body.dropFirst(2)
            }
            for byte in body {
                let digit: UInt64
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = UInt64(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = UInt64(byte - UInt8(ascii: "A") + 10)
                default: throw SyntaxError(offset: at, reason: "invalid number '\(trimmed.text)'")
                }
                value = value * radix + digit
                guard value <= UInt64(maximum) else {
                    throw SyntaxError(offset: at, reason: "number '\(trimmed.text)' is out of range: at most \(maximum)")
                }
            }
            return UInt32(value)
        }
        guard let first = rest.first else { throw SyntaxError(offset: start, reason: "missing number") }
        var negated = false
        var mode: Mode?
        switch first {
        case UInt8(ascii: "!"):
            negated = true
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "=") { rest = rest.dropFirst() }
        case UInt8(ascii: "="):
            rest = rest.dropFirst()
            mode = .equal
        case UInt8(ascii: "<"):
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "=") {
                rest = rest.dropFirst()
                mode = .lessOrEqual
            } else {
                mode = .less
            }
        case UInt8(ascii: ">"):
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "=") {
                rest = rest.dropFirst()
                mode = .greaterOrEqual
            } else {
                mode = .greater
            }
        default: break
        }
        if let mode { return IntegerMatch(mode, try number(rest)) }
        // N, !N, A-B, A<>B, !A-B.
        if let range = rangeSplit(rest) {
            let low = try number(range.low), high = try number(range.high)
            guard low < high else {
                throw SyntaxError(offset: start, reason: "invalid range '\(text.text)': the first number must be smaller")
            }
            return IntegerMatch(negated ? .notBetween : .between, low, upper: high)
        }
        return IntegerMatch(negated ? .notEqual : .equal, try number(rest))
    }

    /// `A-B` or `A<>B` split at the operator.
    private static func rangeSplit(_ text: ArraySlice<UInt8>) -> (low: ArraySlice<UInt8>, high: ArraySlice<UInt8>)? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == UInt8(ascii: "-") { return (text[..<index], text[(index + 1)...]) }
            if text[index] == UInt8(ascii: "<"), index + 1 < text.endIndex, text[index + 1] == UInt8(ascii: ">") {
                return (text[..<index], text[(index + 2)...])
            }
            index += 1
        }
        return nil
    }
}

/// `flow.pkts`: a comparison on the packets one side of the flow has sent, this one included.
public struct FlowPacketsMatch: Sendable, Hashable, BitwiseCopyable {
    public enum Side: Sendable, Hashable, BitwiseCopyable {
        case toServer, toClient, either
    }

    public var side: Side
    public var count: IntegerMatch

    public init(side: Side, count: IntegerMatch) {
        self.side = side
        self.count = count
    }

    /// Never matches a packet with no flow behind it (as Suricata).
    @inlinable
    public func matches(_ flow: FlowFacts) -> Bool {
        guard flow.direction != .unknown else { return false }
        switch side {
        case .toServer: return count.matches(flow.packetsToServer)
        case .toClient: return count.matches(flow.packetsToClient)
        case .either: return count.matches(flow.packetsToServer) || count.matches(flow.packetsToClient)
        }
    }
}

/// Up to four `flow.pkts` conditions, inline so a compiled rule stays plain bytes.
public struct FlowPacketsMatches: Sendable, Hashable, BitwiseCopyable {
    public static let capacity = 4
    private var storage: (FlowPacketsMatch?, FlowPacketsMatch?, FlowPacketsMatch?, FlowPacketsMatch?)
    public private(set) var count = 0

    public init() { storage = (nil, nil, nil, nil) }

    public var isEmpty: Bool { count == 0 }

    public subscript(index: Int) -> FlowPacketsMatch {
        switch index {
        case 0: storage.0!
        case 1: storage.1!
        case 2: storage.2!
        default: storage.3!
        }
    }

    /// False when full.
    public mutating func append(_ match: FlowPacketsMatch) -> Bool {
        switch count {
        case 0: storage.0 = match
        case 1: storage.1 = match
        case 2: storage.2 = match
        case 3: storage.3 = match
        default: return false
        }
        count += 1
        return true
    }

    @inlinable
    public func matches(_ flow: FlowFacts) -> Bool {
        for index in 0..<count where !self[index].matches(flow) { return false }
        return true
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.count == rhs.count && (0..<lhs.count).allSatisfy { lhs[$0] == rhs[$0] }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for index in 0..<count { hasher.combine(self[index]) }
    }
}
