import Testing
import TestSupport
import Wire

private func tcp(_ segment: Segment) -> DecodedPacket {
    decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", segment)), .raw)
}

@Suite("TCP")
struct TCPTests {
    @Test func fromBytes() {
        let bytes: [UInt8] = [
            0x45, 0x00, 0x00, 0x34, 0, 0, 0x40, 0x00, 0x40, 0x06, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,  // IPv4, 52 bytes, DF, TCP
            0xC0, 0x01, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 2,  // TCP 49153 → 80, seq 1, ack 2
            0x70, 0x18, 0x01, 0x00, 0, 0, 0, 0,  // data offset 7 (28 bytes), PSH|ACK, window 256
            0x02, 0x04, 0x05, 0xB4, 0x01, 0x01, 0x00, 0x00,  // MSS 1460, NOP, NOP, end of list, pad
            0x47, 0x45, 0x54, 0x20,  // "GET "
        ]
        let packet = decode(bytes, .raw)
        #expect(packet.events.isEmpty)
        #expect(packet.sport == 49153 && packet.dport == 80)
        #expect(packet.hasTCPFlags && packet.tcpFlags == 0x018)
        #expect(packet.l4Offset == 20 && packet.l4Length == 32 && packet.payloadLength == 4)
    }

    @Test(arguments: [TCPFlags.syn, .synAck, .ack, [.fin, .ack], .rst, [.rst, .ack], [.psh, .ack], [.urg, .ack, .psh, .fin],
                      [.ece, .cwr, .syn], .ns, [], [.fin, .syn, .rst, .psh, .ack, .urg, .ece, .cwr, .ns]])
    func flags(flags: TCPFlags) {
        let packet = tcp(.tcp(sport: 1, dport: 2, flags: flags))
        #expect(packet.hasTCPFlags && packet.tcpFlags == flags.rawValue && packet.events.isEmpty)
    }

    @Test func reservedBitsAreKept() {
        let packet = tcp(.tcp(sport: 1, dport: 2, flags: TCPFlags(rawValue: 0xE02)))
        #expect(packet.tcpFlags == 0xE02)
    }

    @Test func options() {
        let packet = tcp(.tcp(sport: 1, dport: 2, options: [.mss(1460), .sackPermitted, .timestamps(7, 0), .noOperation, .windowScale(7)],
                              payload: [1, 2, 3]))
        #expect(packet.events.isEmpty && packet.payloadLength == 3 && packet.l4Length == 43)
    }

    @Test func dataOffsets() {
        let short = tcp(.tcp(sport: 1, dport: 2, dataOffset: 4))
        #expect(eventNames(short) == ["decoder.tcp.hlen_too_small"] && short.hasPorts && short.hasTCPFlags)
        let long = tcp(.tcp(sport: 1, dport: 2, dataOffset: 15, payload: [0, 0, 0, 0]))
        #expect(eventNames(long) == ["decoder.tcp.invalid_optlen"] && long.dport == 2)
        let exact = tcp(.tcp(sport: 1, dport: 2, dataOffset: 6, payload: [1, 1, 1, 1]))  // the "payload" is 4 NOPs
        #expect(exact.events.isEmpty && exact.payloadLength == 0)
    }

    @Test func badOptionLengths() {
        let zero = tcp(.tcp(sport: 1, dport: 2, options: [.raw([2, 0, 0, 0])]))
        #expect(eventNames(zero) == ["decoder.tcp.opt_invalid_len"])
        let long = tcp(.tcp(sport: 1, dport: 2, options: [.raw([8, 12, 0, 0, 0, 0, 0, 0])]))
        #expect(eventNames(long) == ["decoder.tcp.opt_invalid_len"])
        let noLength = tcp(.tcp(sport: 1, dport: 2, options: [.raw([1, 1, 1, 3])]))
        #expect(eventNames(noLength) == ["decoder.tcp.opt_invalid_len"])
    }

    @Test func truncatedHeaderKeepsPorts() {
        let packet = tcp(Fixture.tcpSYN.dropLast(16))
        #expect(eventNames(packet) == ["decoder.tcp.pkt_too_small"])
        #expect(packet.hasPorts && packet.sport == 1234 && !packet.hasTCPFlags)
        let noPorts = tcp(Fixture.tcpSYN.dropLast(17))
        #expect(eventNames(noPorts) == ["decoder.tcp.pkt_too_small"] && !noPorts.hasPorts)
    }

    @Test func overIPv6() {
        let packet = decode(Packet.raw(Fixture.ipv6SYN), .raw)
        #expect(packet.events.isEmpty && packet.tcpFlags == TCPFlags.syn.rawValue && packet.l4Offset == 40)
    }
}
