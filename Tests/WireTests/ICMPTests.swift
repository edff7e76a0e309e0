import Testing
import TestSupport
import Wire

@Suite("ICMPv4")
struct ICMPTests {
    @Test func echoFromBytes() {
        let bytes: [UInt8] = [
            0x45, 0x00, 0x00, 0x1C, 0, 1, 0, 0, 0x40, 0x01, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,  // IPv4, 28 bytes, ICMP
            0x08, 0x00, 0xF7, 0xFD, 0x00, 0x01, 0x00, 0x01,  // echo request, id 1, seq 1
        ]
        let packet = decode(bytes, .raw)
        #expect(packet.events.isEmpty && packet.hasICMP && packet.icmpType == 8 && packet.icmpCode == 0)
        #expect(!packet.hasPorts && !packet.quoted.isPresent)
        #expect(Segment.icmpEcho().bytes == Array(bytes.suffix(8)))  // the checksum 0xf7fd included
    }

    @Test func echoReply() {
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .icmpEcho(reply: true, payload: [1, 2]))), .raw)
        #expect(packet.events.isEmpty && packet.icmpType == 0)
        #expect(internetChecksum(Array(Packet.raw(.ipv4(src: "1.1.1.1", dst: "2.2.2.2", .icmpEcho(payload: [7]))).dropFirst(20))) == 0)
    }

    @Test func portUnreachableQuotesTheUDPDatagram() {
        let refused = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 40000, dport: 161, payload: [0x30, 0x26]))
        let packet = decode(Packet.ethernet(.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .icmpError(type: 3, code: 3, quoting: refused))))
        #expect(packet.events.isEmpty, "\(eventNames(packet))")
        #expect(packet.icmpType == 3 && packet.icmpCode == 3 && !packet.hasPorts)
        #expect(packet.quoted.ipVersion == 4 && packet.quoted.proto == IPProtocol.udp)
        #expect(packet.quoted.src == IPAddress(parsing: "10.0.0.1") && packet.quoted.dst == IPAddress(parsing: "10.0.0.2"))
        #expect(packet.quoted.hasPorts && packet.quoted.sport == 40000 && packet.quoted.dport == 161)
    }

    @Test(arguments: [(UInt8(3), UInt8(1)), (3, 13), (4, 0), (5, 1), (11, 0), (12, 0)])
    func errorTypesQuote(type: UInt8, code: UInt8) {
        let quoted = Network.ipv4(src: "192.0.2.9", dst: "198.51.100.1", options: [1, 1, 1, 1], Fixture.tcpSYN)
        let packet = decode(Packet.raw(.ipv4(src: "203.0.113.1", dst: "192.0.2.9", .icmpError(type: type, code: code, quoting: quoted))), .raw)
        #expect(packet.events.isEmpty && packet.icmpType == type && packet.icmpCode == code)
        #expect(packet.quoted.proto == IPProtocol.tcp && packet.quoted.sport == 1234 && packet.quoted.dport == 571)
        #expect(packet.quoted.dst.description == "198.51.100.1")
    }

    @Test func quotedLaterFragmentHasNoPorts() {
        let fragment = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", fragmentOffset: 100, .raw(proto: IPProtocol.udp, [0, 1, 0, 2, 0, 0, 0, 0]))
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .icmpError(type: 11, code: 1, quoting: fragment))), .raw)
        #expect(packet.quoted.isPresent && packet.quoted.proto == IPProtocol.udp && !packet.quoted.hasPorts && packet.events.isEmpty)
    }

    @Test func quotedHeaderOnly() {
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .icmpError(quoting: Fixture.ipv4SYN, quoteLength: 22))), .raw)
        #expect(packet.events.isEmpty && packet.quoted.isPresent && !packet.quoted.hasPorts)
    }

    @Test func quotedProblems() {
        let short = decode(Packet.raw(.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .icmpError(quoting: Fixture.ipv4SYN, quoteLength: 19))), .raw)
        #expect(eventNames(short) == ["decoder.icmpv4.ipv4_trunc_pkt"] && !short.quoted.isPresent && short.hasICMP)
        let withOptions = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [1, 1, 1, 1, 1, 1, 1, 1], Fixture.tcpSYN)
        let cutOptions = decode(Packet.raw(.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .icmpError(quoting: withOptions, quoteLength: 24))), .raw)
        #expect(eventNames(cutOptions) == ["decoder.icmpv4.ipv4_trunc_pkt"])
        let version = decode(Packet.raw(.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .icmpError(quoting: Fixture.ipv6SYN, quoteLength: 28))), .raw)
        #expect(eventNames(version) == ["decoder.icmpv4.ipv4_unknown_ver"])
    }

    @Test func unknownTypeAndTooSmall() {
        let unknown = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmp(type: 99, code: 0))), .raw)
        #expect(eventNames(unknown) == ["decoder.icmpv4.unknown_type"] && unknown.icmpType == 99)
        let small = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .raw(proto: IPProtocol.icmp, [8, 0, 0]))), .raw)
        #expect(eventNames(small) == ["decoder.icmpv4.pkt_too_small"] && !small.hasICMP)
    }

    @Test func knownInformationalTypes() {
        for type: UInt8 in [0, 8, 9, 10, 13, 14, 15, 16, 17, 18, 30, 40, 41, 42, 43, 253, 254] {
            let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmp(type: type, code: 0))), .raw)
            #expect(packet.events.isEmpty && packet.icmpType == type)
        }
    }
}
