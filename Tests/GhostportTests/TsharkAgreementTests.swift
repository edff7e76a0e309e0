import Foundation
import Testing
import TestSupport
import Wire

/// A capture to decode with both tools: one link type, its frames, the file's format and precision.
struct AgreementCase: Sendable, CustomTestStringConvertible {
    var name: String
    var linkType: LinkType
    /// libpcap's name, as ghostport prints it.
    var linkTypeName: String
    var frames: [[UInt8]]
    var format: CaptureFile.Format = .pcap
    var precision: CaptureFile.Precision = .nanoseconds

    var testDescription: String { name }

    /// Frames a second and a little apart, the sub-second part using every digit the precision keeps.
    var file: CaptureFile {
        let records = frames.enumerated().map { index, frame in
            let nanoseconds = UInt32((index + 1) * 123_456_789 % 1_000_000_000)
            return CaptureRecord(frame, seconds: 1_750_000_000 + UInt32(index),
                                 nanoseconds: precision == .nanoseconds ? nanoseconds : nanoseconds / 1000 * 1000)
        }
        return CaptureFile(format: format, precision: precision, linkType: DataLinkType(linkType), records: records)
    }
}

/// IP packets over every encapsulation and transport ghostport decodes.
private enum Mix {
    static let tcpFlags: [TCPFlags] = [.syn, .synAck, [.fin, .ack], .rst, [.rst, .ack], [.psh, .ack, .urg], [.syn, .ece, .cwr], [.ack, .ns]]

    static let ipv4: [Network] = [Sample.probe, Sample.udp4, Sample.sctp4, Sample.icmpEcho4, Sample.icmpError4,
                                  Sample.firstFragment4, Sample.laterFragment4]
        + tcpFlags.enumerated().map { index, flags in
            .ipv4(src: "203.0.113.\(index + 1)", dst: "192.0.2.254", .tcp(sport: UInt16(50_000 + index), dport: 571, flags: flags))
        }

    /// Each extension header alone, then chains, first and later fragments.
    static let ipv6: [Network] = [
        Sample.tcp6, Sample.udp6, Sample.sctp6, Sample.icmpv6Echo, Sample.icmpv6Error, Sample.extensions6,
        Sample.firstFragment6, Sample.laterFragment6,
        .ipv6(src: "2001:db8::1", dst: "2001:db8::2", extensionHeaders: [.hopByHop(options: [5, 2, 0, 0])],
              .udp(sport: 546, dport: 547)),
        // A segment routing header: last entry 0, flags, tag, then its one segment.
        .ipv6(src: "2001:db8::1", dst: "2001:db8::2",
              extensionHeaders: [.routing(type: 4, segmentsLeft: 0, data: [0, 0, 0, 0] + AddressText.bytes("2001:db8::2"))],
              .tcp(sport: 40010, dport: 571, flags: .syn)),
        .ipv6(src: "2001:db8::1", dst: "2001:db8::2", extensionHeaders: [.destinationOptions()],
              .sctp(sport: 40011, dport: 571)),
        .ipv6(src: "2001:db8::1", dst: "2001:db8::2", extensionHeaders: [.destinationOptions()], .icmpv6Echo()),
        .ipv6(src: "2001:db8::1", dst: "2001:db8::2",
              extensionHeaders: [.hopByHop(), .destinationOptions(), .routing(), .fragment(offset: 0, more: true), .destinationOptions()],
              .udp(sport: 40012, dport: 571, payload: [UInt8](repeating: 7, count: 24))),
        .ipv6(src: "2001:db8::1", dst: "2001:db8::2",
              extensionHeaders: [.hopByHop(), .routing(), .fragment(offset: 10, more: false, id: 5)],
              .raw(proto: 17, [UInt8](repeating: 7, count: 24))),
        .ipv6(src: "2001:db8::1", dst: "2001:db8::2", extensionHeaders: [.fragment(offset: 0, more: true, id: 6)],
              .icmpv6Echo(payload: [UInt8](repeating: 1, count: 16))),
        .ipv6(src: "::ffff:192.0.2.1", dst: "fe80::1:0:0:1", .tcp(sport: 1, dport: 571, flags: .syn)),
    ]

    static let all = ipv4 + ipv6
}

private let agreementCases: [AgreementCase] = [
    AgreementCase(name: "EN10MB", linkType: .ethernet, linkTypeName: "EN10MB", frames: Mix.all.map { Packet.ethernet($0) }),
    AgreementCase(name: "EN10MB padded, pcapng microseconds", linkType: .ethernet, linkTypeName: "EN10MB",
                  frames: Mix.all.map { Packet.ethernet(minimumLength: 60, $0) }, format: .pcapng, precision: .microseconds),
    AgreementCase(name: "VLAN, QinQ, three tags", linkType: .ethernet, linkTypeName: "EN10MB",
                  frames: Mix.all.map { Packet.ethernet(vlans: [100], $0) } + Mix.all.map { Packet.ethernet(vlans: [.dot1ad(200), 10], $0) }
                      + Mix.ipv4.map { Packet.ethernet(vlans: [.dot1ad(1), .dot1q(2), .dot1q(3)], $0) }),
    AgreementCase(name: "PPPoE", linkType: .ethernet, linkTypeName: "EN10MB", frames: Mix.all.map { Packet.ethernet(.pppoe(session: 9, $0)) }),
    AgreementCase(name: "MPLS", linkType: .ethernet, linkTypeName: "EN10MB",
                  frames: Mix.all.map { Packet.ethernet(.mpls(labels: [16, 17], $0)) } + Mix.ipv6.map { Packet.ethernet(.mpls(labels: [1000], $0)) }),
    AgreementCase(name: "LINUX_SLL", linkType: .linuxSLL, linkTypeName: "LINUX_SLL", frames: Mix.all.map { Packet.sll($0) }),
    AgreementCase(name: "LINUX_SLL2", linkType: .linuxSLL2, linkTypeName: "LINUX_SLL2", frames: Mix.all.map { Packet.sll2($0) }),
    AgreementCase(name: "NULL, both byte orders and the IPv6 families", linkType: .null, linkTypeName: "NULL",
                  frames: Mix.ipv4.map { Packet.null($0) } + Mix.ipv4.map { Packet.null(bigEndian: true, $0) }
                      + Mix.ipv6.map { Packet.null(family: Packet.AddressFamily.inet6BSD, $0) }
                      + Mix.ipv6.map { Packet.null(family: Packet.AddressFamily.inet6FreeBSD, $0) }
                      + Mix.ipv6.map { Packet.null(family: Packet.AddressFamily.inet6Darwin, bigEndian: true, $0) }),
    AgreementCase(name: "LOOP", linkType: .loop, linkTypeName: "LOOP",
                  frames: Mix.ipv4.map { Packet.loop($0) } + Mix.ipv6.map { Packet.loop(family: Packet.AddressFamily.inet6BSD, $0) }),
    AgreementCase(name: "RAW (LINKTYPE_RAW 101)", linkType: .linktypeRaw, linkTypeName: "RAW", frames: Mix.all.map(Packet.raw)),
    AgreementCase(name: "RAW (12)", linkType: .raw, linkTypeName: "RAW", frames: Mix.all.map(Packet.raw)),
    AgreementCase(name: "IPV4 (228)", linkType: .ipv4, linkTypeName: "IPV4", frames: Mix.ipv4.map(Packet.raw)),
    AgreementCase(name: "IPV6 (229)", linkType: .ipv6, linkTypeName: "IPV6", frames: Mix.ipv6.map(Packet.raw)),
]

/// tshark's fields for the comparison, in column order.
private let tsharkFields = [
    "frame.number", "frame.time_epoch", "ip.src", "ip.dst", "ip.proto", "ip.frag_offset",
    "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.fraghdr.nxt", "ipv6.dstopts.nxt",
    "ipv6.fraghdr.offset", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
    "tcp.flags",
]

/// The IPv6 extension headers by protocol number, with the tshark field that holds their next header.
private let extensionNext: [String: String] = [
    "0": "ipv6.hopopts.nxt", "43": "ipv6.routing.nxt", "44": "ipv6.fraghdr.nxt", "60": "ipv6.dstopts.nxt",
]

/// What ghostport's CSV should say for one frame, worked out from tshark's fields.
private func expectedColumns(_ fields: [String: [String]]) -> [String] {
    func first(_ name: String) -> String { fields[name]?.first ?? "" }
    var src = "", dst = "", proto = "", later = false
    if !first("ip.src").isEmpty {
        (src, dst, proto) = (first("ip.src"), first("ip.dst"), first("ip.proto"))
        later = !["", "0"].contains(first("ip.frag_offset"))
    } else if !first("ipv6.src").isEmpty {
        (src, dst, proto) = (first("ipv6.src"), first("ipv6.dst"), first("ipv6.nxt"))
        // The outer header's chain: each kind's values in order, as tshark lists every occurrence.
        var used: [String: Int] = [:]
        while let field = extensionNext[proto] {
            let values = fields[field] ?? []
            let index = used[field, default: 0]
            guard index < values.count else { break }
            proto = values[index]
            used[field] = index + 1
        }
        later = !["", "0"].contains(first("ipv6.fraghdr.offset"))
    }
    // An ICMP error's quoted ports and flags are tshark's too; ghostport reports only the outer transport's.
    var sport = "", dport = "", flags = ""
    if !later {
        switch proto {
        case "6": (sport, dport, flags) = (first("tcp.srcport"), first("tcp.dstport"), first("tcp.flags"))
        case "17": (sport, dport) = (first("udp.srcport"), first("udp.dstport"))
        case "132": (sport, dport) = (first("sctp.srcport"), first("sctp.dstport"))
        default: break
        }
    }
    return [first("frame.number"), first("frame.time_epoch"), src, dst, proto, sport, dport, flags]
}

@Suite("decode agrees with tshark", .serialized, Prerequisite.trait(Tool.tsharkUnmet))
struct TsharkAgreementTests {
    @Test("every field of every frame", arguments: agreementCases)
    func agreement(_ agreementCase: AgreementCase) throws {
        let dir = try TempDirectory()
        let path = try dir.write("capture", agreementCase.file)

        var arguments = ["-n", "-r", path, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,",
                         "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]
        for field in tsharkFields { arguments += ["-e", field] }
        let tshark = try Tool.run(Tool.tshark, arguments)
        try #require(tshark.status == 0, "tshark failed: \(tshark.stderr)")
        let expected = tshark.lines.map { line in
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            var fields: [String: [String]] = [:]
            for (index, name) in tsharkFields.enumerated() where index < columns.count {
                fields[name] = columns[index].split(separator: ",").map(String.init)
            }
            return expectedColumns(fields)
        }

        let ghostport = try Tool.ghostport(["decode", path])
        #expect(ghostport.status == 0, "\(ghostport.stderr)")
        let rows = ghostport.lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        try #require(rows.count == agreementCase.frames.count && expected.count == rows.count,
                     "ghostport \(rows.count) rows, tshark \(expected.count), frames \(agreementCase.frames.count)")

        for (row, want) in zip(rows, expected) {
            try #require(row.count == 11, "\(row)")
            // frame, ts, src, dst, proto, sport, dport, tcp_flags; the link type is libpcap's name.
            let got = [row[0], row[1], row[3], row[4], row[5], row[6], row[7], row[8]]
            #expect(got == want, "frame \(row[0])")
            #expect(row[2] == agreementCase.linkTypeName, "frame \(row[0])")
            #expect(row[9] == "", "frame \(row[0]): events \(row[9])")
            #expect(row[10] == "", "frame \(row[0]): tunnel \(row[10])")
        }
    }
}
