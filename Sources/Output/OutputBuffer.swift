import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Text built in one reusable byte buffer and written to a file descriptor in large writes,
/// so printing a packet allocates nothing once the buffer has grown.
public struct OutputBuffer: ~Copyable {
    /// The text so far: `count` bytes at `storage`, room for `capacity`. Raw memory rather than
    /// an Array, whose appends check uniqueness and capacity each time and showed in profiles.
    /// (Usable from inline, like the appends: records are written from other modules, where
    /// an append that is a call costs more than the append.)
    @usableFromInline var storage: UnsafeMutablePointer<UInt8>
    @usableFromInline var used = 0
    @usableFromInline var capacity: Int
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
        capacity = flushThreshold + 4096
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// Bytes held so far.
    public var count: Int { used }

    /// A copy of the text so far.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: used)) }

    public var isEmpty: Bool { used == 0 }

    /// The text so far, lent to `body`.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: used))
    }

    /// The text from byte `start` to the end, less its last byte (a record's newline).
    public func line(from start: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: storage + start, count: Swift.max(0, used - 1 - start)), as: UTF8.self)
    }

    /// Room for `extra` more bytes; grows (doubling) when a record outgrows the buffer.
    @inlinable @inline(__always)
    mutating func reserve(_ extra: Int) {
        if used &+ extra > capacity { grow(to: used + extra) }
    }

    @usableFromInline
    mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newStorage.update(from: storage, count: used)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }

    @inlinable @inline(__always)
    mutating func append(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let base = buffer.baseAddress else { return }
        reserve(buffer.count)
        let target = UnsafeMutableRawPointer(storage + used)
        let source = UnsafeRawPointer(base)
        let n = buffer.count
        // Most pieces of a record are a few bytes to a few dozen: word moves (the last one
        // overlapping) beat a call to memmove for those.
        if n >= 8 && n <= 64 {
            var i = 0
            while i &+ 8 < n {
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
                i &+= 8
            }
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self), toByteOffset: n &- 8, as: UInt64.self)
        } else if n < 8 {
            for i in 0..<n { target.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
        } else {
            target.copyMemory(from: source, byteCount: n)
        }
        used &+= n
    }

    @inlinable @inline(__always)
    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { append($0) }
    }

    /// A String's bytes as they are. Named apart from `append(_: StaticString)` so a literal
    /// takes the static path (no String, no reference count).
    @inlinable @inline(__always)
    public mutating func append(string text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    @inlinable @inline(__always)
    public mutating func append(byte: UInt8) {
        reserve(1)
        storage[used] = byte
        used &+= 1
    }

    /// Bytes as they are: the caller vouches they are valid where they go (ASCII in JSON).
    @inlinable @inline(__always)
    public mutating func append(raw: UnsafeRawBufferPointer) { append(raw.assumingMemoryBound(to: UInt8.self)) }

    @inlinable
    public mutating func append(decimal value: UInt64) {
        if value < 10 {
            append(byte: 0x30 + UInt8(value))
            return
        }
        // Digits written straight into place, two at a time from a table: counted first.
        let digits = Self.digitCount(value)
        reserve(digits)
        let end = storage + used + digits
        Self.twoDigits.withUTF8Buffer { pairs in
            var v = value
            var at = end
            while v >= 100 {
                let pair = Int(truncatingIfNeeded: v % 100) &* 2
                v /= 100
                at -= 2
                at[0] = pairs[pair]
                at[1] = pairs[pair &+ 1]
            }
            if v >= 10 {
                at -= 2
                at[0] = pairs[Int(truncatingIfNeeded: v) &* 2]
                at[1] = pairs[Int(truncatingIfNeeded: v) &* 2 &+ 1]
            } else {
                at -= 1
                at[0] = 0x30 + UInt8(truncatingIfNeeded: v)
            }
        }
        used &+= digits
    }

    /// Decimal digits of `value` (1 for 0): a guess from the bit length (1233/4096 is just
    /// above log10(2)), then one comparison.
    @inlinable @inline(__always)
    static func digitCount(_ value: UInt64) -> Int {
        let guess = ((64 &- value.leadingZeroBitCount) &* 1233) >> 12
        return Swift.max(1, guess &+ (value >= powerOfTen(guess) ? 1 : 0))
    }

    /// 10^`power` for 0 ... 19: a switch, which the compiler makes a constant table (a static
    /// array would be checked for initialization on every use).
    @inlinable @inline(__always)
    static func powerOfTen(_ power: Int) -> UInt64 {
        switch power {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        case 8: 100_000_000
        case 9: 1_000_000_000
        case 10: 10_000_000_000
        case 11: 100_000_000_000
        case 12: 1_000_000_000_000
        case 13: 10_000_000_000_000
        case 14: 100_000_000_000_000
        case 15: 1_000_000_000_000_000
        case 16: 10_000_000_000_000_000
        case 17: 100_000_000_000_000_000
        case 18: 1_000_000_000_000_000_000
        default: 10_000_000_000_000_000_000
        }
    }

    @usableFromInline static let twoDigits: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    @inlinable @inline(__always)
    public mutating func append(decimal value: Int) {
        if value < 0 {
            append(byte: 0x2D)
            append(decimal: UInt64(value.magnitude))
        } else {
            append(decimal: UInt64(value))
        }
    }

    /// `value` zero-padded to `width` digits.
    public mutating func append(decimal value: UInt64, width: Int) {
        for _ in Swift.min(width, Self.digitCount(value))..<width { append(byte: 0x30) }
        append(decimal: value)
    }

    /// Lowercase hex with `0x` and at least `width` digits.
    public mutating func append(hex value: UInt64, width: Int) {
        append(byte: 0x30)
        append(byte: 0x78)
        let digits = Swift.max(width, (64 - value.leadingZeroBitCount + 3) / 4)
        for i in stride(from: digits - 1, through: 0, by: -1) {
            let nibble = UInt8((value >> (4 * UInt64(i))) & 0xF)
            append(byte: nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
        }
    }

    /// The address's text (`IPAddress.description`), written in place: no String.
    public mutating func append(address: IPAddress) {
        reserve(IPAddress.maxTextLength)
        used += address.write(textTo: UnsafeMutableRawPointer(storage + used))
    }

    /// A JSON string literal, quotes included: control characters, quotes and backslashes
    /// escaped, invalid UTF-8 replaced, so any input yields valid JSON.
    public mutating func append(jsonString text: String) {
        // Most strings need no escaping at all: copied as they are after one scan of their bytes.
        var text = text
        let plain = text.withUTF8 { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C { return false }
            append(byte: 0x22)
            append(utf8)
            append(byte: 0x22)
            return true
        }
        if !plain { appendEscaped(jsonString: text) }
    }

    private mutating func appendEscaped(jsonString text: String) {
        append(byte: 0x22)
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
                    append(byte: nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
                }
            case 0x20..<0x7F:
                append(byte: UInt8(scalar.value))
            default:
                if let units = UTF8.encode(scalar) { for unit in units { append(byte: unit) } }
            }
        }
        append(byte: 0x22)
    }

    @inline(__always)
    public mutating func flushIfNeeded() throws(WriteError) {
        if used >= flushThreshold { try flush() }
    }

    /// Writes everything buffered, retrying short writes and interrupted calls.
    public mutating func flush() throws(WriteError) {
        defer { used = 0 }
        var done = 0
        while done < used {
            let n = write(fd, storage + done, used - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError(errno: errno)
            }
            done += n
        }
    }

    /// Drops what is buffered without writing it.
    public mutating func discard() { used = 0 }
}

public struct WriteError: Error, Sendable, CustomStringConvertible {
    public var errno: Int32
    public var description: String { String(cString: strerror(errno)) }
}
