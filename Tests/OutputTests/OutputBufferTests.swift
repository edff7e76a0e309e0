import Output
import TestSupport
import Testing
import Wire

@Suite("OutputBuffer text")
struct OutputBufferTests {
    private func text(_ build: (inout OutputBuffer) -> Void) -> String {
        var out = OutputBuffer(fd: -1)
        build(&out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    @Test("decimals of every length, each power of ten and its neighbours, match String(describing:)")
    func decimals() {
        var values: [UInt64] = [0, 1, 9, UInt64.max, UInt64.max - 1]
        var power: UInt64 = 10
        for _ in 1...19 {
            values += [power - 1, power, power + 1]
            if power > UInt64.max / 10 { break }
            power *= 10
        }
        var random = SplitMix64(seed: 10)
        for _ in 0..<2_000 { values.append(random.next() >> (random.next() % 64)) }
        for value in values {
            // A marker either side: a wrong digit count would overwrite or leave a gap.
            #expect(text { out in
                out.append(byte: 0x3C)
                out.append(decimal: value)
                out.append(byte: 0x3E)
            } == "<\(value)>")
        }
    }

    @Test("zero-padded decimals: short values padded, long ones whole")
    func paddedDecimals() {
        #expect(text { $0.append(decimal: 0, width: 6) } == "000000")
        #expect(text { $0.append(decimal: 42, width: 6) } == "000042")
        #expect(text { $0.append(decimal: 999_999, width: 6) } == "999999")
        #expect(text { $0.append(decimal: 1_234_567, width: 6) } == "1234567")
        #expect(text { $0.append(decimal: 7, width: 1) } == "7")
    }

    @Test("IPv4 addresses as dotted quads, every octet width; IPv6 as IPAddress.description")
    func addresses() {
        for text in ["0.0.0.0", "255.255.255.255", "1.22.103.9", "100.64.0.10", "10.0.0.255", "192.168.99.100"] {
            #expect(self.text { $0.append(address: IPAddress(parsing: text)) } == text)
        }
        var random = SplitMix64(seed: 4)
        for _ in 0..<1_000 {
            let address = IPAddress(ipv4: UInt32(truncatingIfNeeded: random.next()))
            #expect(text { $0.append(address: address) } == address.description)
        }
        let v6 = IPAddress(parsing: "2001:db8::1")
        #expect(text { $0.append(address: v6) } == "2001:db8::1")
    }

    @Test("pieces of every length from 0 to 100 bytes are copied whole and in order")
    func pieces() {
        let source = (0..<100).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        for length in 0...100 {
            let piece = String(decoding: source[0..<length], as: UTF8.self)
            #expect(text { out in
                out.append("[")
                out.append(string: piece)
                out.append("]")
            } == "[\(piece)]")
        }
    }
}
