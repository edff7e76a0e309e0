import Testing
import TestSupport
import Wire

@Suite("VLAN and QinQ")
struct VLANTests {
    @Test func oneTagFromBytes() {
        let frame: [UInt8] = [
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01,  // MACs
            0x81, 0x00, 0xE0, 0x64,  // 802.1Q, priority 7, VLAN 100
            0x08, 0x00,  // IPv4
        ] + Fixture.ipv4SYN.bytes
        let packet = decode(frame)
        #expect(packet.events.isEmpty)
        #expect(packet.vlanCount == 1 && packet.vlanID0 == 100)
        #expect(packet.etherType == EtherType.ipv4 && packet.l3Offset == 18 && packet.dport == 571)
        #expect(Packet.ethernet(vlans: [VLANTag(id: 100, priority: 7)], Fixture.ipv4SYN) == frame)
    }

    @Test(arguments: [
        [VLANTag.dot1q(10)],
        [.dot1ad(100), .dot1q(10)],
        [.dot1ad(4095), VLANTag(id: 5, tpid: 0x9100), .dot1q(1)],
    ])
    func upToThreeTags(tags: [VLANTag]) {
        let packet = decode(Packet.ethernet(vlans: tags, Fixture.ipv6SYN))
        #expect(packet.events.isEmpty, "\(eventNames(packet))")
        #expect(packet.vlanCount == tags.count)
        for (index, tag) in tags.enumerated() { #expect(packet.vlanID(at: index) == tag.id) }
        #expect(packet.ipVersion == 6 && packet.l3Offset == 14 + 4 * tags.count && packet.sport == 1234)
    }

    @Test func fourthTagIsTooMany() {
        let packet = decode(Packet.ethernet(vlans: [.dot1ad(1), 2, 3, 4], Fixture.ipv4SYN))
        #expect(eventNames(packet) == ["decoder.vlan.too_many_layers"])
        #expect(packet.vlanCount == 3 && packet.vlanIDs == (1, 2, 3) && !packet.hasIP)
    }

    @Test func truncatedTag() {
        let frame = Array(Packet.ethernet(vlans: [10, 20], Fixture.ipv4SYN).prefix(14 + 4 + 3))
        let packet = decode(frame)
        #expect(eventNames(packet) == ["decoder.vlan.header_too_small"])
        #expect(packet.vlanCount == 1 && packet.vlanID0 == 10)
    }

    @Test func tagWithoutIP() {
        let packet = decode(Packet.ethernet(vlans: [7], .raw(etherType: EtherType.arp, [UInt8](repeating: 0, count: 28))))
        #expect(packet.events.isEmpty && packet.vlanID0 == 7 && packet.etherType == EtherType.arp && !packet.hasIP)
    }

    @Test func noTag() {
        let packet = decode(Packet.ethernet(Fixture.ipv4SYN))
        #expect(packet.vlanCount == 0 && packet.vlanID0 == nil)
    }
}
