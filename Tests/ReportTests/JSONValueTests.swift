import Foundation
import Report
import Testing
import TrafficGen

/// The report's JSON reader against Foundation's JSONSerialization, the library it stands in
/// for: the same values for every EVE line of the golden cases (every record kind ghostport
/// writes), for hand-picked edge cases, and the same verdict (accepted or refused) on random
/// mutations of those lines.
@Suite("the report's JSON reader, against JSONSerialization")
struct JSONValueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Every line of every golden case's expected EVE output.
    static func goldenLines() throws -> [String] {
        let golden = root + "/Tests/Golden"
        var lines: [String] = []
        for folder in try FileManager.default.contentsOfDirectory(atPath: golden).sorted() {
            guard let text = try? String(contentsOfFile: "\(golden)/\(folder)/expected.jsonl", encoding: .utf8) else { continue }
            lines += text.split(separator: "\n").map(String.init)
        }
        return lines
    }

    /// JSONSerialization's value in our terms; numbers compared as what they are.
    static func same(_ ours: JSONValue, _ theirs: Any) -> Bool {
        switch (ours, theirs) {
        case (.null, is NSNull): return true
        case let (.string(a), b as String): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case let (.array(a), b as [Any]): return a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
        case let (.object(a), b as [String: Any]):
            var last: [String: JSONValue] = [:]
            for (key, value) in a { last[key] = value }
            return last.count == b.count && last.allSatisfy { key, value in b[key].map { same(value, $0) } ?? false }
        case let (.bool(a), b as NSNumber):
            return isBoolean(b) && a == b.boolValue
        case let (.integer(a), b as NSNumber): return !isBoolean(b) && b.int64Value == a && b.doubleValue == Double(a)
        case let (.double(a), b as NSNumber): return b.doubleValue == a || (a.isNaN && b.doubleValue.isNaN)
        default: return false
        }
    }

    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    static func foundation(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    @Test("every golden EVE line reads to JSONSerialization's value")
    func goldenAgree() throws {
        let lines = try Self.goldenLines()
        try #require(lines.count > 50)
        for line in lines {
            let ours = try JSONValue.parse(line)
            let theirs = try #require(Self.foundation(line))
            #expect(Self.same(ours, theirs), "\(line)")
        }
    }

    @Test("edge cases: escapes, surrogate pairs, numbers, whitespace; and what both refuse", arguments: [
        #"{"a":"\u00e9\ud83d\ude00\n\t\"\\\/","b":[1,-0,2.5e3,-1.25E-2,9223372036854775807,-9223372036854775808,18446744073709551616]}"#,
        #"  [ true , false , null , {} , [] , "" ]  "#,
        #"{"dup":1,"dup":2}"#,
        #"{"deep":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}"#,
        #"0.1"#, #"-1e-400"#, #""é""#, "\"inside \u{FEFF}\"",
    ])
    func edgeCases(_ text: String) throws {
        let ours = try JSONValue.parse(text)
        let theirs = try #require(Self.foundation(text))
        #expect(Self.same(ours, theirs), "\(text): \(ours)")
    }

    @Test("what both refuse", arguments: [
        "{", "}", "{'a':1}", "1E400", "-2e308", "01", "1.", ".5", "-", "+1", "1e", "tru", "nul", "\"\\x\"",
        "\"\\ud83d\"", "\"\\ude00\"", "\"a\u{01}\"", "{\"a\" 1}", "[1 2]", "1 2", "\"unterminated", "", "   ",
        "{\"a\":1}x", "[\"\\u12G4\"]", "NaN", "Infinity",
    ])
    func refused(_ text: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(text) }
        #expect(Self.foundation(text) == nil, "JSONSerialization accepts \(text.debugDescription)")
    }

    @Test("nesting past the bound is an error, not a crash")
    func deepNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try JSONValue.parse(deep) }
    }

    /// Printable ASCII only: JSONSerialization and this reader differ by design on invalid UTF-8
    /// (it refuses the line, this replaces the bytes, as String does).
    @Test("random mutations of golden lines: accepted or refused alike, and the same value when accepted")
    func mutationsAgree() throws {
        let lines = try Self.goldenLines()
        var random = SplitMix64(seed: 19)
        let alphabet = Array(#"{}[]":,.-+eE0123456789tfnul\ "ab"#.utf8)
        var accepted = 0, refused = 0, lenient = 0
        for _ in 0..<20_000 {
            var bytes = Array(lines[random.next(below: lines.count)].utf8)
            for _ in 0..<(1 + random.next(below: 3)) {
                let at = random.next(below: bytes.count)
                switch random.next(below: 3) {
                case 0: bytes[at] = alphabet[random.next(below: alphabet.count)]
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet[random.next(below: alphabet.count)], at: at)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let theirs = Self.foundation(text)
            let ours = try? JSONValue.parse(text)
            // JSONSerialization accepts a comma before a closing bracket; RFC 8259 (and Python's
            // json, jq, Suricata's libjansson) does not, and neither does this reader.
            if ours == nil, theirs != nil, text.contains(/,\s*[}\]]/) {
                lenient += 1
                continue
            }
            #expect((ours == nil) == (theirs == nil), "\(text)")
            if let ours, let theirs {
                accepted += 1
                #expect(Self.same(ours, theirs), "\(text)")
            } else {
                refused += 1
            }
        }
        #expect(accepted > 1_000 && refused > 1_000 && lenient < refused)
    }
}
