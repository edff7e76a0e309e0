import Testing
import TestSupport
import Wire

private func ipv6(_ headers: [IPv6ExtensionHeader], _ segment: Segment = Fixture.tcpSYN) -> [UInt8] {
    Packet.raw(.ipv6(src: "2001:db8::1", dst: "2001:db8::2", extensionHeaders: headers, segment))
}

@Suite("IPv6")
struct IPv6Tests {
    @Test func fieldsFromBytes() {
        let bytes: [UInt8] = [
            0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x3C, 0x40,  // IPv6, payload 16, next header destination options
            0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  // fe80::1
            0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFB,  // ff02::fb
            0x11, 0x00, 0x01, 0x04, 0, 0, 0, 0,  // destination options: next UDP, 8 bytes, PadN 4
            0x14, 0xE9, 0x14, 0xE9, 0x00, 0x08, 0x00, 0x00,  // UDP 5353 → 5353, length 8
        ]
        let packet = decode(bytes, .ipv6)
        #expect(packet.events.isEmpty)
        #expect(packet.src.description == "fe80::1" && packet.dst.description == "ff02::fb")
        #expect(packet.proto == IPProtocol.udp && packet.ipLength == 56)
        #expect(packet.l4Offset == 48 && packet.l4Length == 8 && packet.sport == 5353 && packet.payloadLength == 0)
        #expect(ipv6DestinationOptionsUDP() == bytes)
    }

    private func ipv6DestinationOptionsUDP() -> [UInt8] {
        var built = Packet.raw(.ipv6(src: "fe80::1", dst: "ff02::fb", extensionHeaders: [.destinationOptions()],
                                     .udp(sport: 5353, dport: 5353)))
        built[54] = 0; built[55] = 0  // the UDP checksum the literal leaves zero
        return built
    }

    @Test(arguments: [
        ("hop-by-hop", [IPv6ExtensionHeader.hopByHop(options: [5, 2, 0, 0])], 48),  // router alert
        ("routing", [.routing(type: 4, segmentsLeft: 1, data: [UInt8](repeating: 0, count: 20))], 64),
        ("fragment", [.fragment(offset: 0, more: true)], 48),
        ("destination options", [.destinationOptions(options: [1, 0])], 48),
        ("all four", [.hopByHop(), .destinationOptions(), .routing(), .fragment(), .destinationOptions()], 80),
    ])
    func eachExtensionHeaderReachesTheTransport(name: String, headers: [IPv6ExtensionHeader], l4Offset: Int) {
        let packet = decode(ipv6(headers), .raw)
        #expect(packet.events.isEmpty, "\(name): \(eventNames(packet))")
        #expect(packet.proto == IPProtocol.tcp && packet.l4Offset == l4Offset && packet.dport == 571, "\(name)")
    }

    @Test func firstFragmentHasPortsLaterHasNone() {
        let first = decode(ipv6([.fragment(offset: 0, more: true)], Fixture.udpDNS), .raw)
        #expect(first.isFragment && !first.isLaterFragment && first.hasPorts && first.dport == 53)
        let later = decode(ipv6([.fragment(offset: 100, more: false)], .raw(proto: IPProtocol.udp, [0, 53, 0, 53, 0, 0, 0, 0])), .raw)
        #expect(later.isFragment && later.isLaterFragment && !later.hasPorts)
        #expect(later.proto == IPProtocol.udp && later.events.isEmpty)
    }

    @Test func atomicFragmentIsUseless() {
        let packet = decode(ipv6([.fragment(offset: 0, more: false)]), .raw)
        #expect(eventNames(packet) == ["decoder.ipv6.exthdr_useless_fh"])
        #expect(!packet.isFragment && packet.hasPorts)
    }

    @Test func espStopsTheChain() {
        let packet = decode(ipv6([.hopByHop()], .raw(proto: IPProtocol.esp, [0, 0, 1, 0, 0, 0, 0, 1, 0xDE, 0xAD])), .raw)
        #expect(packet.events.isEmpty && packet.proto == IPProtocol.esp && !packet.hasPorts && packet.l4Offset == 48)
    }

    @Test func noNextHeader() {
        let empty = decode(ipv6([.destinationOptions()], .raw(proto: IPProtocol.noNextHeader)), .raw)
        #expect(empty.events.isEmpty && empty.proto == IPProtocol.noNextHeader)
        let data = decode(ipv6([], .raw(proto: IPProtocol.noNextHeader, [1, 2, 3])), .raw)
        #expect(eventNames(data) == ["decoder.ipv6.data_after_none_header"] && data.proto == IPProtocol.noNextHeader)
    }

    @Test func eightHeadersAllowedNineTooMany() {
        let eight = decode(ipv6([IPv6ExtensionHeader](repeating: .destinationOptions(), count: 8)), .raw)
        #expect(eight.events.isEmpty && eight.proto == IPProtocol.tcp && eight.hasPorts)
        let nine = decode(ipv6([IPv6ExtensionHeader](repeating: .destinationOptions(), count: 9)), .raw)
        #expect(eventNames(nine) == ["decoder.ipv6.exthdr_too_many"] && !nine.hasPorts)
        #expect(nine.proto == IPProtocol.destinationOptions)
    }

    @Test func duplicatesAndOrder() {
        let hh = decode(ipv6([.hopByHop(), .hopByHop()]), .raw)
        #expect(eventNames(hh) == ["decoder.ipv6.exthdr_dupl_hh", "decoder.ipv6.hopopts_not_first"])
        #expect(hh.hasPorts)
        let fh = decode(ipv6([.fragment(), .fragment()]), .raw)
        #expect(eventNames(fh) == ["decoder.ipv6.exthdr_dupl_fh"] && fh.hasPorts)
        let late = decode(ipv6([.destinationOptions(), .hopByHop()]), .raw)
        #expect(eventNames(late) == ["decoder.ipv6.hopopts_not_first"] && late.proto == IPProtocol.tcp)
    }

    @Test func truncatedExtensionHeader() {
        // A routing header claiming 2048 bytes.
        let long = decode(ipv6([.raw(proto: IPProtocol.routing, bytes: [255, 0, 0, 0, 0, 0, 0])]), .raw)
        #expect(eventNames(long) == ["decoder.ipv6.trunc_exthdr"] && long.proto == IPProtocol.routing)
        // A fragment header cut after 4 bytes (the payload length says so too).
        let frame = Array(ipv6([.fragment()]).prefix(44))
        var patched = frame
        patched[5] = 4
        #expect(eventNames(decode(patched, .raw)) == ["decoder.ipv6.trunc_exthdr"])
        // One byte of a hop-by-hop header.
        var one = Array(ipv6([.hopByHop()]).prefix(41))
        one[5] = 1
        #expect(eventNames(decode(one, .raw)) == ["decoder.ipv6.trunc_exthdr"])
    }

    @Test func payloadLengthBeyondCaptureIsTruncated() {
        let packet = decode(Array(Packet.raw(.ipv6(src: "::1", dst: "::2", .tcp(sport: 7, dport: 8, payload: [1, 2, 3]))).prefix(44)), .raw)
        #expect(eventNames(packet) == ["decoder.ipv6.trunc_pkt", "decoder.tcp.pkt_too_small"])
        #expect(packet.hasPorts && packet.dport == 8 && packet.ipLength == 63)
    }

    @Test func ethernetPaddingIsTrimmed() {
        let packet = decode(Packet.ethernet(minimumLength: 80, Fixture.ipv6SYN))
        #expect(packet.events.isEmpty && packet.l4Length == 20 && packet.payloadLength == 0)
    }

    @Test func zeroPayloadLengthTakesWhatWasCaptured() {
        // A jumbogram-style zero payload length: the decoder reads to the end of the capture.
        let packet = decode(Packet.raw(.ipv6(src: "::1", dst: "::2", payloadLength: 0, Fixture.tcpSYN)), .raw)
        #expect(packet.events.isEmpty && packet.l4Length == 20 && packet.ipLength == 40 && packet.dport == 571)
    }

    @Test func malformedFixedHeader() {
        #expect(eventNames(decode(Array(Fixture.ipv6SYN.bytes.prefix(39)), .ipv6)) == ["decoder.ipv6.pkt_too_small"])
        let version = decode(Packet.ethernet(.ipv6(src: "::1", dst: "::2", version: 4, Fixture.tcpSYN)))
        #expect(eventNames(version) == ["decoder.ipv6.wrong_ip_version"] && !version.hasIP)
    }
}
