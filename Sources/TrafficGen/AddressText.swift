/// Address text to bytes, for builders and expectations. Traps on malformed text: test input only.
public enum AddressText {
    /// "10.0.0.1" → 4 bytes; anything with a colon → 16 bytes (`::` and a trailing dotted quad allowed).
    public static func bytes(_ text: String) -> [UInt8] {
        text.contains(":") ? ipv6(text) : ipv4(text)
    }

    static func ipv4(_ text: String) -> [UInt8] {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        precondition(parts.count == 4, "not an IPv4 address: \(text)")
        return parts.map { part in
            guard let value = UInt8(part) else { preconditionFailure("not an IPv4 address: \(text)") }
            return value
        }
    }

    static func ipv6(_ text: String) -> [UInt8] {
        func groups(_ side: Substring) -> [UInt8] {
            guard !side.isEmpty else { return [] }
            var bytes: [UInt8] = []
            for group in side.split(separator: ":", omittingEmptySubsequences: false) {
                if group.contains(".") {
                    bytes += ipv4(String(group))
                } else {
                    guard group.count <= 4, let value = UInt16(group, radix: 16) else {
                        preconditionFailure("not an IPv6 address: \(text)")
                    }
                    bytes.append16(value)
                }
            }
            return bytes
        }
        let gap = text.firstRange(of: "::")
        let head = groups(gap.map { text[..<$0.lowerBound] } ?? text[...])
        let tail = gap.map { groups(text[$0.upperBound...]) } ?? []
        let zeros = 16 - head.count - tail.count
        precondition(zeros >= 0 && (gap != nil || zeros == 0), "not an IPv6 address: \(text)")
        return head + [UInt8](repeating: 0, count: zeros) + tail
    }
}
