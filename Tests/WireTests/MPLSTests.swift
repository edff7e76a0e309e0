import Testing
import TestSupport
import Wire

@Suite("MPLS")
struct MPLSTests {
    @Test func labelStackFromBytes() {
        let frame: [UInt8] = [
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0x47,  // Ethernet, MPLS unicast
            0x00, 0x01, 0x00, 0x40,  // label 16, TTL 64
            0x00, 0x01, 0x11, 0x40,  // label 17, bottom of stack, TTL 64
        ] + Fixture.ipv4SYN.bytes
        let packet = decode(frame)
        #expect(packet.events.isEmpty)
        #expect(packet.ipVersion == 4 && packet.l3Offset == 22 && packet.sport == 1234)
        #expect(packet.etherType == EtherType.mplsUnicast)
        #expect(Packet.ethernet(.mpls(labels: [16, 17], Fixture.ipv4SYN)) == frame)
    }

    @Test func explicitNullLabels() {
        let v4 = decode(Packet.ethernet(.mpls(labels: [0], Fixture.ipv4SYN)))
        #expect(v4.events.isEmpty && v4.ipVersion == 4 && v4.l3Offset == 18)
        let v6 = decode(Packet.ethernet(.mpls(labels: [1000, 2], Fixture.ipv6SYN)))
        #expect(v6.events.isEmpty && v6.ipVersion == 6 && v6.l3Offset == 22)
        // The label decides, not the nibble: IPv6 under IPv4 explicit null is a wrong version.
        #expect(eventNames(decode(Packet.ethernet(.mpls(labels: [0], Fixture.ipv6SYN)))) == ["decoder.ipv4.wrong_ip_version"])
    }

    @Test func nibbleDispatch() {
        let v4 = decode(Packet.ethernet(.raw(etherType: EtherType.mplsMulticast, Network.mpls(labels: [99], Fixture.ipv4UDP).bytes)))
        #expect(v4.events.isEmpty && v4.ipVersion == 4 && v4.dport == 53)
        let v6 = decode(Packet.ethernet(.mpls(labels: [99], Fixture.ipv6UDP)))
        #expect(v6.events.isEmpty && v6.ipVersion == 6 && v6.dport == 53)
        // A pseudowire control word (first nibble 0) is not IP.
        let pw = decode(Packet.ethernet(.mpls(labels: [99], .raw(etherType: 0, [0, 0, 0, 1] + Packet.ethernet(Fixture.ipv4SYN)))))
        #expect(eventNames(pw) == ["decoder.mpls.unknown_payload_type"] && !pw.hasIP)
    }

    @Test func eightLabelsAreAllowedNineAreTooMany() {
        let eight = decode(Packet.ethernet(.mpls(labels: Array(100..<108), Fixture.ipv4SYN)))
        #expect(eight.events.isEmpty && eight.l3Offset == 14 + 32)
        let nine = decode(Packet.ethernet(.mpls(labels: Array(100..<109), Fixture.ipv4SYN)))
        #expect(eventNames(nine) == ["decoder.mpls.too_many_labels"] && !nine.hasIP)
    }

    @Test func truncatedStack() {
        let cutInLabel = Array(Packet.ethernet(.mpls(labels: [16, 17], Fixture.ipv4SYN)).prefix(14 + 6))
        #expect(eventNames(decode(cutInLabel)) == ["decoder.mpls.header_too_small"])
        let nothingAfter = Array(Packet.ethernet(.mpls(labels: [16], Fixture.ipv4SYN)).prefix(14 + 4))
        #expect(eventNames(decode(nothingAfter)) == ["decoder.mpls.header_too_small"])
    }
}
