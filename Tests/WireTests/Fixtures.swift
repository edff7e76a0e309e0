import TestSupport
import Wire

// Packets several test files share, and the corpus the property tests mutate.

/// Decodes `frame` as `linkType` into a fresh packet.
func decode(_ frame: [UInt8], _ linkType: LinkType = .ethernet) -> DecodedPacket {
    Decoder.decode(frame, linkType: linkType)
}

/// The decoded events by name, sorted: readable when an expectation fails.
func eventNames(_ packet: DecodedPacket) -> [String] {
    packet.events.map(\.name).sorted()
}

enum Fixture {
    static let tcpSYN = Segment.tcp(sport: 1234, dport: 571, flags: .syn)
    static let udpDNS = Segment.udp(sport: 5353, dport: 53, payload: [1, 2, 3, 4])

    static let ipv4SYN = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", tcpSYN)
    static let ipv6SYN = Network.ipv6(src: "2001:db8::1", dst: "2001:db8::2", tcpSYN)
    static let ipv4UDP = Network.ipv4(src: "192.0.2.1", dst: "198.51.100.7", udpDNS)
    static let ipv6UDP = Network.ipv6(src: "fe80::1", dst: "ff02::fb", udpDNS)

    /// Frames that decode cleanly, one per link type and encapsulation, with the link type to read them as.
    static let corpus: [(name: String, frame: [UInt8], linkType: LinkType)] = [
        ("eth ipv4 tcp", Packet.ethernet(ipv4SYN), .ethernet),
        ("eth ipv6 tcp", Packet.ethernet(ipv6SYN), .ethernet),
        ("eth padded ipv4 udp", Packet.ethernet(minimumLength: 60, ipv4UDP), .ethernet),
        ("eth qinq ipv4", Packet.ethernet(vlans: [.dot1ad(100), 10, 20], ipv4SYN), .ethernet),
        ("eth pppoe ipv6", Packet.ethernet(.pppoe(ipv6UDP)), .ethernet),
        ("eth mpls ipv4", Packet.ethernet(.mpls(labels: [16, 17, 0], ipv4UDP)), .ethernet),
        ("eth mpls ipv6", Packet.ethernet(.mpls(labels: [300], ipv6SYN)), .ethernet),
        ("sll ipv4", Packet.sll(ipv4SYN), .linuxSLL),
        ("sll2 ipv6", Packet.sll2(ipv6UDP), .linuxSLL2),
        ("null le", Packet.null(ipv4UDP), .null),
        ("null be ipv6", Packet.null(bigEndian: true, ipv6SYN), .null),
        ("loop", Packet.loop(ipv4SYN), .loop),
        ("raw ipv6", Packet.raw(ipv6SYN), .raw),
        ("ipv4 linktype", Packet.raw(ipv4UDP), .ipv4),
        ("ipv6 options chain", Packet.raw(.ipv6(
            src: "2001:db8::1", dst: "2001:db8::2",
            extensionHeaders: [.hopByHop(), .destinationOptions(), .routing(), .fragment(offset: 0, more: true)],
            tcpSYN)), .ipv6),
        ("ipv4 options", Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [1, 7, 7, 4, 0, 0, 0, 0, 0], tcpSYN)), .raw),
        ("tcp options", Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(
            sport: 1, dport: 2, options: [.mss(1460), .sackPermitted, .timestamps(1, 0), .noOperation, .windowScale(7)],
            payload: [0x47, 0x45, 0x54]))), .raw),
        ("sctp", Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .sctp(sport: 2905, dport: 2905))), .raw),
        ("icmp unreachable", Packet.raw(.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .icmpError(quoting: ipv4UDP))), .raw),
        ("icmpv6 unreachable", Packet.raw(.ipv6(src: "2001:db8::2", dst: "2001:db8::1", .icmpv6Error(quoting: ipv6SYN))), .raw),
        ("icmp echo", Packet.raw(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmpEcho(payload: [1, 2, 3]))), .raw),
        ("icmpv6 echo", Packet.raw(.ipv6(src: "::1", dst: "::1", .icmpv6Echo())), .raw),
        ("gre ipv4", Packet.raw(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .gre(key: 7, sequence: 1, checksum: true, ipv4SYN))), .raw),
        ("gre ethernet", Packet.ethernet(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .greEthernet(Packet.ethernet(ipv6SYN)))), .ethernet),
        ("erspan1", Packet.raw(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .erspan1(Packet.ethernet(ipv4SYN)))), .raw),
        ("erspan2", Packet.raw(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .erspan2(session: 5, Packet.ethernet(ipv4SYN)))), .raw),
        ("erspan3", Packet.raw(.ipv6(src: "2001:db8::a", dst: "2001:db8::b", .erspan3(session: 9, platform: true, Packet.ethernet(ipv4UDP)))), .raw),
        ("vxlan", Packet.ethernet(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .vxlan(vni: 42, Packet.ethernet(vlans: [5], ipv4SYN)))), .ethernet),
        ("geneve", Packet.raw(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .geneve(vni: 7, optionWords: 2, Packet.ethernet(ipv6SYN)))), .raw),
        ("geneve ipv4", Packet.raw(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .geneve(vni: 7, protocolType: 0x0800, ipv4SYN.bytes))), .raw),
        ("teredo", Packet.raw(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .teredo(origin: true, authentication: true, ipv6SYN))), .raw),
        ("ipip", Packet.raw(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .ipInIP(ipv4SYN))), .raw),
        ("6in4", Packet.raw(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .ipInIP(ipv6SYN))), .raw),
        ("4in6", Packet.raw(.ipv6(src: "2001:db8::a", dst: "2001:db8::b", .ipInIP(ipv4UDP))), .raw),
        ("6in6", Packet.raw(.ipv6(src: "2001:db8::a", dst: "2001:db8::b", .ipInIP(ipv6SYN))), .raw),
        ("vxlan in gre", Packet.raw(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .gre(.ipv4(src: "198.51.100.1", dst: "198.51.100.2",
            .vxlan(vni: 1, Packet.ethernet(ipv4SYN)))))), .raw),
    ]
}
