import CHash

/// SHA-1 (FIPS 180-4), for Community ID only: it is the hash the spec names, not a security
/// choice. Streaming, no heap: the partial block lives inline. Blocks go through the CPU's SHA
/// instructions where it has them (x86 SHA-NI), else through the rounds below.
public struct SHA1: Sendable {
    /// Whether this CPU has the SHA instructions `init()` uses.
    public static let hasHardware = gp_sha1_has_hardware()

    /// Twenty bytes, as five big-endian words.
    public struct Digest: Sendable, Equatable, CustomStringConvertible {
        public var words: (UInt32, UInt32, UInt32, UInt32, UInt32)

        public static let byteCount = 20

        /// The digest bytes, in order.
        public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            var bigEndian = (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian, words.4.bigEndian)
            return try withUnsafeBytes(of: &bigEndian) { try body($0) }
        }

        public var bytes: [UInt8] { withBytes { Array($0) } }

        /// Lowercase hex.
        public var description: String {
            let digits = Array("0123456789abcdef".utf8)
            return withBytes { raw in
                String(decoding: raw.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }, as: UTF8.self)
            }
        }

        public static func == (a: Digest, b: Digest) -> Bool {
            a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2
                && a.words.3 == b.words.3 && a.words.4 == b.words.4
        }
    }

    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
    private var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var blockCount = 0
    private var messageLength: UInt64 = 0
    private let hardware: Bool

    /// `hardware: false` keeps to the portable rounds (tests compare the two).
    public init(hardware: Bool = SHA1.hasHardware) {
        self.hardware = hardware && SHA1.hasHardware
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        messageLength &+= UInt64(bytes.count)
        var offset = 0
        while offset < bytes.count {
            let take = min(64 - blockCount, bytes.count - offset)
            let start = blockCount
            withUnsafeMutableBytes(of: &block) { raw in
                raw.baseAddress!.advanced(by: start).copyMemory(from: bytes.baseAddress!.advanced(by: offset), byteCount: take)
            }
            blockCount += take
            offset += take
            if blockCount == 64 {
                compressBlock()
                blockCount = 0
            }
        }
    }

    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for var byte in bytes {
            withUnsafeBytes(of: &byte) { update($0) }
        }
    }

    /// Pads (0x80, zeros, the bit length) and returns the digest.
    public mutating func finalize() -> Digest {
        let bitLength = messageLength &* 8
        // The padding goes straight into the block: 0x80, zeros to byte 56, the bit length.
        var used = blockCount
        withUnsafeMutableBytes(of: &block) { raw in
            raw[used] = 0x80
            used += 1
            if used > 56 {
                for i in used..<64 { raw[i] = 0 }
                used = 0
            }
        }
        if used == 0 { compressBlock() }
        withUnsafeMutableBytes(of: &block) { raw in
            for i in used..<56 { raw[i] = 0 }
            raw.storeBytes(of: bitLength.bigEndian, toByteOffset: 56, as: UInt64.self)
        }
        compressBlock()
        blockCount = 0
        return Digest(words: state)
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        var sha = SHA1()
        sha.update(bytes)
        return sha.finalize()
    }

    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> Digest where Bytes.Element == UInt8 {
        var sha = SHA1()
        sha.update(bytes)
        return sha.finalize()
    }

    @inline(__always)
    private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }

    private mutating func compressBlock() {
        if hardware {
            withUnsafeMutableBytes(of: &state) { words in
                withUnsafeBytes(of: &block) { bytes in
                    gp_sha1_compress_hardware(words.baseAddress!.assumingMemoryBound(to: UInt32.self),
                                              bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        } else {
            compressBlockPortably()
        }
    }

    /// One 64-byte block, the message schedule on the stack.
    private mutating func compressBlockPortably() {
        var (a, b, c, d, e) = state
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            // The whole message schedule first, then the rounds read it: no index arithmetic
            // or stores among the rounds.
            withUnsafeBytes(of: &block) { raw in
                for i in 0..<16 { w[i] = UInt32(bigEndian: raw.load(fromByteOffset: i &* 4, as: UInt32.self)) }
            }
            for t in 16..<80 { w[t] = Self.rotl(w[t &- 3] ^ w[t &- 8] ^ w[t &- 14] ^ w[t &- 16], 1) }
            @inline(__always) func round(_ f: UInt32, _ k: UInt32, _ t: Int) {
                let temp = Self.rotl(a, 5) &+ f &+ e &+ k &+ w[t]
                e = d
                d = c
                c = Self.rotl(b, 30)
                b = a
                a = temp
            }
            // Four loops of twenty, one per round function: no branch on the round number.
            for t in 0..<20 { round((b & c) | (~b & d), 0x5A82_7999, t) }
            for t in 20..<40 { round(b ^ c ^ d, 0x6ED9_EBA1, t) }
            for t in 40..<60 { round((b & c) | (b & d) | (c & d), 0x8F1B_BCDC, t) }
            for t in 60..<80 { round(b ^ c ^ d, 0xCA62_C1D6, t) }
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
    }
}
