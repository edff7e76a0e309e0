/// The capture `Tests/Fixtures/demo.pcap` holds, the one the README's first command reads: a
/// few seconds at a gateway, with every verdict ghostport gives and a scan among ordinary traffic.
public enum DemoCapture {
    public static func make() -> CaptureFile {
        var records: [CaptureRecord] = []
        var clock: UInt64 = 1_749_978_721 * 1_000_000  // 2025-06-15 09:12:01 UTC, in microseconds
        func at(_ frame: [UInt8], after micros: UInt64 = 1_500) {
            clock += micros
            records.append(CaptureRecord(frame, seconds: UInt32(clock / 1_000_000), nanoseconds: UInt32(clock % 1_000_000) * 1000))
        }
        func v4(_ src: String, _ dst: String, _ segment: Segment) -> [UInt8] {
            Packet.ethernet(.ipv4(src: src, dst: dst, segment))
        }

        // Ordinary traffic: HTTPS and DNS, which no rule watches.
        at(v4("192.168.1.50", "93.184.216.34", .tcp(sport: 51_000, dport: 443, flags: .syn)))
        at(v4("93.184.216.34", "192.168.1.50", .tcp(sport: 443, dport: 51_000, flags: .synAck, ack: 2)))
        at(v4("192.168.1.50", "93.184.216.34", .tcp(sport: 51_000, dport: 443, flags: .ack, seq: 2, ack: 2)))
        at(v4("192.168.1.50", "192.168.1.1", .udp(sport: 53_001, dport: 53, payload: [UInt8](repeating: 0x17, count: 32))))
        at(v4("192.168.1.1", "192.168.1.50", .udp(sport: 53, dport: 53_001, payload: [UInt8](repeating: 0x17, count: 48))))

        // A live listener on 571/tcp (udemon): SYN, SYN-ACK, then data both ways. The finding.
        at(v4("203.0.113.7", "192.168.1.20", .tcp(sport: 40_571, dport: 571, flags: .syn)))
        at(v4("192.168.1.20", "203.0.113.7", .tcp(sport: 571, dport: 40_571, flags: .synAck, ack: 2)))
        at(v4("203.0.113.7", "192.168.1.20", .tcp(sport: 40_571, dport: 571, flags: .ack, seq: 2, ack: 2)))
        at(v4("203.0.113.7", "192.168.1.20", .tcp(sport: 40_571, dport: 571, flags: [.psh, .ack], seq: 2, ack: 2,
                                                 payload: Array("meter\n".utf8))))
        at(v4("192.168.1.20", "203.0.113.7", .tcp(sport: 571, dport: 40_571, flags: [.psh, .ack], seq: 2, ack: 8,
                                                 payload: Array("udemon 4.2 ready\n".utf8))))

        // Refused: a RST from 571/tcp, and an ICMP port unreachable for 571/udp.
        at(v4("198.51.100.23", "192.168.1.21", .tcp(sport: 33_000, dport: 571, flags: .syn)))
        at(v4("192.168.1.21", "198.51.100.23", .tcp(sport: 571, dport: 33_000, flags: [.rst, .ack], ack: 2)))
        let probe = Network.ipv4(src: "198.51.100.99", dst: "192.168.1.22", .udp(sport: 33_001, dport: 571, payload: [0x17, 0x17, 0x17, 0x17]))
        at(Packet.ethernet(probe))
        at(v4("192.168.1.22", "198.51.100.99", .icmpError(type: 3, code: 3, quoting: probe)))

        // An IPv6 probe on VLAN 20 to 519/tcp (utime) that nothing answers.
        at(Packet.ethernet(vlans: [20], .ipv6(src: "2001:db8:ffff::5", dst: "2001:db8:1::10",
                                              .tcp(sport: 45_519, dport: 519, flags: .syn))))

        // A scanner sweeping six abandoned ports on one host.
        for port: UInt16 in [3, 87, 95, 104, 519, 571] {
            at(v4("192.0.2.66", "192.168.1.30", .tcp(sport: 61_000, dport: port, flags: .syn)), after: 20_000)
        }
        return CaptureFile(format: .pcap, precision: .microseconds, linkType: .ethernet, records: records)
    }
}
