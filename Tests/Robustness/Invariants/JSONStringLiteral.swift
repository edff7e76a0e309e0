/// A strict reader of one JSON string literal (RFC 8259 section 7), independent of Foundation.
/// Shared by fuzz-json (Tests/Fuzz links this file) and the Robustness tests.
enum JSONStringLiteral {
    /// The scalars of `bytes` read as exactly one string literal and nothing else; nil when it is not one.
    static func decode(_ bytes: [UInt8]) -> [Unicode.Scalar]? {
        decode(bytes, dropsFEFFOpeningARun: false)
    }

    /// What JSONSerialization makes of `bytes` (swift-foundation#300): a raw U+FEFF at the start of
    /// the literal or right after an escape is dropped.
    static func foundationReading(_ bytes: [UInt8]) -> [Unicode.Scalar] {
        decode(bytes, dropsFEFFOpeningARun: true) ?? []
    }

    private static func decode(_ bytes: [UInt8], dropsFEFFOpeningARun: Bool) -> [Unicode.Scalar]? {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return nil }
        let body = bytes[1..<(bytes.count - 1)]
        var scalars: [Unicode.Scalar] = []
        var index = body.startIndex
        var runStart = true
        while index < body.endIndex {
            let byte = body[index]
            if byte == UInt8(ascii: "\"") || byte < 0x20 { return nil }
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < body.endIndex else { return nil }
                let escape = body[index + 1]
                index += 2
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    guard let unit = hex4(body, at: index) else { return nil }
                    index += 4
                    if (0xD800..<0xDC00).contains(unit) {
                        // A high surrogate must be followed by an escaped low one.
                        guard index + 6 <= body.endIndex, body[index] == UInt8(ascii: "\\"), body[index + 1] == UInt8(ascii: "u"),
                              let low = hex4(body, at: index + 2), (0xDC00..<0xE000).contains(low) else { return nil }
                        index += 6
                        scalars.append(Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!)
                    } else {
                        guard let scalar = Unicode.Scalar(unit) else { return nil }
                        scalars.append(scalar)
                    }
                default:
                    return nil
                }
                runStart = true
                continue
            }
            // One UTF-8 encoded scalar, validated.
            let length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
            guard index + length <= body.endIndex,
                  let scalar = String(validating: body[index..<(index + length)], as: UTF8.self)?.unicodeScalars.first
            else { return nil }
            index += length
            if !(dropsFEFFOpeningARun && runStart && scalar == "\u{FEFF}") { scalars.append(scalar) }
            runStart = false
        }
        return scalars
    }

    private static func hex4(_ body: ArraySlice<UInt8>, at index: Int) -> UInt32? {
        guard index + 4 <= body.endIndex else { return nil }
        var value: UInt32 = 0
        for byte in body[index..<(index + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
