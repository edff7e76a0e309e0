import Foundation
import FuzzSupport
import Output

#if canImport(Glibc)
import Glibc
#endif

/// Any bytes, as a String (invalid UTF-8 replaced), through the EVE string writer. The output must be
/// one JSON string literal that
/// - a strict RFC 8259 reader (`JSONStringLiteral`) turns back into exactly the same scalars, and
/// - Foundation's JSONSerialization (fragments allowed) parses back to the same scalars.
///
/// Found here, fixed in the writer: JSONSerialization drops a raw U+FEFF that opens the string or
/// follows an escape (swiftlang/swift-foundation#300), so the writer escapes U+FEFF.
/// Tests/Robustness/JSONRegressionTests.swift holds the finding as a regression test.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: FuzzDriver.bytes(data, size), as: UTF8.self)
    var buffer = OutputBuffer(fd: -1)
    buffer.append(jsonString: text)
    let written = buffer.bytes

    // Raw control characters never reach the line: a reader splitting records on them stays whole.
    invariant(!written.contains { $0 < 0x20 || $0 == 0x7F }, "a raw control byte in \(written.prefix(64))")
    guard let strict = JSONStringLiteral.decode(written) else {
        fatalError("not a strict JSON string literal: \(String(decoding: written, as: UTF8.self).debugDescription)")
    }
    invariant(strict.elementsEqual(text.unicodeScalars),
              "strict reading changed \(text.debugDescription) into \(String(String.UnicodeScalarView(strict)).debugDescription)")

    let parsed: Any
    do {
        parsed = try JSONSerialization.jsonObject(with: Data(written), options: [.fragmentsAllowed])
    } catch {
        fatalError("JSONSerialization rejected \(String(decoding: written, as: UTF8.self).debugDescription): \(error)")
    }
    guard let string = parsed as? String else { fatalError("parsed to \(type(of: parsed)), not a string") }
    // Compare scalars, not String ==, which would accept a canonically equivalent rewrite.
    if string.unicodeScalars.elementsEqual(text.unicodeScalars) { return 0 }
    invariant(false, "JSONSerialization read \(text.debugDescription) back as \(string.debugDescription)")
    return 0
}

@main
enum FuzzJSONMain {
    static func main() { FuzzDriver.run(fuzzJSON) }
}
