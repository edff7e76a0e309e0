import Testing
import TestSupport
import Wire

@Suite("IPv4")
struct IPv4Tests {
    @Test func fieldsFromBytes() {
        let bytes: [UInt8] = [
            0x45, 0x00, 0x00, 0x1F, 0xAB, 0xCD, 0x40, 0x00,  // IPv4, total 31, id 0xabcd, DF
            0x80, 0x11, 0x00, 0x00, 192, 0, 2, 1, 198, 51, 100, 7,  // TTL 128, UDP, 192.0.2.1 → 198.51.100.7
            0xC3, 0x50, 0x00, 0x35, 0x00, 0x0B, 0x00, 0x00, 0x61, 0x62, 0x63,  // UDP 50000 → 53, length 11, "abc"
        ]
        let packet = decode(bytes, .raw)
        #expect(packet.events.isEmpty)
        #expect(packet.src.description == "192.0.2.1" && packet.dst.description == "198.51.100.7")
        #expect(packet.ipLength == 31 && packet.proto == IPProtocol.udp)
        #expect(packet.l4Offset == 20 && packet.l4Length == 11 && packet.payloadLength == 3)
        #expect(!packet.isFragment && !packet.isLaterFragment)
    }

    @Test func builderChecksumIsValid() {
        let header = Array(Fixture.ipv4SYN.bytes.prefix(20))
        #expect(internetChecksum(header) == 0)
        let withOptions = Network.ipv4(src: "1.2.3.4", dst: "5.6.7.8", options: [0x94, 4, 0, 0], Fixture.tcpSYN)
        #expect(internetChecksum(Array(withOptions.bytes.prefix(24))) == 0 && withOptions.bytes[0] == 0x46)
    }

    @Test func goodOptions() {
        // NOP, record route (length 7, pointer 4, one empty slot), end of list, padding.
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [1, 7, 7, 4, 0, 0, 0, 0, 0], Fixture.tcpSYN)), .raw)
        #expect(packet.events.isEmpty, "\(eventNames(packet))")
        #expect(packet.l4Offset == 32 && packet.dport == 571)
        // Router alert (RFC 2113), 4 bytes, then nothing.
        let alert = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [0x94, 4, 0, 0], Fixture.udpDNS)), .raw)
        #expect(alert.events.isEmpty && alert.l4Offset == 24 && alert.dport == 53)
    }

    @Test func badOptions() {
        // Option length 1: below the 2 that covers kind and length.
        let short = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [7, 1, 0, 0], Fixture.tcpSYN)), .raw)
        #expect(eventNames(short) == ["decoder.ipv4.opt_invalid_len"])
        // Option length 40 in a 4-byte option area.
        let long = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [7, 40, 4, 0], Fixture.tcpSYN)), .raw)
        #expect(eventNames(long) == ["decoder.ipv4.opt_malformed"])
        // A kind with no room for its length byte.
        let cut = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [1, 1, 1, 0x44], Fixture.tcpSYN)), .raw)
        #expect(eventNames(cut) == ["decoder.ipv4.opt_malformed"])
        // A bad option is reported, the transport still decoded.
        #expect(long.hasPorts && long.dport == 571)
    }

    @Test func totalLengthBeyondCaptureIsTruncatedButPortsDecode() {
        let snapped = Array(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 80, dport: 443, payload: [UInt8](repeating: 7, count: 100)))).prefix(24))
        let packet = decode(snapped, .raw)
        #expect(packet.events.contains(.ipv4TruncPkt))
        #expect(packet.hasPorts && packet.sport == 80 && packet.dport == 443)
        #expect(packet.ipLength == 140 && packet.l4Length == 4)
        #expect(eventNames(packet) == ["decoder.ipv4.trunc_pkt", "decoder.tcp.pkt_too_small"])
    }

    @Test func ethernetPaddingIsTrimmed() {
        let frame = Packet.ethernet(minimumLength: 60, .ipv4(src: "10.0.0.1", dst: "10.0.0.2", .udp(sport: 1, dport: 2, payload: [9])))
        #expect(frame.count == 60)
        let packet = decode(frame)
        #expect(packet.events.isEmpty, "\(eventNames(packet))")
        #expect(packet.ipLength == 29 && packet.l4Length == 9 && packet.payloadLength == 1)
        let syn = decode(Packet.ethernet(minimumLength: 60, Fixture.ipv4SYN))
        #expect(syn.events.isEmpty && syn.l4Length == 20 && syn.payloadLength == 0)
    }

    @Test func firstFragmentHasPorts() {
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", moreFragments: true, Fixture.udpDNS)), .raw)
        #expect(packet.isFragment && !packet.isLaterFragment)
        #expect(packet.hasPorts && packet.dport == 53 && packet.events.isEmpty)
    }

    @Test func laterFragmentsHaveNoPorts() {
        for more in [true, false] {
            let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", moreFragments: more, fragmentOffset: 185,
                                                 .raw(proto: IPProtocol.udp, [0x00, 0x35, 0x00, 0x35, 1, 2, 3, 4]))), .raw)
            #expect(packet.isFragment && packet.isLaterFragment)
            #expect(!packet.hasPorts && packet.proto == IPProtocol.udp && packet.events.isEmpty)
        }
    }

    @Test func dontFragmentIsNoFragment() {
        let packet = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", dontFragment: true, Fixture.tcpSYN)), .raw)
        #expect(!packet.isFragment && packet.hasPorts)
    }

    @Test func malformedHeaders() {
        let tooSmall = decode(Array(Fixture.ipv4SYN.bytes.prefix(19)), .ipv4)
        #expect(eventNames(tooSmall) == ["decoder.ipv4.pkt_too_small"] && !tooSmall.hasIP)
        let hlen = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", headerLength: 4, Fixture.tcpSYN)), .raw)
        #expect(eventNames(hlen) == ["decoder.ipv4.hlen_too_small"] && hlen.ipVersion == 4 && !hlen.hasPorts)
        // IHL 15 (60 bytes) in a 40-byte packet.
        let longHeader = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", headerLength: 15, Fixture.tcpSYN)), .raw)
        #expect(eventNames(longHeader) == ["decoder.ipv4.pkt_too_small"])
        let iplen = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", totalLength: 19, Fixture.tcpSYN)), .raw)
        #expect(eventNames(iplen) == ["decoder.ipv4.iplen_smaller_than_hlen"] && iplen.src.description == "10.0.0.1")
        let version = decode(Packet.ethernet(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", version: 5, Fixture.tcpSYN)))
        #expect(eventNames(version) == ["decoder.ipv4.wrong_ip_version"] && !version.hasIP)
    }

    @Test func unknownProtocolStopsAtIP() {
        // ESP: nothing past IP is decoded.
        let esp = decode(Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .raw(proto: 50, [0, 0, 0x08, 0x00]))), .raw)
        #expect(esp.events.isEmpty && esp.proto == 50 && !esp.hasPorts && esp.l4Offset == 20 && esp.l4Length == 4)
    }
}
