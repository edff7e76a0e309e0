import Testing
import TestSupport
import Wire

/// One frame per decode event that raises it (the property tests mutate these too).
let eventTable: [(DecodeEvent, [UInt8], LinkType)] = {
    let syn = Fixture.ipv4SYN, syn6 = Fixture.ipv6SYN
    func v4(_ segment: Segment) -> [UInt8] { Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", segment)) }
    func v6(_ headers: [IPv6ExtensionHeader] = [], _ segment: Segment = Fixture.tcpSYN) -> [UInt8] {
        Packet.raw(.ipv6(src: "2001:db8::1", dst: "2001:db8::2", extensionHeaders: headers, segment))
    }
    let fourDeep = v4(.ipInIP(.ipv4(src: "10.1.0.1", dst: "10.1.0.2", .ipInIP(.ipv4(
        src: "10.2.0.1", dst: "10.2.0.2", .ipInIP(.ipv4(src: "10.3.0.1", dst: "10.3.0.2", .ipInIP(syn))))))))
    var patchedPayloadLength = Array(v6([.hopByHop()]).prefix(41))
    patchedPayloadLength[5] = 1
    return [
        (.ethernetPktTooSmall, [UInt8](repeating: 0, count: 13), .ethernet),
        (.ethernetUnknownEthertype, Packet.ethernet(.raw(etherType: 0x88B5, [0])), .ethernet),
        (.dcePktTooSmall, Packet.ethernet(.raw(etherType: 0x8903, [0, 0x20, 1, 2, 3])), .ethernet),
        (.vlanHeaderTooSmall, Array(Packet.ethernet(vlans: [1], syn).prefix(16)), .ethernet),
        (.vlanTooManyLayers, Packet.ethernet(vlans: [1, 2, 3, 4], syn), .ethernet),
        (.pppoePktTooSmall, Array(Packet.ethernet(.pppoe(syn)).prefix(19)), .ethernet),
        (.pppPktTooSmall, Array(Packet.ethernet(.pppoe(syn)).prefix(21)), .ethernet),
        (.pppoeWrongCode, Packet.ethernet(.pppoe(code: 0xA7, syn)), .ethernet),
        (.pppUnsupProto, Packet.ethernet(.pppoe(pppProtocol: 0x002B, syn)), .ethernet),
        (.mplsHeaderTooSmall, Array(Packet.ethernet(.mpls(labels: [16], syn)).prefix(16)), .ethernet),
        (.mplsTooManyLabels, Packet.ethernet(.mpls(labels: Array(1...9), syn)), .ethernet),
        (.mplsUnknownPayloadType, Packet.ethernet(.mpls(labels: [16], .raw(etherType: 0, [0, 0, 0, 0]))), .ethernet),
        (.sllPktTooSmall, [UInt8](repeating: 0, count: 15), .linuxSLL),
        (.sll2PktTooSmall, [UInt8](repeating: 0, count: 19), .linuxSLL2),
        (.nullPktTooSmall, [2, 0, 0], .null),
        (.nullUnsupportedType, Packet.null(family: 17, syn), .null),
        (.iprawInvalidIPVersion, [0x50] + syn.bytes.dropFirst(), .raw),
        (.ipv4PktTooSmall, Array(syn.bytes.prefix(19)), .ipv4),
        (.ipv4HlenTooSmall, Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", headerLength: 2, Fixture.tcpSYN)), .ipv4),
        (.ipv4IplenSmallerThanHlen, Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", totalLength: 0, Fixture.tcpSYN)), .ipv4),
        (.ipv4TruncPkt, Array(syn.bytes.dropLast()), .ipv4),
        (.ipv4WrongIPVersion, Packet.ethernet(.raw(etherType: EtherType.ipv4, syn6.bytes)), .ethernet),
        (.ipv4OptInvalidLen, Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [68, 0], Fixture.tcpSYN)), .raw),
        (.ipv4OptMalformed, Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [68, 12, 5, 0], Fixture.tcpSYN)), .raw),
        (.ipv6PktTooSmall, Array(syn6.bytes.prefix(39)), .ipv6),
        (.ipv6TruncPkt, Array(syn6.bytes.dropLast()), .ipv6),
        (.ipv6WrongIPVersion, Packet.ethernet(.raw(etherType: EtherType.ipv6, syn.bytes + [UInt8](repeating: 0, count: 20))), .ethernet),
        (.ipv6TruncExthdr, patchedPayloadLength, .raw),
        (.ipv6ExthdrDuplHH, v6([.hopByHop(), .hopByHop()]), .raw),
        (.ipv6ExthdrDuplFH, v6([.fragment(), .fragment()]), .raw),
        (.ipv6HopoptsNotFirst, v6([.routing(), .hopByHop()]), .raw),
        (.ipv6ExthdrUselessFH, v6([.fragment(offset: 0, more: false)]), .raw),
        (.ipv6ExthdrTooMany, v6([IPv6ExtensionHeader](repeating: .routing(), count: 9)), .raw),
        (.ipv6DataAfterNoneHeader, v6([], .raw(proto: IPProtocol.noNextHeader, [0])), .raw),
        (.tcpPktTooSmall, v4(Fixture.tcpSYN.dropLast(1)), .raw),
        (.tcpHlenTooSmall, v4(.tcp(sport: 1, dport: 2, dataOffset: 0)), .raw),
        (.tcpInvalidOptlen, v4(.tcp(sport: 1, dport: 2, dataOffset: 6)), .raw),
        (.tcpOptInvalidLen, v4(.tcp(sport: 1, dport: 2, options: [.raw([3, 1])])), .raw),
        (.udpPktTooSmall, v4(Fixture.udpDNS.dropLast(5)), .raw),
        (.udpHlenInvalid, v4(.udp(sport: 1, dport: 2, length: 3)), .raw),
        (.udpLenInvalid, v4(.udp(sport: 1, dport: 2, length: 9)), .raw),
        (.sctpPktTooSmall, v4(Segment.sctp(sport: 1, dport: 2).dropLast(21)), .raw),
        (.icmpv4PktTooSmall, v4(.raw(proto: IPProtocol.icmp, [3])), .raw),
        (.icmpv4UnknownType, v4(.icmp(type: 200, code: 0)), .raw),
        (.icmpv4IPv4TruncPkt, v4(.icmpError(quoting: syn, quoteLength: 10)), .raw),
        (.icmpv4IPv4UnknownVer, v4(.icmpError(quoting: syn6, quoteLength: 28)), .raw),
        (.icmpv6PktTooSmall, v6([], .raw(proto: IPProtocol.icmpv6, [1, 4])), .raw),
        (.icmpv6UnknownType, v6([], .icmpv6(type: 5, code: 0)), .raw),
        (.icmpv6IPv6TruncPkt, v6([], .icmpv6Error(quoting: syn6, quoteLength: 20)), .raw),
        (.icmpv6IPv6UnknownVersion, v6([], .icmpv6Error(quoting: syn)), .raw),
        (.grePktTooSmall, v4(.raw(proto: IPProtocol.gre, [0, 0])), .raw),
        (.greWrongVersion, v4(.gre(protocolType: EtherType.ipv4, flags: 0x0002, syn.bytes)), .raw),
        (.greVersion0Recur, v4(.gre(protocolType: EtherType.ipv4, flags: 0x0100, syn.bytes)), .raw),
        (.greVersion0Flags, v4(.gre(protocolType: EtherType.ipv4, flags: 0x0008, syn.bytes)), .raw),
        (.greVersion0HdrTooBig, v4(.raw(proto: IPProtocol.gre, [0x20, 0, 0x08, 0, 0, 0])), .raw),
        (.greVersion0MalformedSREHdr, v4(.raw(proto: IPProtocol.gre, [0x40, 0, 0x08, 0, 0, 0, 0, 0, 0x08, 0, 0, 4, 1, 2, 3, 4])), .raw),
        (.erspanHeaderTooSmall, v4(.gre(protocolType: 0x88BE, sequence: 1, [0x10, 0, 0, 1])), .raw),
        (.erspanUnsupportedVersion, v4(.erspan2(session: 1, version: 3, Packet.ethernet(syn))), .raw),
        (.vxlanPktTooSmall, v4(.udp(sport: 1, dport: 4789, payload: [8, 0, 0, 0])), .raw),
        (.vxlanInvalidFlags, v4(.vxlan(vni: 1, flags: 0, Packet.ethernet(syn))), .raw),
        (.genevePktTooSmall, v4(.udp(sport: 1, dport: 6081, payload: [0, 0, 0x65, 0x58])), .raw),
        (.geneveWrongVersion, v4(.geneve(vni: 1, version: 1, Packet.ethernet(syn))), .raw),
        (.geneveOptionsTooLong, v4(.udp(sport: 1, dport: 6081, payload: [0x3F, 0, 0x65, 0x58, 0, 0, 1, 0, 1, 2, 3, 4])), .raw),
        (.geneveUnknownPayloadType, v4(.geneve(vni: 1, protocolType: 0x1234, [1, 2, 3, 4])), .raw),
        (.teredoPktTooSmall, v4(.udp(sport: 1, dport: 3544, payload: [0, 1, 8, 8, 1, 2])), .raw),
        (.ipv6IPv4InIPv6TooSmall, v6([], .raw(proto: 4, Array(syn.bytes.prefix(10)))), .raw),
        (.ipv6IPv4InIPv6WrongVersion, v6([], .raw(proto: 4, syn6.bytes)), .raw),
        (.ipv6IPv6InIPv6TooSmall, v6([], .raw(proto: 41, Array(syn6.bytes.prefix(20)))), .raw),
        (.ipv6IPv6InIPv6WrongVersion, v6([], .raw(proto: 41, syn.bytes + [UInt8](repeating: 0, count: 20))), .raw),
        (.tunnelTooManyLayers, fourDeep, .raw),
    ]
}()

@Suite("Decode events")
struct DecodeEventTests {
    @Test func fitInTheBitset() {
        #expect(DecodeEvent.allCases.count <= DecodeEvents.capacity)
    }

    @Test func everyEventHasAFrameThatRaisesIt() {
        let covered = Set(eventTable.map(\.0))
        for event in DecodeEvent.allCases {
            #expect(covered.contains(event), "no frame in the table raises \(event.name)")
        }
    }

    @Test(arguments: eventTable.map { ($0.0, $0.1, $0.2) })
    func frameRaisesItsEvent(event: DecodeEvent, frame: [UInt8], linkType: LinkType) {
        let packet = decode(frame, linkType)
        #expect(packet.events.contains(event), "\(event.name): got \(eventNames(packet))")
    }

    @Test func namesAreSuricataStyleAndUnique() {
        let names = DecodeEvent.allCases.map(\.name)
        #expect(Set(names).count == names.count)
        for event in DecodeEvent.allCases {
            #expect(event.name.hasPrefix("decoder.") && event.name == event.name.lowercased())
            #expect(DecodeEvent(name: event.name) == event)
        }
        #expect(DecodeEvent(name: "decoder.nope") == nil)
    }

    @Test func eventSetIteratesInOrder() {
        var events = DecodeEvents()
        #expect(events.isEmpty)
        events.insert(.icmpv6IPv6UnknownVersion)
        events.insert(.ethernetPktTooSmall)
        events.insert(.ethernetPktTooSmall)
        #expect(Array(events) == [.ethernetPktTooSmall, .icmpv6IPv6UnknownVersion])
        #expect(events.contains(.icmpv6IPv6UnknownVersion) && !events.contains(.tcpPktTooSmall))
    }

    @Test func cleanCorpusRaisesNothing() {
        for (name, frame, linkType) in Fixture.corpus {
            let packet = decode(frame, linkType)
            #expect(packet.events.isEmpty, "\(name): \(eventNames(packet))")
            #expect(packet.hasIP, "\(name)")
        }
    }
}
