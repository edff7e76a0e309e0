import Foundation
import Output
import Testing

/// Findings of fuzz-json, each input as the fuzzer saved it and minimized.
@Suite struct JSONRegressionTests {
    /// fuzz-json, 2026-11-27, the first 15 s: crash-8e603617b938be8d90efaf10bbbbc1fb39fc79cc (45 bytes),
    /// `line sep \u{2028} para sep \u{2029} bom\u{16}\u{FEFF} nonchar \u{FFFF}`; minimized: EF BB BF.
    ///
    /// The writer emitted U+FEFF raw, which is valid JSON, but Foundation's JSONSerialization drops
    /// a raw U+FEFF at the start of the string or right after an escape (`\u0016` here), so the
    /// string did not round-trip (swift-foundation#300). Fixed: `append(jsonString:)` now escapes
    /// U+FEFF as `\ufeff`, as it does U+2028/2029.
    static let inputs: [(String, [UInt8])] = [
        ("fuzzer's input", Array("line sep \u{2028} para sep \u{2029} bom\u{16}\u{FEFF} nonchar \u{FFFF}".utf8)),
        ("minimized: a BOM alone", [0xEF, 0xBB, 0xBF]),
        ("a BOM after an escape", [0x62, 0x6F, 0x6D, 0x16, 0xEF, 0xBB, 0xBF]),
        ("a BOM after a quote", [0x22, 0xEF, 0xBB, 0xBF, 0x78]),
    ]

    @Test(arguments: inputs.indices)
    func byteOrderMarkSurvivesJSONSerialization(_ index: Int) throws {
        let (name, bytes) = Self.inputs[index]
        let text = String(decoding: bytes, as: UTF8.self)
        var buffer = OutputBuffer(fd: -1)
        buffer.append(jsonString: text)
        // The writer's output is a correct literal: a strict reader gets the string back.
        #expect(JSONStringLiteral.decode(buffer.bytes)?.elementsEqual(text.unicodeScalars) == true, "\(name)")
        let parsed = try #require(
            try JSONSerialization.jsonObject(with: Data(buffer.bytes), options: [.fragmentsAllowed]) as? String)
        #expect(Array(parsed.unicodeScalars) == Array(text.unicodeScalars), "\(name)")
    }
}
