/// An IPv4 or IPv6 address held in two integers, so packets carry addresses without allocating.
/// IPv4 sits in the low 32 bits of `low` with `high` zero.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    public init(high: UInt64, low: UInt64, isIPv6: Bool) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
    }

    public init(ipv4 value: UInt32) {
        self.init(high: 0, low: UInt64(value), isIPv6: false)
    }

    public static let zero = IPAddress(high: 0, low: 0, isIPv6: false)

    public var ipv4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        // IPv4 sorts before IPv6, so the order is total.
        (a.isIPv6 ? 1 : 0, a.high, a.low) < (b.isIPv6 ? 1 : 0, b.high, b.low)
    }

    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if isIPv6 {
            var words = (high.bigEndian, low.bigEndian)
            return try withUnsafeBytes(of: &words) { try body($0) }
        }
        var word = ipv4Value.bigEndian
        return try withUnsafeBytes(of: &word) { try body($0) }
    }

    /// The most bytes `write(textTo:)` writes: an IPv6 address's eight full groups and seven colons.
    public static let maxTextLength = 39

    /// Dotted quad for IPv4; RFC 5952 text for IPv6 (lowercase, longest zero run compressed).
    public var description: String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxTextLength) { buffer in
            let count = write(textTo: UnsafeMutableRawPointer(buffer.baseAddress!))
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<count]), as: UTF8.self)
        }
    }

    /// Writes `description`'s text to `out`, which has room for `maxTextLength` bytes, and
    /// returns how many it wrote: records write addresses with this, never through a String.
    @inlinable
    public func write(textTo out: UnsafeMutableRawPointer) -> Int {
        var at = 0
        @inline(__always) func put(_ byte: UInt8) {
            out.storeBytes(of: byte, toByteOffset: at, as: UInt8.self)
            at += 1
        }
        @inline(__always) func quad(_ v: UInt32) {
            for shift in stride(from: 24, through: 0, by: -8) {
                let octet = UInt8(truncatingIfNeeded: v >> UInt32(shift))
                if octet >= 100 { put(0x30 + octet / 100) }
                if octet >= 10 { put(0x30 + octet / 10 % 10) }
                put(0x30 + octet % 10)
                if shift != 0 { put(0x2E) }
            }
        }
        guard isIPv6 else {
            quad(ipv4Value)
            return at
        }
        // RFC 5952 5: IPv4-mapped addresses keep the dotted quad.
        if high == 0 && (low >> 32) == 0xffff {
            for byte in "::ffff:".utf8 { put(byte) }
            quad(UInt32(truncatingIfNeeded: low))
            return at
        }
        @inline(__always) func group(_ i: Int) -> UInt16 {
            UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> (48 - 16 * UInt64(i & 3)))
        }
        // RFC 5952 4.2: compress the longest run of two or more zero groups, the first on a tie.
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && group(i) == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var i = 0
        while i < 8 {
            if i == bestStart {
                put(0x3A)
                put(0x3A)
                i += bestLength
                continue
            }
            if at > 0 && out.load(fromByteOffset: at - 1, as: UInt8.self) != 0x3A { put(0x3A) }
            let value = group(i)
            var started = false
            for shift in stride(from: 12, through: 0, by: -4) {
                let nibble = UInt8(truncatingIfNeeded: value >> UInt16(shift)) & 0xF
                if nibble != 0 || started || shift == 0 {
                    put(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
                    started = true
                }
            }
            i += 1
        }
        return at
    }
}
