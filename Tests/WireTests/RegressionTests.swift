import Testing
import TestSupport
import Wire

/// Bugs the first round of Wire tests found, each pinned by the frame that showed it.
@Suite("Decoder regressions")
struct RegressionTests {
    @Test func ipv6LaterFragmentStopsTheChain() {
        // Fragment header (next: destination options, offset 100, M set), then fragment data
        // that happens to look like a no-next-header option header.
        let frame = Packet.raw(.ipv6(src: "2001:db8::1", dst: "2001:db8::2",
                                     extensionHeaders: [.fragment(offset: 100, more: true, id: 0xCAFE)],
                                     .raw(proto: 60, [0x3B, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4])))
        let packet = decode(frame, .raw)
        #expect(packet.proto == 60)
        #expect(packet.isFragment && packet.isLaterFragment && !packet.hasPorts)
        #expect(packet.events.isEmpty, "got \(eventNames(packet))")
    }

    @Test func ipv6ZeroPayloadLengthIgnoresEthernetPadding() {
        let frame = Packet.ethernet(minimumLength: 60, .ipv6(src: "::1", dst: "::2", .raw(proto: 59, [])))
        let packet = decode(frame)
        #expect(frame.count == 60)
        #expect(packet.proto == 59)
        #expect(packet.events.isEmpty, "got \(eventNames(packet))")
    }

    @Test func firstFragmentsOfUDPAreNotLengthErrors() {
        let payload = [UInt8](repeating: 0xAB, count: 2000)
        var v4 = Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", moreFragments: true, .udp(sport: 53, dport: 40000, payload: payload)))
        v4 = Array(v4.prefix(20 + 24))
        v4[2] = 0; v4[3] = 44  // the first fragment carries 24 bytes of the datagram
        let first = decode(v4, .raw)
        #expect(first.isFragment && !first.isLaterFragment && first.hasPorts && first.dport == 40000)
        #expect(!first.events.contains(.udpLenInvalid), "got \(eventNames(first))")

        let v6 = Packet.raw(.ipv6(src: "2001:db8::1", dst: "2001:db8::2",
                                  extensionHeaders: [.fragment(offset: 0, more: true, id: 0xCAFE)],
                                  .udp(sport: 53, dport: 40000, length: 2008, payload: Array(payload.prefix(16)))))
        let firstV6 = decode(v6, .raw)
        #expect(firstV6.isFragment && firstV6.hasPorts)
        #expect(!firstV6.events.contains(.udpLenInvalid), "got \(eventNames(firstV6))")
    }

    @Test func addressOrderIsTotal() {
        let v4 = IPAddress(ipv4: 1)
        let v6 = IPAddress(high: 0, low: 1, isIPv6: true)
        #expect(v4 != v6)
        #expect(v4 < v6 && !(v6 < v4))
    }

    @Test func snappedTCPOptionsAreNotMalformed() {
        // IPv4 total length 48, a TCP SYN with 8 bytes of options, captured only to 44 bytes.
        let full = Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2",
                                    .tcp(sport: 1, dport: 2, options: [.mss(1460), .windowScale(7)])))
        let packet = decode(Array(full.prefix(44)), .raw)
        #expect(packet.events.contains(.ipv4TruncPkt))
        #expect(!packet.events.contains(.tcpInvalidOptlen), "got \(eventNames(packet))")
        #expect(packet.hasPorts && packet.dport == 2)
    }
}

/// Frames the corpus comparison with tshark showed ghostport missing.
@Suite("Corpus agreement fixes")
struct CorpusAgreementTests {
    @Test func compressedPPPProtocolField() {
        // PPPoE session whose PPP protocol is compressed to the single byte 0x21 (IPv4), as in
        // suricata-verify bug-4810.
        var frame = Packet.ethernet(.pppoe(Fixture.ipv4SYN))
        frame.remove(at: 14 + 6)  // drop the 0x00 of 0x0021
        let packet = decode(frame)
        #expect(packet.events.isEmpty, "got \(eventNames(packet))")
        #expect(packet.ipVersion == 4 && packet.hasPorts)
    }

    @Test func ciscoFabricPathCarriesAnInnerEthernetFrame() {
        // EtherType 0x8903, two tag bytes, then a whole Ethernet header and IPv6.
        let inner = Packet.ethernet(Fixture.ipv6SYN)
        let frame = Packet.ethernet(.raw(etherType: 0x8903, [0x00, 0x20] + inner))
        let packet = decode(frame)
        #expect(packet.events.isEmpty, "got \(eventNames(packet))")
        #expect(packet.ipVersion == 6 && packet.hasPorts && packet.dport == 571)
    }
}

@Suite("Port-extender tags")
struct PortExtenderTagTests {
    @Test func eTagThenIPv4() {
        // 802.1BR E-Tag: EtherType 0x893F, 6 bytes of tag, then IPv4 (as suricata-verify decode-etag).
        let inner = Packet.ethernet(Fixture.ipv4SYN)
        let frame = Array(inner.prefix(12)) + [0x89, 0x3F, 0, 0, 0, 0, 0, 0] + Array(inner.dropFirst(12))
        let packet = decode(frame)
        #expect(packet.events.isEmpty, "got \(eventNames(packet))")
        #expect(packet.ipVersion == 4 && packet.dport == 571)
    }

    @Test func vnTagThenIPv6() {
        let inner = Packet.ethernet(Fixture.ipv6SYN)
        let frame = Array(inner.prefix(12)) + [0x89, 0x26, 0, 0, 0, 0] + Array(inner.dropFirst(12))
        let packet = decode(frame)
        #expect(packet.events.isEmpty, "got \(eventNames(packet))")
        #expect(packet.ipVersion == 6 && packet.dport == 571)
    }

    @Test func tagsCountAgainstTheVLANDepth() {
        let inner = Packet.ethernet(vlans: [1, 2, 3], Fixture.ipv4SYN)
        let frame = Array(inner.prefix(12)) + [0x89, 0x26, 0, 0, 0, 0] + Array(inner.dropFirst(12))
        #expect(decode(frame).events.contains(.vlanTooManyLayers))
        #expect(decode(Array(frame.prefix(16))).events.contains(.vlanHeaderTooSmall))
    }
}
