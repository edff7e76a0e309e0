import Flow
import TestSupport
import Testing

@Suite("SHA-1 and base64")
struct SHA1Tests {
    // FIPS 180-2 appendix A and the NIST CAVP short/long message examples.
    @Test("FIPS 180 vectors", arguments: [
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "a49b2446a02c645bf419f995b67091253a04a259"),
        ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
    ])
    func vectors(message: String, hex: String) {
        #expect(SHA1.hash(Array(message.utf8)).description == hex)
        var portable = SHA1(hardware: false)
        portable.update(Array(message.utf8))
        #expect(portable.finalize().description == hex)
    }

    @Test("the CPU's SHA instructions and the portable rounds agree on 2,000 random messages",
          .enabled(if: SHA1.hasHardware, "this CPU has no SHA instructions: only the portable rounds run here"))
    func hardwareMatchesPortable() throws {
        var random = SplitMix64(seed: 0x5A1)
        for _ in 0..<2_000 {
            let message = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var hardware = SHA1(hardware: true), portable = SHA1(hardware: false)
            hardware.update(message)
            portable.update(message)
            #expect(hardware.finalize() == portable.finalize())
        }
    }

    @Test("one million 'a', fed in uneven pieces")
    func millionA() {
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 9_973)  // prime: pieces straddle blocks
        var sha = SHA1()
        var remaining = 1_000_000
        while remaining > 0 {
            let take = min(remaining, chunk.count)
            chunk.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0[0..<take])) }
            remaining -= take
        }
        #expect(sha.finalize().description == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test("every length around the padding boundary matches byte-at-a-time feeding")
    func paddingBoundaries() {
        for length in 50...130 {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var piecewise = SHA1()
            for byte in message { piecewise.update([byte]) }
            #expect(piecewise.finalize() == SHA1.hash(message))
        }
        // 55, 56 and 64 bytes: the last that pads in one block, the first that needs two, a full block.
        #expect(SHA1.hash([UInt8](repeating: 0x61, count: 55)).description == "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        #expect(SHA1.hash([UInt8](repeating: 0x61, count: 56)).description == "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        #expect(SHA1.hash([UInt8](repeating: 0x61, count: 64)).description == "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }

    // RFC 4648 section 10.
    @Test("base64 RFC 4648 vectors", arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func base64(input: String, encoded: String) {
        #expect(Base64.encode(Array(input.utf8)) == encoded)
        #expect(Base64.encodedLength(input.utf8.count) == encoded.utf8.count)
    }

    @Test("base64 of every byte value uses the whole alphabet")
    func base64Alphabet() {
        let all = (0...255).map { UInt8($0) }
        let text = Base64.encode(all)
        #expect(text.hasPrefix("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB"))
        #expect(text.hasSuffix("8/T19vf4+fr7/P3+/w=="))
    }
}
