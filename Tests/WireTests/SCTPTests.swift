import Testing
import TestSupport
import Wire

@Suite("SCTP")
struct SCTPTests {
    @Test func fromBytes() {
        let bytes: [UInt8] = [
            0x45, 0x00, 0x00, 0x34, 0, 0, 0, 0, 0x40, 0x84, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,  // IPv4, 52 bytes, SCTP
            0x0B, 0x59, 0x0B, 0x59, 0, 0, 0, 0, 0, 0, 0, 0,  // SCTP 2905 → 2905 (M3UA), tag 0, checksum 0
            0x01, 0x00, 0x00, 0x14, 0x12, 0x34, 0x56, 0x78,  // INIT, length 20, initiate tag
            0x00, 0x00, 0xFF, 0xFF, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,  // a_rwnd, streams, TSN
        ]
        let packet = decode(bytes, .raw)
        #expect(packet.events.isEmpty && packet.proto == IPProtocol.sctp)
        #expect(packet.hasPorts && packet.sport == 2905 && packet.dport == 2905 && !packet.hasTCPFlags)
        var built = Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", id: 0, .sctp(sport: 2905, dport: 2905)))
        for index in [10, 11, 28, 29, 30, 31] { built[index] = 0 }  // IPv4 and SCTP checksums
        #expect(built == bytes)
    }

    @Test func crc32cMatchesRFCVector() {
        // RFC 3720 B.4: 32 bytes of zeros give 0x8a9136aa, 32 bytes of 0xff give 0x62a8ab43.
        #expect(crc32c([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(crc32c([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        // The builder stores it least significant byte first, as SCTP stacks do.
        let segment = Segment.sctp(sport: 1, dport: 2)
        var zeroed = segment.bytes
        for index in 8..<12 { zeroed[index] = 0 }
        let crc = crc32c(zeroed)
        #expect(Array(segment.bytes[8..<12]) == [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)])
    }

    @Test func dataChunkOverIPv6() {
        let packet = decode(Packet.ethernet(.ipv6(src: "2001:db8::1", dst: "2001:db8::2", .sctp(sport: 36412, dport: 36412, chunk: .data([1, 2, 3])))))
        #expect(packet.events.isEmpty && packet.dport == 36412 && packet.l4Length == 32)
    }

    @Test func truncated() {
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", Segment.sctp(sport: 1, dport: 2).dropLast(24))), .raw)
        #expect(eventNames(packet) == ["decoder.sctp.pkt_too_small"] && packet.hasPorts && packet.dport == 2)
        let tiny = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", Segment.sctp(sport: 1, dport: 2).dropLast(30))), .raw)
        #expect(eventNames(tiny) == ["decoder.sctp.pkt_too_small"] && !tiny.hasPorts)
    }
}
