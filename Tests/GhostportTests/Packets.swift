import TestSupport
import Wire

/// Packets the end-to-end tests share: a probe to 571/udemon and the traffic around it.
enum Sample {
    static let probe = Network.ipv4(src: "45.77.1.9", dst: "192.168.4.20", .tcp(sport: 40001, dport: 571, flags: .syn))
    static let synAck = Network.ipv4(src: "192.168.4.20", dst: "45.77.1.9", .tcp(sport: 571, dport: 40001, flags: .synAck))
    static let udp4 = Network.ipv4(src: "10.1.2.3", dst: "10.9.8.7", .udp(sport: 5353, dport: 571, payload: [1, 2, 3, 4]))
    static let tcp6 = Network.ipv6(src: "2001:db8::1", dst: "2001:db8:0:1::53", .tcp(sport: 40003, dport: 571, flags: [.psh, .ack]))
    static let udp6 = Network.ipv6(src: "fe80::1", dst: "ff02::fb", .udp(sport: 5353, dport: 5353, payload: [9, 9]))
    static let extensions6 = Network.ipv6(
        src: "2001:db8::1", dst: "2001:db8::2",
        extensionHeaders: [.hopByHop(), .destinationOptions(), .routing(), .destinationOptions()],
        .udp(sport: 40004, dport: 571))
    static let sctp4 = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .sctp(sport: 2905, dport: 571))
    static let sctp6 = Network.ipv6(src: "2001:db8::a", dst: "2001:db8::b", .sctp(sport: 2906, dport: 571))
    static let icmpError4 = Network.ipv4(src: "198.51.100.1", dst: "45.77.1.9", .icmpError(type: 3, code: 3, quoting: udp4))
    static let icmpEcho4 = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmpEcho(payload: [1, 2, 3]))
    static let icmpv6Error = Network.ipv6(src: "2001:db8::ff", dst: "2001:db8::1", .icmpv6Error(type: 1, code: 4, quoting: tcp6))
    static let icmpv6Echo = Network.ipv6(src: "2001:db8::1", dst: "2001:db8::2", .icmpv6Echo())
    /// The first fragment of a UDP datagram: its ports are there.
    static let firstFragment4 = Network.ipv4(src: "10.0.0.5", dst: "10.0.0.6", id: 77, moreFragments: true,
                                             .udp(sport: 40005, dport: 571, payload: [UInt8](repeating: 0x41, count: 16)))
    /// A fragment from further in: no transport header, no ports.
    static let laterFragment4 = Network.ipv4(src: "10.0.0.5", dst: "10.0.0.6", id: 77, fragmentOffset: 3,
                                             .raw(proto: 17, [UInt8](repeating: 0x41, count: 16)))
    static let firstFragment6 = Network.ipv6(src: "2001:db8::5", dst: "2001:db8::6",
                                             extensionHeaders: [.fragment(offset: 0, more: true, id: 99)],
                                             .tcp(sport: 40006, dport: 571, flags: .syn, payload: [UInt8](repeating: 0x42, count: 8)))
    static let laterFragment6 = Network.ipv6(src: "2001:db8::5", dst: "2001:db8::6",
                                             extensionHeaders: [.fragment(offset: 4, more: false, id: 99)],
                                             .raw(proto: 6, [UInt8](repeating: 0x42, count: 16)))
}
