/// A problem found at a byte offset in a logical rule; becomes a `RuleError` once
/// the offset is mapped back to a file line and column.
struct SyntaxError: Error {
    var offset: Int
    var reason: String
}

/// One rule as the parser sees it: physical lines joined at `\` continuations,
/// with enough bookkeeping to point back into the file.
struct LogicalRule {
    /// Maps a run of logical bytes back to where they sit in the file.
    struct Segment {
        var logicalStart: Int
        var line: Int
        var lineStart: Int
        var fileOffset: Int
    }

    var bytes: [UInt8]
    var segments: [Segment]

    var line: Int { segments[0].line }

    /// The 1-based line and column (in characters) of a logical offset.
    func position(of offset: Int, in file: [UInt8]) -> (line: Int, column: Int) {
        let clamped = max(0, min(offset, bytes.count))
        var segment = segments[0]
        for candidate in segments where candidate.logicalStart <= clamped {
            segment = candidate
        }
        let fileOffset = segment.fileOffset + (clamped - segment.logicalStart)
        var column = 1
        var index = segment.lineStart
        while index < fileOffset && index < file.count {
            // Count characters, not bytes: skip UTF-8 continuation bytes.
            if file[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        return (segment.line, column)
    }

    /// Splits a rules file into logical rules, skipping blank lines and `#` comments.
    static func split(_ file: [UInt8]) -> [LogicalRule] {
        var rules: [LogicalRule] = []
        var pending: LogicalRule?
        var lineNumber = 0
        var lineStart = 0
        while lineStart <= file.count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < file.count && file[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let nextLine = lineEnd + 1
            var contentEnd = lineEnd
            while contentEnd > lineStart && isSpace(file[contentEnd - 1]) { contentEnd -= 1 }
            let continues = contentEnd > lineStart && file[contentEnd - 1] == UInt8(ascii: "\\")
            if continues { contentEnd -= 1 }

            if var rule = pending {
                // A continuation line is taken as it is, as Suricata does.
                rule.segments.append(Segment(
                    logicalStart: rule.bytes.count, line: lineNumber, lineStart: lineStart, fileOffset: lineStart))
                rule.bytes.append(contentsOf: file[lineStart..<max(lineStart, contentEnd)])
                pending = rule
            } else {
                var first = lineStart
                while first < contentEnd && isSpace(file[first]) { first += 1 }
                let isBlank = first == contentEnd && !continues
                let isComment = first < contentEnd && file[first] == UInt8(ascii: "#")
                if !isBlank && !isComment {
                    pending = LogicalRule(
                        bytes: Array(file[first..<contentEnd]),
                        segments: [Segment(logicalStart: 0, line: lineNumber, lineStart: lineStart, fileOffset: first)])
                }
            }
            if !continues || nextLine > file.count, let rule = pending {
                if !rule.bytes.allSatisfy(isSpace) { rules.append(rule) }
                pending = nil
            }
            lineStart = nextLine
        }
        return rules
    }
}

@inline(__always)
func isSpace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
}

extension ArraySlice<UInt8> {
    func trimmingSpaces() -> ArraySlice<UInt8> {
        var start = startIndex
        var end = endIndex
        while start < end && isSpace(self[start]) { start += 1 }
        while end > start && isSpace(self[end - 1]) { end -= 1 }
        return self[start..<end]
    }

    var text: String { String(decoding: self, as: UTF8.self) }

    /// Whether these bytes spell `word` (ASCII, lower case) in any case.
    func equalsIgnoringCase(_ word: StaticString) -> Bool {
        guard count == word.utf8CodeUnitCount else { return false }
        var index = startIndex
        for i in 0..<word.utf8CodeUnitCount {
            let byte = self[index]
            let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if lower != word.utf8Start[i] { return false }
            index += 1
        }
        return true
    }

    /// Decimal digits only, within UInt32.
    var decimalUInt32: UInt32? {
        guard !isEmpty, count <= 10 else { return nil }
        var value: UInt64 = 0
        for byte in self {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value <= UInt64(UInt32.max) ? UInt32(value) : nil
    }

    /// Splits on a separator byte, keeping each piece's offsets.
    func split(on separator: UInt8) -> [ArraySlice<UInt8>] {
        var pieces: [ArraySlice<UInt8>] = []
        var start = startIndex
        for index in indices where self[index] == separator {
            pieces.append(self[start..<index])
            start = index + 1
        }
        pieces.append(self[start..<endIndex])
        return pieces
    }
}
