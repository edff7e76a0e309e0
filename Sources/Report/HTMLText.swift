/// Text for an HTML page: every value from a record goes through `escape` before it is placed,
/// in an element or in a quoted attribute alike, so a hostile EVE line stays text.
enum HTMLText {
    /// `&`, `<`, `>`, `"` and `'` as character references; control characters (but tab and
    /// newline) and noncharacters as U+FFFD, so nothing in a record can end an element or an
    /// attribute, or make the parser guess.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                if value < 0x20 || (0x7F...0x9F).contains(value) || (0xFDD0...0xFDEF).contains(value) || value & 0xFFFE == 0xFFFE {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// `1,234,567`.
    static func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// A count that may be an estimate: `≈ 1,234`.
    static func count(_ value: Int, estimate: Bool) -> String {
        estimate ? "≈ " + number(value) : number(value)
    }
}
