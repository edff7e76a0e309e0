import Testing
import TestSupport
import Wire

/// What must hold for any input: decoding did not trap (we got here) and every offset stays inside the capture.
private func expectOffsetsInside(_ packet: DecodedPacket, _ label: @autoclosure () -> String) {
    let captured = packet.capturedLength
    var ok = packet.l3Offset <= captured && packet.l4Offset <= captured && packet.l4Offset + packet.l4Length <= captured
    ok = ok && packet.payloadLength <= packet.l4Length && packet.payloadLength >= 0 && packet.l4Length >= 0
    ok = ok && (!packet.hasIP || packet.l3Offset < captured) && packet.vlanCount <= Decoder.maxVLANTags
    ok = ok && (packet.l4Offset == 0 || packet.l4Offset >= packet.l3Offset)
    #expect(ok, "\(label()): l3 \(packet.l3Offset) l4 \(packet.l4Offset)+\(packet.l4Length) payload \(packet.payloadLength) of \(captured)")
}


/// The clean corpus plus a frame per decode event: every path the decoder has.
private let allFrames: [(name: String, frame: [UInt8], linkType: LinkType)] =
    Fixture.corpus + eventTable.map { ($0.0.name, $0.1, $0.2) } + [
        ("ipv6 all headers + icmpv6 error", Packet.ethernet(vlans: [5], .ipv6(
            src: "2001:db8::9", dst: "2001:db8::1",
            extensionHeaders: [.hopByHop(), .routing(), .destinationOptions()],
            .icmpv6Error(quoting: .ipv6(src: "2001:db8::1", dst: "2001:db8::2", extensionHeaders: [.fragment()], Fixture.udpDNS))
        )), .ethernet),
        ("pppoe icmp error", Packet.ethernet(.pppoe(.ipv4(src: "10.0.0.9", dst: "10.0.0.1", options: [1, 1, 1, 1],
                                                          .icmpError(type: 11, quoting: Fixture.ipv4SYN)))), .ethernet),
        ("sll2 mpls ipv6", Packet.sll2(.mpls(labels: [2], Fixture.ipv6SYN)), .linuxSLL2),
    ]

@Suite("Properties")
struct PropertyTests {
    @Test func everyPrefixDecodes() {
        for (name, frame, linkType) in allFrames {
            for length in 0...frame.count {
                let packet = decode(Array(frame.prefix(length)), linkType)
                expectOffsetsInside(packet, "\(name) prefix \(length)")
            }
        }
    }

    @Test func everyPrefixAsEveryLinkType() {
        let linkTypes: [LinkType] = [.null, .ethernet, .raw, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2]
        for (name, frame, _) in allFrames {
            for linkType in linkTypes {
                for length in 0...frame.count {
                    expectOffsetsInside(decode(Array(frame.prefix(length)), linkType), "\(name) as \(linkType) prefix \(length)")
                }
            }
        }
    }

    @Test func singleByteMutationsDecode() {
        var random = SplitMix64(seed: 0x6768_6F73_7470_6F72)  // "ghostpor"
        var mutations = 0
        for (name, frame, linkType) in allFrames where !frame.isEmpty {
            for _ in 0..<300 {
                var mutated = frame
                let index = Int(random.next() % UInt64(frame.count))
                let value = UInt8(truncatingIfNeeded: random.next())
                mutated[index] = value
                let cut = random.next() % 4 == 0 ? Int(random.next() % UInt64(frame.count + 1)) : frame.count
                let packet = decode(Array(mutated.prefix(cut)), linkType)
                expectOffsetsInside(packet, "\(name) byte \(index) = \(value) cut \(cut)")
                mutations += 1
            }
        }
        #expect(mutations >= 3000)
    }

    @Test func oneReusedPacketForgetsThePreviousFrame() {
        var packet = DecodedPacket()
        Packet.ethernet(vlans: [9], Fixture.ipv4SYN).withUnsafeBytes { Decoder.decode($0, linkType: .ethernet, into: &packet) }
        #expect(packet.hasPorts && packet.vlanCount == 1)
        [UInt8](repeating: 0, count: 5).withUnsafeBytes { Decoder.decode($0, linkType: .ethernet, into: &packet) }
        #expect(!packet.hasPorts && packet.vlanCount == 0 && !packet.hasIP && packet.capturedLength == 5)
        #expect(eventNames(packet) == ["decoder.ethernet.pkt_too_small"])
    }
}
