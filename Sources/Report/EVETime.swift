import Baseline

/// EVE's timestamps (`2025-06-15T09:12:01.009000+0000`: local time with its zone, as Suricata
/// writes them; `Z` and `+00:00` are read too) as microseconds since the epoch, and back as UTC.
public enum EVETime {
    public static func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> Int64? {
        func digits(_ at: Int, _ count: Int) -> Int64? {
            guard at + count <= b.count else { return nil }
            var value: Int64 = 0
            for i in at..<(at + count) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                value = value * 10 + Int64(b[i] - 0x30)
            }
            return value
        }
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              hour < 24, minute < 60, second < 61, let days = UTCTime.days(year: year, month: month, day: day) else { return nil }
        var index = 19
        var micros: Int64 = 0
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            var scale: Int64 = 100_000
            let start = index
            while index < b.count, b[index] >= 0x30 && b[index] <= 0x39 {
                micros += Int64(b[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset: Int64 = 0
        if index < b.count {
            switch b[index] {
            case UInt8(ascii: "Z"):
                index += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                let sign: Int64 = b[index] == UInt8(ascii: "-") ? -1 : 1
                guard let hours = digits(index + 1, 2) else { return nil }
                index += 3
                if index < b.count, b[index] == UInt8(ascii: ":") { index += 1 }
                guard let minutes = digits(index, 2) else { return nil }
                index += 2
                offset = sign * (hours * 3600 + minutes * 60)
            default: return nil
            }
        }
        guard index == b.count else { return nil }
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return seconds * 1_000_000 + micros
    }

    /// `2025-06-15 09:12:01` (UTC), with `digits` decimals of the second (0, 3 or 6).
    public static func format(_ micros: Int64, digits: Int = 0) -> String {
        let seconds = floorDiv(micros, 1_000_000)
        // UTCTime's `2025-06-15T09:12:01Z`, read as a person writes it.
        var text = String(UTCTime.format(seconds).dropLast().map { $0 == "T" ? " " : $0 })
        if digits > 0 {
            let padded = String(micros - seconds * 1_000_000 + 1_000_000).dropFirst()
            text += "." + padded.prefix(digits)
        }
        return text
    }

    /// A duration in words: `3.2 s`, `14 min`, `2 h 5 min`, `3 days 4 h`.
    public static func duration(_ micros: Int64) -> String {
        let seconds = Double(micros) / 1e6
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        if seconds < 60 { return String(format1: seconds) + " s" }
        let minutes = Int(seconds / 60)
        if minutes < 60 { return "\(minutes) min" }
        if minutes < 24 * 60 { return "\(minutes / 60) h \(minutes % 60) min" }
        let days = minutes / (24 * 60)
        return "\(days) day\(days == 1 ? "" : "s") \(minutes / 60 % 24) h"
    }
}

extension String {
    /// One decimal, without Foundation.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }
}
