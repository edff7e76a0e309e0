/// Base64 (RFC 4648 §4, standard alphabet, '=' padding), encoding only: what Community ID needs.
public enum Base64 {
    /// Characters the encoding of `count` bytes takes.
    @inline(__always)
    public static func encodedLength(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes the encoding of `input` at the start of `output` and returns the characters
    /// written; `output` must hold `encodedLength(input.count)`.
    @discardableResult
    public static func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        let needed = encodedLength(input.count)
        precondition(output.count >= needed, "Base64 output buffer too small")
        // 64 characters as one static string's bytes: no table allocation.
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let table = alphabet.utf8Start
        var read = 0
        var written = 0
        while read + 3 <= input.count {
            let group = UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8 | UInt32(input[read + 2])
            output[written] = table[Int(group >> 18)]
            output[written + 1] = table[Int(group >> 12 & 0x3F)]
            output[written + 2] = table[Int(group >> 6 & 0x3F)]
            output[written + 3] = table[Int(group & 0x3F)]
            read += 3
            written += 4
        }
        let rest = input.count - read
        if rest > 0 {
            let group = UInt32(input[read]) << 16 | (rest == 2 ? UInt32(input[read + 1]) << 8 : 0)
            output[written] = table[Int(group >> 18)]
            output[written + 1] = table[Int(group >> 12 & 0x3F)]
            output[written + 2] = rest == 2 ? table[Int(group >> 6 & 0x3F)] : UInt8(ascii: "=")
            output[written + 3] = UInt8(ascii: "=")
            written += 4
        }
        return written
    }

    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        return input.withUnsafeBytes { raw in
            String(unsafeUninitializedCapacity: encodedLength(raw.count)) { buffer in
                encode(raw, into: UnsafeMutableRawBufferPointer(buffer))
            }
        }
    }
}
