import Foundation
import Report
import Testing
import TestSupport

@Suite("reading EVE inputs line by line")
struct EVELinesTests {
    static func lines(_ path: String) throws -> [String] {
        var out: [String] = []
        try EVELines(path: path).forEach { line, number in
            switch line {
            case .text(let bytes): out.append("\(number):" + String(decoding: bytes, as: UTF8.self))
            case .tooLong(let length): out.append("\(number):long \(length)")
            }
            return true
        }
        return out
    }

    @Test("lines across read chunks, a last line without newline, an over-long line skipped and measured, gzip")
    func lines() throws {
        let dir = try TempDirectory()
        let big = String(repeating: "x", count: (1 << 20) + 5)
        let middle = String(repeating: "y", count: 3 << 20)
        let text = "a\n\(middle)\n\(big)\nb\n\nlast"
        try text.write(toFile: dir.file("in.json"), atomically: true, encoding: .utf8)
        let expected = ["1:a", "2:long \(middle.count)", "3:long \(big.count)", "4:b", "5:", "6:last"]
        #expect(try Self.lines(dir.file("in.json")) == expected)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-k", dir.file("in.json")]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(EVELines.isGzip(dir.file("in.json.gz")) && !EVELines.isGzip(dir.file("in.json")))
        #expect(try Self.lines(dir.file("in.json.gz")) == expected)
        #expect(throws: EVELines.Failure.self) { try Self.lines(dir.file("nowhere")) }
        #expect(throws: EVELines.Failure.self) { try Self.lines(dir.path) }
    }
}
