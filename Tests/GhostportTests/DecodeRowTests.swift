import Foundation
import Testing
import TestSupport
import Wire

/// One frame, the link type of its file, and the CSV row `decode` must print for it.
struct RowCase: Sendable, CustomTestStringConvertible {
    var name: String
    var linkType: LinkType
    var frame: [UInt8]
    /// The row after `frame,ts,` (the frame is 1 and the time fixed).
    var row: String

    var testDescription: String { name }
}

private let rowCases: [RowCase] = [
    RowCase(name: "Ethernet IPv4 TCP SYN", linkType: .ethernet, frame: Packet.ethernet(Sample.probe),
            row: "EN10MB,45.77.1.9,192.168.4.20,6,40001,571,0x0002,"),
    RowCase(name: "Ethernet padded to 60", linkType: .ethernet, frame: Packet.ethernet(minimumLength: 60, Sample.udp4),
            row: "EN10MB,10.1.2.3,10.9.8.7,17,5353,571,,"),
    RowCase(name: "IPv6 TCP PSH ACK", linkType: .ethernet, frame: Packet.ethernet(Sample.tcp6),
            row: "EN10MB,2001:db8::1,2001:db8:0:1::53,6,40003,571,0x0018,"),
    RowCase(name: "IPv6 hop-by-hop, destination, routing, destination options", linkType: .ethernet,
            frame: Packet.ethernet(Sample.extensions6), row: "EN10MB,2001:db8::1,2001:db8::2,17,40004,571,,"),
    RowCase(name: "VLAN", linkType: .ethernet, frame: Packet.ethernet(vlans: [100], Sample.synAck),
            row: "EN10MB,192.168.4.20,45.77.1.9,6,571,40001,0x0012,"),
    RowCase(name: "QinQ", linkType: .ethernet, frame: Packet.ethernet(vlans: [.dot1ad(200), 10], Sample.udp6),
            row: "EN10MB,fe80::1,ff02::fb,17,5353,5353,,"),
    RowCase(name: "three tags", linkType: .ethernet, frame: Packet.ethernet(vlans: [.dot1ad(1), 2, 3], Sample.probe),
            row: "EN10MB,45.77.1.9,192.168.4.20,6,40001,571,0x0002,"),
    RowCase(name: "PPPoE IPv4", linkType: .ethernet, frame: Packet.ethernet(.pppoe(session: 7, Sample.probe)),
            row: "EN10MB,45.77.1.9,192.168.4.20,6,40001,571,0x0002,"),
    RowCase(name: "PPPoE IPv6", linkType: .ethernet, frame: Packet.ethernet(.pppoe(Sample.tcp6)),
            row: "EN10MB,2001:db8::1,2001:db8:0:1::53,6,40003,571,0x0018,"),
    RowCase(name: "MPLS IPv4", linkType: .ethernet, frame: Packet.ethernet(.mpls(labels: [16, 17], Sample.udp4)),
            row: "EN10MB,10.1.2.3,10.9.8.7,17,5353,571,,"),
    RowCase(name: "MPLS IPv6", linkType: .ethernet, frame: Packet.ethernet(.mpls(labels: [300], Sample.tcp6)),
            row: "EN10MB,2001:db8::1,2001:db8:0:1::53,6,40003,571,0x0018,"),
    RowCase(name: "LINUX_SLL", linkType: .linuxSLL, frame: Packet.sll(Sample.probe),
            row: "LINUX_SLL,45.77.1.9,192.168.4.20,6,40001,571,0x0002,"),
    RowCase(name: "LINUX_SLL2", linkType: .linuxSLL2, frame: Packet.sll2(Sample.udp6),
            row: "LINUX_SLL2,fe80::1,ff02::fb,17,5353,5353,,"),
    RowCase(name: "NULL little-endian", linkType: .null, frame: Packet.null(Sample.udp4),
            row: "NULL,10.1.2.3,10.9.8.7,17,5353,571,,"),
    RowCase(name: "NULL big-endian IPv6", linkType: .null, frame: Packet.null(bigEndian: true, Sample.tcp6),
            row: "NULL,2001:db8::1,2001:db8:0:1::53,6,40003,571,0x0018,"),
    RowCase(name: "LOOP", linkType: .loop, frame: Packet.loop(Sample.probe),
            row: "LOOP,45.77.1.9,192.168.4.20,6,40001,571,0x0002,"),
    RowCase(name: "RAW (LINKTYPE_RAW 101)", linkType: .linktypeRaw, frame: Packet.raw(Sample.tcp6),
            row: "RAW,2001:db8::1,2001:db8:0:1::53,6,40003,571,0x0018,"),
    RowCase(name: "IPV4 (228)", linkType: .ipv4, frame: Packet.raw(Sample.sctp4),
            row: "IPV4,10.0.0.1,10.0.0.2,132,2905,571,,"),
    RowCase(name: "IPV6 (229)", linkType: .ipv6, frame: Packet.raw(Sample.sctp6),
            row: "IPV6,2001:db8::a,2001:db8::b,132,2906,571,,"),
    RowCase(name: "ICMP port unreachable", linkType: .ethernet, frame: Packet.ethernet(Sample.icmpError4),
            row: "EN10MB,198.51.100.1,45.77.1.9,1,,,,"),
    RowCase(name: "ICMPv6 port unreachable", linkType: .ethernet, frame: Packet.ethernet(Sample.icmpv6Error),
            row: "EN10MB,2001:db8::ff,2001:db8::1,58,,,,"),
    RowCase(name: "IPv4 first fragment", linkType: .ethernet, frame: Packet.ethernet(Sample.firstFragment4),
            row: "EN10MB,10.0.0.5,10.0.0.6,17,40005,571,,"),
    RowCase(name: "IPv4 later fragment", linkType: .ethernet, frame: Packet.ethernet(Sample.laterFragment4),
            row: "EN10MB,10.0.0.5,10.0.0.6,17,,,,"),
    RowCase(name: "IPv6 first fragment", linkType: .ethernet, frame: Packet.ethernet(Sample.firstFragment6),
            row: "EN10MB,2001:db8::5,2001:db8::6,6,40006,571,0x0002,"),
    RowCase(name: "IPv6 later fragment", linkType: .ethernet, frame: Packet.ethernet(Sample.laterFragment6),
            row: "EN10MB,2001:db8::5,2001:db8::6,6,,,,"),
    // The flags sit inside the 20 bytes that are there, so they are still reported with the event.
    RowCase(name: "TCP data offset too small", linkType: .ethernet,
            frame: Packet.ethernet(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 1, dport: 571, dataOffset: 4))),
            row: "EN10MB,10.0.0.1,10.0.0.2,6,1,571,0x0002,decoder.tcp.hlen_too_small"),
    RowCase(name: "ARP: no IP", linkType: .ethernet, frame: Packet.ethernet(.raw(etherType: 0x0806, [UInt8](repeating: 0, count: 28))),
            row: "EN10MB,,,,,,,"),
]

@Suite("decode: CSV rows")
struct DecodeRowTests {
    @Test("the row for one frame", arguments: rowCases)
    func row(_ rowCase: RowCase) throws {
        let dir = try TempDirectory()
        let path = try dir.write("one.pcap", CaptureFile(precision: .nanoseconds, linkType: DataLinkType(rowCase.linkType), records: [
            CaptureRecord(rowCase.frame, seconds: 1_750_000_000, nanoseconds: 123_456_789),
        ]))
        let result = try Tool.ghostport(["decode", path])
        #expect(result.lines == [csvHeader, "1,1750000000.123456789," + rowCase.row + ","])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("the exact header, frames counted from 1, microsecond times padded with zeros")
    func headerAndTimes() throws {
        let dir = try TempDirectory()
        let path = try dir.write("three.pcap", CaptureFile(precision: .microseconds, records: [
            CaptureRecord(Packet.ethernet(Sample.probe), seconds: 1_750_000_000, nanoseconds: 123_000),
            CaptureRecord(Packet.ethernet(Sample.synAck), seconds: 1_750_000_000, nanoseconds: 654_321_000),
            CaptureRecord(Packet.ethernet(Sample.probe), seconds: 1_750_000_001, nanoseconds: 0),
        ]))
        let result = try Tool.ghostport(["decode", path])
        #expect(result.lines == [
            "frame,ts,linktype,src,dst,proto,sport,dport,tcp_flags,events,tunnel",
            "1,1750000000.000123000,EN10MB,45.77.1.9,192.168.4.20,6,40001,571,0x0002,,",
            "2,1750000000.654321000,EN10MB,192.168.4.20,45.77.1.9,6,571,40001,0x0012,,",
            "3,1750000001.000000000,EN10MB,45.77.1.9,192.168.4.20,6,40001,571,0x0002,,",
        ])
        #expect(result.status == 0)
    }

    @Test("pcapng reads the same rows")
    func pcapng() throws {
        let dir = try TempDirectory()
        let frames = [Packet.ethernet(Sample.probe), Packet.ethernet(vlans: [100], Sample.tcp6)]
        let pcap = try dir.write("a.pcap", CaptureFile(format: .pcap, precision: .nanoseconds, frames: frames))
        let pcapng = try dir.write("a.pcapng", CaptureFile(format: .pcapng, precision: .nanoseconds, frames: frames))
        let fromPcap = try Tool.ghostport(["decode", pcap]), fromPcapng = try Tool.ghostport(["decode", pcapng])
        #expect(fromPcap.lines.count == 3)
        #expect(fromPcapng.lines == fromPcap.lines)
        #expect(fromPcapng.status == 0)
    }
}
