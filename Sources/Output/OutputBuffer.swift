import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Text built in one reusable byte buffer and written to a file descriptor in large writes,
/// so printing a packet allocates nothing once the buffer has grown.
public struct OutputBuffer: ~Copyable {
    public private(set) var bytes: [UInt8] = []
    public let fd: Int32
    private let flushThreshold: Int
    /// The two seconds `EVE.appendTimestamp` last formatted, and their text: 19 bytes of local
    /// date and time, then 5 of zone offset. Records come in bursts within one second, and a
    /// flow record names two (its start and its end).
    var timestampSeconds = (Int64.min, Int64.min)
    var timestampTexts: ((UInt64, UInt64, UInt64), (UInt64, UInt64, UInt64)) = ((0, 0, 0), (0, 0, 0))

    public init(fd: Int32, flushThreshold: Int = 1 << 16) {
        self.fd = fd
        self.flushThreshold = flushThreshold
        bytes.reserveCapacity(flushThreshold + 4096)
    }

    @inline(__always)
    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    public mutating func append(byte: UInt8) { bytes.append(byte) }

    /// Bytes as they are: the caller vouches they are valid where they go (ASCII in JSON).
    @inline(__always)
    public mutating func append(raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    public mutating func append(decimal value: UInt64) {
        if value < 10 {
            bytes.append(0x30 + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 ASCII digits
        var count = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while v > 0 {
                raw[23 - count] = 0x30 + UInt8(v % 10)
                v /= 10
                count += 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[(24 - count)...]))
        }
    }

    @inline(__always)
    public mutating func append(decimal value: Int) {
        if value < 0 {
            bytes.append(0x2D)
            append(decimal: UInt64(value.magnitude))
        } else {
            append(decimal: UInt64(value))
        }
    }

    /// `value` zero-padded to `width` digits.
    public mutating func append(decimal value: UInt64, width: Int) {
        var threshold: UInt64 = 10
        for _ in 1..<width {
            if value < threshold { bytes.append(0x30) }
            threshold = threshold &* 10
        }
        append(decimal: value)
    }

    /// Lowercase hex with `0x` and at least `width` digits.
    public mutating func append(hex value: UInt64, width: Int) {
        bytes.append(0x30)
        bytes.append(0x78)
        let digits = Swift.max(width, (64 - value.leadingZeroBitCount + 3) / 4)
        for i in stride(from: digits - 1, through: 0, by: -1) {
            let nibble = UInt8((value >> (4 * UInt64(i))) & 0xF)
            bytes.append(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
        }
    }

    public mutating func append(address: IPAddress) {
        if address.isIPv6 {
            append(address.description)
            return
        }
        let v = address.ipv4Value
        append(decimal: UInt64(v >> 24))
        bytes.append(0x2E)
        append(decimal: UInt64((v >> 16) & 0xFF))
        bytes.append(0x2E)
        append(decimal: UInt64((v >> 8) & 0xFF))
        bytes.append(0x2E)
        append(decimal: UInt64(v & 0xFF))
    }

    /// A JSON string literal, quotes included: control characters, quotes and backslashes
    /// escaped, invalid UTF-8 replaced, so any input yields valid JSON.
    public mutating func append(jsonString text: String) {
        bytes.append(0x22)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: append("\\\"")
            case 0x5C: append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            // U+FEFF too: Foundation's JSONSerialization drops a raw one (swift-foundation#300).
            case 0x00..<0x20, 0x7F, 0x2028, 0x2029, 0xFEFF:
                append("\\u")
                let v = scalar.value
                for shift in stride(from: 12, through: 0, by: -4) {
                    let nibble = UInt8((v >> UInt32(shift)) & 0xF)
                    bytes.append(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
                }
            case 0x20..<0x7F:
                bytes.append(UInt8(scalar.value))
            default:
                if let units = UTF8.encode(scalar) { for unit in units { bytes.append(unit) } }
            }
        }
        bytes.append(0x22)
    }

    @inline(__always)
    public mutating func flushIfNeeded() throws(WriteError) {
        if bytes.count >= flushThreshold { try flush() }
    }

    /// Writes everything buffered, retrying short writes and interrupted calls.
    public mutating func flush() throws(WriteError) {
        defer { bytes.removeAll(keepingCapacity: true) }
        let failure: Int32 = bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += n
            }
            return 0
        }
        if failure != 0 { throw WriteError(errno: failure) }
    }

    /// Drops what is buffered without writing it.
    public mutating func discard() { bytes.removeAll(keepingCapacity: true) }
}

public struct WriteError: Error, Sendable, CustomStringConvertible {
    public var errno: Int32
    public var description: String { String(cString: strerror(errno)) }
}
