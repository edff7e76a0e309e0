import Testing
import TestSupport
import Wire

@Suite("PPPoE session")
struct PPPoETests {
    @Test func ipv4FromBytes() {
        let frame: [UInt8] = [
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0x64,  // Ethernet, PPPoE session
            0x11, 0x00, 0x00, 0x2A, 0x00, 0x2A,  // version 1 type 1, code 0, session 42, length 42
            0x00, 0x21,  // PPP: IPv4
        ] + Fixture.ipv4SYN.bytes
        let packet = decode(frame)
        #expect(packet.events.isEmpty)
        #expect(packet.etherType == EtherType.ipv4 && packet.l3Offset == 22 && packet.dport == 571)
        #expect(Packet.ethernet(.pppoe(session: 42, Fixture.ipv4SYN)) == frame)
    }

    @Test func ipv6() {
        let packet = decode(Packet.ethernet(vlans: [.dot1ad(3), 4], .pppoe(Fixture.ipv6UDP)))
        #expect(packet.events.isEmpty && packet.ipVersion == 6 && packet.l3Offset == 30 && packet.dport == 53)
    }

    @Test func linkControlCarriesNoIP() {
        for proto: UInt16 in [0xC021, 0x8021, 0xC223, 0x0001] {  // LCP, IPCP, CHAP, padding
            let packet = decode(Packet.ethernet(.pppoe(pppProtocol: proto, .raw(etherType: 0, [1, 1, 0, 4]))))
            #expect(packet.events.isEmpty && !packet.hasIP)
        }
    }

    @Test func unsupportedPPPProtocol() {
        let packet = decode(Packet.ethernet(.pppoe(pppProtocol: 0x002B, .raw(etherType: 0, [0, 0]))))  // IPX over PPP
        #expect(eventNames(packet) == ["decoder.ppp.unsup_proto"])
    }

    @Test func wrongCode() {
        let packet = decode(Packet.ethernet(.pppoe(code: 0x09, Fixture.ipv4SYN)))  // PADI code on the session EtherType
        #expect(eventNames(packet) == ["decoder.pppoe.wrong_code"] && !packet.hasIP)
    }

    @Test func tooSmall() {
        let frame = Packet.ethernet(.pppoe(Fixture.ipv4SYN))
        #expect(eventNames(decode(Array(frame.prefix(14 + 5)))) == ["decoder.pppoe.pkt_too_small"])
        #expect(eventNames(decode(Array(frame.prefix(14 + 7)))) == ["decoder.ppp.pkt_too_small"])
    }
}
