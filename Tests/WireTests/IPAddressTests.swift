import Testing
import TestSupport
import Wire

#if canImport(Glibc)
import Glibc
#endif

@Suite("IPAddress text")
struct IPAddressTests {
    @Test(arguments: [
        // (input in any valid spelling, RFC 5952 text)
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // 4.2.3: the first of two equal runs
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  // 4.2.3: the longest run
        ("2001:0:0:1::1", "2001:0:0:1::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // 4.2.2: one zero group stays
        ("2001:DB8::AbCd", "2001:db8::abcd"),  // 4.3: lowercase
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),  // 5: IPv4-mapped keeps the dotted quad
        ("::ffff:c000:0201", "::ffff:192.0.2.1"),
        ("ff02::1:ff00:1", "ff02::1:ff00:1"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("0:0:1:0:0:0:0:0", "0:0:1::"),
    ])
    func ipv6Text(input: String, expected: String) {
        #expect(IPAddress(parsing: input).description == expected)
    }

    /// The C library's text for the same address (RFC 5952 in glibc).
    private func inetNtop(_ address: IPAddress) -> String {
        address.withBytes { bytes in
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(address.isIPv6 ? AF_INET6 : AF_INET, bytes.baseAddress, &text, socklen_t(text.count))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    @Test("random addresses, many with runs of zero groups, read as glibc's inet_ntop writes them")
    func agreesWithInetNtop() {
        var random = SplitMix64(seed: 5952)
        for _ in 0..<20_000 {
            // Each group zero half the time, so every run length and position comes up.
            var words: [UInt64] = [0, 0]
            for group in 0..<8 where random.next() & 1 == 0 {
                words[group / 4] |= (random.next() & 0xFFFF) << (48 - 16 * UInt64(group % 4))
            }
            let address = IPAddress(high: words[0], low: words[1], isIPv6: true)
            // glibc still writes IPv4-compatible addresses (::a.b.c.d), which RFC 5952 retired, with a dotted quad.
            if words[0] == 0 && words[1] >> 32 == 0 && words[1] > 0xFFFF { continue }
            #expect(address.description == inetNtop(address))
        }
        for _ in 0..<1_000 {
            let address = IPAddress(ipv4: UInt32(truncatingIfNeeded: random.next()))
            #expect(address.description == inetNtop(address))
        }
    }

    @Test func fe80Expectation() {
        // fe80:0:0:0:1:0:0:0: the run of three zeros after fe80 is the longest (ties go first).
        #expect(IPAddress(parsing: "fe80::1:0:0:0").description == "fe80::1:0:0:0")
    }

    @Test(arguments: ["0.0.0.0", "10.0.0.1", "192.168.255.254", "255.255.255.255"])
    func ipv4Text(text: String) {
        let address = IPAddress(parsing: text)
        #expect(address.description == text && !address.isIPv6)
    }

    @Test func decodedAddressesPrintAsTheyWereBuilt() {
        let packet = decode(Packet.raw(.ipv6(src: "2001:db8:0:0:1:0:0:1", dst: "::ffff:10.1.2.3", Fixture.tcpSYN)), .raw)
        #expect(packet.src.description == "2001:db8::1:0:0:1" && packet.dst.description == "::ffff:10.1.2.3")
    }

    @Test func bytesInNetworkOrder() {
        IPAddress(parsing: "10.0.0.1").withBytes { #expect(Array($0) == [10, 0, 0, 1]) }
        IPAddress(parsing: "2001:db8::1").withBytes { #expect(Array($0) == AddressText.bytes("2001:db8::1")) }
    }

    @Test func ordering() {
        #expect(IPAddress(parsing: "10.0.0.1") < IPAddress(parsing: "10.0.0.2"))
        #expect(IPAddress(parsing: "2001:db8::1") < IPAddress(parsing: "2001:db8::1:0"))
    }
}
