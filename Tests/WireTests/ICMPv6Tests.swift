import Testing
import TestSupport
import Wire

@Suite("ICMPv6")
struct ICMPv6Tests {
    @Test func echoFromBytes() {
        let bytes: [UInt8] = [
            0x60, 0, 0, 0, 0x00, 0x08, 0x3A, 0x40,  // IPv6, payload 8, ICMPv6
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  // ::1
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  // ::1
            0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02,  // echo request, id 1, seq 2 (checksum zero)
        ]
        let packet = decode(bytes, .ipv6)
        #expect(packet.events.isEmpty && packet.hasICMP && packet.icmpType == 128 && packet.icmpCode == 0)
        #expect(packet.src.description == "::1")
    }

    @Test func builderChecksumCoversThePseudoHeader() {
        let network = Network.ipv6(src: "2001:db8::1", dst: "2001:db8::2", .icmpv6Echo(payload: [1, 2, 3]))
        var pseudo = Array(network.bytes[8..<40])
        pseudo += [0, 0, 0, UInt8(network.bytes.count - 40), 0, 0, 0, 58]
        #expect(internetChecksum(pseudo + network.bytes.dropFirst(40)) == 0)
        let reply = decode(Packet.raw(.ipv6(src: "::1", dst: "::2", .icmpv6Echo(reply: true))), .raw)
        #expect(reply.icmpType == 129 && reply.events.isEmpty)
    }

    @Test func unreachableQuotesTheSegment() {
        let packet = decode(Packet.ethernet(.ipv6(src: "2001:db8::2", dst: "2001:db8::1", .icmpv6Error(type: 1, code: 4, quoting: Fixture.ipv6SYN))))
        #expect(packet.events.isEmpty && packet.icmpType == 1 && packet.icmpCode == 4)
        #expect(packet.quoted.ipVersion == 6 && packet.quoted.proto == IPProtocol.tcp)
        #expect(packet.quoted.src.description == "2001:db8::1" && packet.quoted.dst.description == "2001:db8::2")
        #expect(packet.quoted.hasPorts && packet.quoted.sport == 1234 && packet.quoted.dport == 571)
    }

    @Test(arguments: [UInt8(1), 2, 3, 4])
    func errorTypesFollowQuotedExtensionHeaders(type: UInt8) {
        let quoted = Network.ipv6(src: "2001:db8::1", dst: "2001:db8::2", extensionHeaders: [.hopByHop(), .routing(), .fragment(offset: 0, more: true)],
                                  Fixture.udpDNS)
        let packet = decode(Packet.raw(.ipv6(src: "2001:db8::9", dst: "2001:db8::1", .icmpv6Error(type: type, code: 0, quoting: quoted))), .raw)
        #expect(packet.events.isEmpty && packet.quoted.proto == IPProtocol.udp && packet.quoted.dport == 53)
    }

    @Test func quotedLaterFragmentHasNoPorts() {
        let quoted = Network.ipv6(src: "2001:db8::1", dst: "2001:db8::2", extensionHeaders: [.fragment(offset: 10, more: false)],
                                  .raw(proto: IPProtocol.tcp, [0, 1, 0, 2, 0, 0, 0, 0]))
        let packet = decode(Packet.raw(.ipv6(src: "2001:db8::9", dst: "2001:db8::1", .icmpv6Error(type: 3, code: 1, quoting: quoted))), .raw)
        #expect(packet.quoted.isPresent && packet.quoted.proto == IPProtocol.tcp && !packet.quoted.hasPorts)
    }

    @Test func quotedProblems() {
        let short = decode(Packet.raw(.ipv6(src: "::1", dst: "::2", .icmpv6Error(quoting: Fixture.ipv6SYN, quoteLength: 39))), .raw)
        #expect(eventNames(short) == ["decoder.icmpv6.ipv6_trunc_pkt"] && !short.quoted.isPresent)
        let version = decode(Packet.raw(.ipv6(src: "::1", dst: "::2", .icmpv6Error(quoting: Fixture.ipv4SYN))), .raw)
        #expect(eventNames(version) == ["decoder.icmpv6.ipv6_unknown_version"])
        let noPorts = decode(Packet.raw(.ipv6(src: "::1", dst: "::2", .icmpv6Error(quoting: Fixture.ipv6SYN, quoteLength: 42))), .raw)
        #expect(noPorts.events.isEmpty && noPorts.quoted.proto == IPProtocol.tcp && !noPorts.quoted.hasPorts)
    }

    @Test func unknownTypeAndTooSmall() {
        let unknown = decode(Packet.raw(.ipv6(src: "::1", dst: "::2", .icmpv6(type: 99, code: 0))), .raw)
        #expect(eventNames(unknown) == ["decoder.icmpv6.unknown_type"])
        let small = decode(Packet.raw(.ipv6(src: "::1", dst: "::2", .raw(proto: IPProtocol.icmpv6, [128, 0, 0]))), .raw)
        #expect(eventNames(small) == ["decoder.icmpv6.pkt_too_small"] && !small.hasICMP)
    }

    @Test func neighborDiscoveryIsKnown() {
        for type: UInt8 in [133, 134, 135, 136, 137, 143] {
            let packet = decode(Packet.raw(.ipv6(src: "fe80::1", dst: "ff02::1", hopLimit: 255, .icmpv6(type: type, code: 0))), .raw)
            #expect(packet.events.isEmpty && packet.icmpType == type)
        }
    }
}
