import Testing
import TestSupport
import Wire

@Suite("UDP")
struct UDPTests {
    @Test func fromBytes() {
        let bytes: [UInt8] = [
            0x60, 0, 0, 0, 0x00, 0x0A, 0x11, 0x01,  // IPv6, payload 10, UDP, hop limit 1
            0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  // fe80::1
            0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2,  // ff02::1:2
            0x02, 0x22, 0x02, 0x23, 0x00, 0x0A, 0x00, 0x00, 0x01, 0x02,  // UDP 546 → 547 (DHCPv6), length 10
        ]
        let packet = decode(bytes, .ipv6)
        #expect(packet.events.isEmpty && packet.sport == 546 && packet.dport == 547 && packet.payloadLength == 2)
        #expect(packet.dst.description == "ff02::1:2")
    }

    @Test func builder() {
        let packet = decode(Packet.ethernet(Fixture.ipv4UDP))
        #expect(packet.events.isEmpty && packet.sport == 5353 && packet.dport == 53 && packet.payloadLength == 4)
        #expect(!packet.hasTCPFlags && packet.proto == IPProtocol.udp)
    }

    @Test func tooSmall() {
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", Fixture.udpDNS.dropLast(5))), .raw)
        #expect(eventNames(packet) == ["decoder.udp.pkt_too_small"] && packet.hasPorts && packet.dport == 53)
    }

    @Test func lengthBelowHeader() {
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 1, dport: 2, length: 7))), .raw)
        #expect(eventNames(packet) == ["decoder.udp.hlen_invalid"] && packet.hasPorts)
        // Zero is a jumbogram's length over IPv6 only.
        let v4 = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 1, dport: 2, length: 0))), .raw)
        #expect(eventNames(v4) == ["decoder.udp.hlen_invalid"])
        let v6 = decode(Packet.raw(.ipv6(src: "::1", dst: "::2", .udp(sport: 1, dport: 2, length: 0, payload: [1]))), .raw)
        #expect(v6.events.isEmpty && v6.payloadLength == 0)
    }

    @Test func lengthBeyondTheIPPacket() {
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 1, dport: 2, length: 100, payload: [1, 2]))), .raw)
        #expect(eventNames(packet) == ["decoder.udp.len_invalid"] && packet.payloadLength == 2)
        // Longer than what was captured but not than the IP packet: a snapped capture, no UDP event.
        let snapped = decode(Array(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 1, dport: 2, payload: [UInt8](repeating: 0, count: 50)))).prefix(40)), .raw)
        #expect(eventNames(snapped) == ["decoder.ipv4.trunc_pkt"] && snapped.payloadLength == 12)
    }

    @Test func shorterThanTheIPPayload() {
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 1, dport: 2, length: 9, payload: [1, 2, 3]))), .raw)
        #expect(packet.payloadLength == 1)
    }
}
