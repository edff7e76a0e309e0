import Foundation
import FuzzSupport
import Report

#if canImport(Glibc)
import Glibc
#endif

/// The input as EVE lines through `ghostport report`'s reader and aggregation, then the page.
/// - A line the report's JSON reader accepts, when it is valid UTF-8, JSONSerialization accepts
///   too (the reader is no more lenient than the library it stands in for).
/// - Every `<` on the page opens or closes an element ghostport writes: nothing from the input
///   became markup; there is exactly one script element.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReport(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzDriver.bytes(data, size)
    for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
        let copy = Array(line)
        guard (try? copy.withUnsafeBufferPointer({ try JSONValue.parse($0) })) != nil,
              String(validatingUTF8: copy.map { CChar(bitPattern: $0) } + [0]) != nil else { continue }
        invariant((try? JSONSerialization.jsonObject(with: Data(copy), options: [.fragmentsAllowed])) != nil,
                  "the report's reader accepts what JSONSerialization refuses: \(String(decoding: copy, as: UTF8.self).debugDescription)")
    }
    let builder = ReportBuilder(data: ReportData())
    builder.feed(bytes, input: "fuzz")
    builder.feed(UnsafeRawBufferPointer(start: nil, count: 0), input: "fuzz")
    builder.finishFeeding(name: "fuzz")
    let page = Array(builder.page(top: 5, generator: "fuzz", generated: 0).utf8)
    let tags: Set<String> = ["html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "dl", "dt", "dd", "section",
                             "p", "b", "ul", "li", "code", "div", "span", "svg", "line", "text", "g", "rect", "i", "table",
                             "thead", "tbody", "tr", "th", "td", "path", "footer", "script", "!DOCTYPE"]
    var scripts = 0
    for (index, byte) in page.enumerated() where byte == UInt8(ascii: "<") {
        var start = index + 1
        if start < page.count && page[start] == UInt8(ascii: "/") { start += 1 }
        var end = start
        while end < page.count, page[end] == UInt8(ascii: "!") || (page[end] | 0x20 >= UInt8(ascii: "a") && page[end] | 0x20 <= UInt8(ascii: "z"))
            || (page[end] >= UInt8(ascii: "0") && page[end] <= UInt8(ascii: "9")) { end += 1 }
        let name = String(decoding: page[start..<end], as: UTF8.self)
        invariant(tags.contains(name), "'<\(name)' on the page at \(index): \(String(decoding: page[max(0, index - 80)..<min(page.count, index + 80)], as: UTF8.self))")
        if name == "script" && page[index + 1] != UInt8(ascii: "/") { scripts += 1 }
    }
    invariant(scripts == 1, "\(scripts) script elements")
    return 0
}

@main
enum FuzzReportMain {
    static func main() { FuzzDriver.run(fuzzReport) }
}
