import Testing
import TestSupport
import Wire

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
