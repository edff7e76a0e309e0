import Testing
import TestSupport
import Wire

/// The IPv4 TCP SYN most link-layer tests wrap: 10.0.0.1:1234 → 10.0.0.2:571 (checksums left zero).
private let ipv4SYNBytes: [UInt8] = [
    0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00,  // IPv4, 40 bytes, TTL 64, TCP
    10, 0, 0, 1, 10, 0, 0, 2,  // 10.0.0.1 → 10.0.0.2
    0x04, 0xD2, 0x02, 0x3B, 0, 0, 0, 1, 0, 0, 0, 0,  // TCP 1234 → 571, seq 1, ack 0
    0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0,  // data offset 5, SYN, window 65535
]

/// The same SYN over IPv6: 2001:db8::1 → 2001:db8::2.
private let ipv6SYNBytes: [UInt8] = [
    0x60, 0, 0, 0, 0x00, 0x14, 0x06, 0x40,  // IPv6, payload 20, next header TCP, hop limit 64
    0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  // 2001:db8::1
    0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,  // 2001:db8::2
    0x04, 0xD2, 0x02, 0x3B, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0,  // TCP SYN 1234 → 571
]

private func expectSYN(_ packet: DecodedPacket, version: UInt8, l3Offset: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(packet.events.isEmpty, "\(eventNames(packet))", sourceLocation: sourceLocation)
    #expect(packet.ipVersion == version, sourceLocation: sourceLocation)
    #expect(packet.l3Offset == l3Offset, sourceLocation: sourceLocation)
    #expect(packet.proto == IPProtocol.tcp, sourceLocation: sourceLocation)
    #expect(packet.hasPorts && packet.sport == 1234 && packet.dport == 571, sourceLocation: sourceLocation)
    #expect(packet.tcpFlags == 0x002, sourceLocation: sourceLocation)
    let src = version == 4 ? "10.0.0.1" : "2001:db8::1"
    #expect(packet.src == IPAddress(parsing: src), sourceLocation: sourceLocation)
}

@Suite("Link types")
struct LinkTypeTests {
    @Test func ethernetFromBytes() {
        let frame: [UInt8] = [
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,  // Ethernet 02::01 → 02::02, IPv4
        ] + ipv4SYNBytes
        let packet = decode(frame, .ethernet)
        expectSYN(packet, version: 4, l3Offset: 14)
        #expect(packet.etherType == EtherType.ipv4)
        #expect(packet.capturedLength == 54)
        #expect(packet.linkType == .ethernet)
    }

    @Test func builderMatchesLiteralBytesApartFromChecksums() {
        var built = Packet.ethernet(Fixture.ipv4SYN)
        built[14 + 10] = 0; built[14 + 11] = 0  // IPv4 header checksum
        built[14 + 20 + 16] = 0; built[14 + 20 + 17] = 0  // TCP checksum
        #expect(built == [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00] + ipv4SYNBytes)
        var built6 = Packet.raw(Fixture.ipv6SYN)
        built6[40 + 16] = 0; built6[40 + 17] = 0
        #expect(built6 == ipv6SYNBytes)
    }

    @Test func ethernetTooSmallAndLLC() {
        #expect(decode([UInt8](repeating: 0, count: 13)).events.contains(.ethernetPktTooSmall))
        // An 802.3 length (0x0026) in the type field: LLC, no IP, no event.
        let llc = decode([UInt8](repeating: 0, count: 12) + [0x00, 0x26, 0x42, 0x42, 0x03] + [UInt8](repeating: 0, count: 38))
        #expect(llc.events.isEmpty && !llc.hasIP)
    }

    @Test func ethernetKnownAndUnknownEtherTypes() {
        let arp = decode(Packet.ethernet(.raw(etherType: EtherType.arp, [UInt8](repeating: 0, count: 28))))
        #expect(arp.events.isEmpty && !arp.hasIP && arp.etherType == EtherType.arp)
        let unknown = decode(Packet.ethernet(.raw(etherType: 0x88B5, [1, 2, 3])))
        #expect(eventNames(unknown) == ["decoder.ethernet.unknown_ethertype"])
    }

    @Test func nullLittleEndianFromBytes() {
        let packet = decode([0x02, 0x00, 0x00, 0x00] + ipv4SYNBytes, .null)  // AF_INET, little-endian host
        expectSYN(packet, version: 4, l3Offset: 4)
    }

    @Test func nullBigEndianFromBytes() {
        let packet = decode([0x00, 0x00, 0x00, 0x02] + ipv4SYNBytes, .null)  // AF_INET, big-endian host
        expectSYN(packet, version: 4, l3Offset: 4)
    }

    @Test(arguments: [UInt32(10), 24, 28, 30])
    func nullIPv6FamiliesBothByteOrders(family: UInt32) {
        expectSYN(decode(Packet.null(family: family, Fixture.ipv6SYN), .null), version: 6, l3Offset: 4)
        expectSYN(decode(Packet.null(family: family, bigEndian: true, Fixture.ipv6SYN), .null), version: 6, l3Offset: 4)
    }

    @Test func nullUnsupportedAndShort() {
        #expect(eventNames(decode([0x07, 0, 0, 0] + ipv4SYNBytes, .null)) == ["decoder.ltnull.unsupported_type"])
        #expect(eventNames(decode([0x02, 0, 0], .null)) == ["decoder.ltnull.pkt_too_small"])
    }

    @Test func loopFromBytes() {
        expectSYN(decode([0x00, 0x00, 0x00, 0x02] + ipv4SYNBytes, .loop), version: 4, l3Offset: 4)  // AF_INET, network order
        expectSYN(decode([0x00, 0x00, 0x00, 0x18] + ipv6SYNBytes, .loop), version: 6, l3Offset: 4)  // AF_INET6 24
        expectSYN(decode(Packet.loop(Fixture.ipv6SYN), .loop), version: 6, l3Offset: 4)
    }

    @Test(arguments: [LinkType.raw, .rawOpenBSD, .linktypeRaw])
    func rawIPEitherVersion(linkType: LinkType) {
        expectSYN(decode(ipv4SYNBytes, linkType), version: 4, l3Offset: 0)
        expectSYN(decode(ipv6SYNBytes, linkType), version: 6, l3Offset: 0)
        #expect(eventNames(decode([0x50] + ipv4SYNBytes.dropFirst(), linkType)) == ["decoder.ipraw.invalid_ip_version"])
    }

    @Test func rawEmptyFrame() {
        #expect(eventNames(decode([], .raw)) == ["decoder.ipv4.pkt_too_small"])
    }

    @Test func ipv4AndIPv6LinkTypesAreStrict() {
        expectSYN(decode(ipv4SYNBytes, .ipv4), version: 4, l3Offset: 0)
        expectSYN(decode(ipv6SYNBytes, .ipv6), version: 6, l3Offset: 0)
        #expect(eventNames(decode(ipv6SYNBytes, .ipv4)) == ["decoder.ipv4.wrong_ip_version"])
        #expect(eventNames(decode(ipv4SYNBytes + [UInt8](repeating: 0, count: 20), .ipv6)) == ["decoder.ipv6.wrong_ip_version"])
    }

    @Test func linuxSLLFromBytes() {
        let header: [UInt8] = [
            0x00, 0x00, 0x00, 0x01, 0x00, 0x06,  // to us, ARPHRD_ETHER, address length 6
            0x02, 0, 0, 0, 0, 0x01, 0, 0,  // address, padded to 8
            0x08, 0x00,  // protocol IPv4
        ]
        let packet = decode(header + ipv4SYNBytes, .linuxSLL)
        expectSYN(packet, version: 4, l3Offset: 16)
        #expect(Packet.sll(Fixture.ipv4SYN).prefix(16).elementsEqual(header))
        expectSYN(decode(Packet.sll(Fixture.ipv6SYN), .linuxSLL), version: 6, l3Offset: 16)
        expectSYN(decode(Packet.sll(.pppoe(Fixture.ipv4SYN)), .linuxSLL), version: 4, l3Offset: 24)
        #expect(eventNames(decode(Array(header.prefix(15)), .linuxSLL)) == ["decoder.sll.pkt_too_small"])
    }

    @Test func linuxSLL2FromBytes() {
        let header: [UInt8] = [
            0x86, 0xDD, 0x00, 0x00,  // protocol IPv6, reserved
            0x00, 0x00, 0x00, 0x03,  // interface index 3
            0x00, 0x01, 0x00, 0x06,  // ARPHRD_ETHER, to us, address length 6
            0x02, 0, 0, 0, 0, 0x01, 0, 0,  // address, padded to 8
        ]
        expectSYN(decode(header + ipv6SYNBytes, .linuxSLL2), version: 6, l3Offset: 20)
        #expect(Packet.sll2(interfaceIndex: 3, Fixture.ipv6SYN).prefix(20).elementsEqual(header))
        expectSYN(decode(Packet.sll2(Fixture.ipv4SYN), .linuxSLL2), version: 4, l3Offset: 20)
        #expect(eventNames(decode(Array(header.prefix(19)), .linuxSLL2)) == ["decoder.sll2.pkt_too_small"])
    }

    @Test func cookedNetlinkAndGREAreNotEtherTypes() {
        for hatype: UInt16 in [778, 824] {
            let sll = decode(Packet.sll(hatype: hatype, Fixture.ipv4SYN), .linuxSLL)
            #expect(!sll.hasIP && sll.events.isEmpty)
            let sll2 = decode(Packet.sll2(hatype: hatype, Fixture.ipv4SYN), .linuxSLL2)
            #expect(!sll2.hasIP && sll2.events.isEmpty)
        }
        // A Linux protocol below 1536 (0x0004, 802.2) is no EtherType either.
        let llc = decode(Packet.sll(.raw(etherType: 0x0004, [0x42, 0x42, 0x03])), .linuxSLL)
        #expect(!llc.hasIP && llc.events.isEmpty)
    }

    @Test func unsupportedLinkTypeDecodesNothing() {
        let packet = decode(ipv4SYNBytes, LinkType(rawValue: 105))
        #expect(!packet.hasIP && packet.events.isEmpty && packet.capturedLength == 40)
        #expect(!LinkType(rawValue: 105).isSupported && LinkType(rawValue: 105).description == "DLT_105")
    }

    @Test func linkTypeNames() {
        let names = [LinkType.null, .ethernet, .raw, .rawOpenBSD, .linktypeRaw, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2]
            .map(\.description)
        #expect(names == ["NULL", "EN10MB", "RAW", "RAW", "RAW", "LOOP", "LINUX_SLL", "IPV4", "IPV6", "LINUX_SLL2"])
    }
}
