import Foundation
import Testing
import TestSupport
import Wire

/// Each line of `text` parsed as a JSON object; an issue for any that is not one.
private func jsonObjects(_ lines: [String]) -> [[String: Any]] {
    lines.compactMap { line in
        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8))
        guard let dictionary = object as? [String: Any] else {
            Issue.record("not a JSON object: \(line)")
            return nil
        }
        return dictionary
    }
}

@Suite("decode: JSON, --quiet and the summary")
struct DecodeOutputTests {
    private let arp = Network.raw(etherType: 0x0806, [UInt8](repeating: 0, count: 28))
    private let shortTCP = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 1, dport: 571, dataOffset: 4))

    @Test("--format json: one object per line with the row's fields and the extra ones")
    func json() throws {
        let dir = try TempDirectory()
        let frames = [
            Packet.ethernet(vlans: [.dot1ad(200), 100], Sample.probe),
            Packet.ethernet(Sample.icmpError4),
            Packet.ethernet(Sample.firstFragment4),
            Packet.ethernet(Sample.laterFragment4),
            Packet.ethernet(arp),
            Packet.ethernet(Sample.tcp6),
            Packet.ethernet(shortTCP),
            Packet.ethernet(Sample.icmpv6Error),
        ]
        var records = frames.enumerated().map { index, frame in
            CaptureRecord(frame, seconds: 1_750_000_000 + UInt32(index), nanoseconds: 5)
        }
        records[5].originalLength = 1500  // a snapped frame: len is the wire length
        let path = try dir.write("mixed.pcap", CaptureFile(precision: .nanoseconds, records: records))
        let result = try Tool.ghostport(["decode", "--format", "json", path])
        #expect(result.status == 0)
        let objects = jsonObjects(result.lines)
        try #require(objects.count == frames.count)

        for (index, object) in objects.enumerated() {
            #expect(object["file"] as? String == path)
            #expect(object["frame"] as? Int == index + 1)
            #expect(object["ts"] as? String == "\(1_750_000_000 + index).000000005")
            #expect(object["linktype"] as? String == "EN10MB")
            #expect(object["caplen"] as? Int == frames[index].count)
        }
        #expect(objects.map { $0["len"] as? Int } == records.map { $0.originalLength ?? $0.bytes.count })
        #expect(objects[5]["len"] as? Int == 1500 && objects[5]["caplen"] as? Int == frames[5].count)

        let probe = objects[0]
        #expect(probe["vlan"] as? [Int] == [200, 100])
        #expect(probe["ip_v"] as? Int == 4)
        #expect(probe["src"] as? String == "45.77.1.9" && probe["dst"] as? String == "192.168.4.20")
        #expect(probe["proto"] as? Int == 6 && probe["sport"] as? Int == 40001 && probe["dport"] as? Int == 571)
        #expect(probe["tcp_flags"] as? String == "0x0002")
        #expect(probe["events"] as? [String] == [])
        #expect(probe["fragment"] == nil && probe["icmp_type"] == nil)

        let icmp = objects[1]
        #expect(icmp["proto"] as? Int == 1 && icmp["sport"] == nil && icmp["tcp_flags"] == nil && icmp["vlan"] == nil)
        #expect(icmp["icmp_type"] as? Int == 3 && icmp["icmp_code"] as? Int == 3)
        let quoted = icmp["quoted"] as? [String: Any]
        #expect(quoted?["src"] as? String == "10.1.2.3" && quoted?["dst"] as? String == "10.9.8.7")
        #expect(quoted?["proto"] as? Int == 17 && quoted?["sport"] as? Int == 5353 && quoted?["dport"] as? Int == 571)

        #expect(objects[2]["fragment"] as? String == "first" && objects[2]["sport"] as? Int == 40005)
        #expect(objects[3]["fragment"] as? String == "later" && objects[3]["sport"] == nil && objects[3]["proto"] as? Int == 17)

        let arpObject = objects[4]
        #expect(arpObject["ip_v"] == nil && arpObject["src"] == nil && arpObject["proto"] == nil)
        #expect(arpObject["events"] as? [String] == [])

        let ipv6 = objects[5]
        #expect(ipv6["ip_v"] as? Int == 6 && ipv6["src"] as? String == "2001:db8::1" && ipv6["dst"] as? String == "2001:db8:0:1::53")
        #expect(ipv6["tcp_flags"] as? String == "0x0018")

        #expect(objects[6]["events"] as? [String] == ["decoder.tcp.hlen_too_small"])

        let icmpv6 = objects[7]
        #expect(icmpv6["proto"] as? Int == 58 && icmpv6["icmp_type"] as? Int == 1 && icmpv6["icmp_code"] as? Int == 4)
        let quoted6 = icmpv6["quoted"] as? [String: Any]
        #expect(quoted6?["src"] as? String == "2001:db8::1" && quoted6?["dst"] as? String == "2001:db8:0:1::53")
        #expect(quoted6?["proto"] as? Int == 6 && quoted6?["sport"] as? Int == 40003 && quoted6?["dport"] as? Int == 571)
    }

    /// Sub-second fields a crafted capture can hold (tcpdump's timestamp_invalid_nano.pcap has a
    /// billion and 2^31): regression for a trap ("Negative value is not representable").
    static let oddNanoseconds: [UInt32] = [999_999_999, 1_000_000_000, 2_147_483_647, 2_147_483_648, .max]

    @Test("any timestamp a capture holds prints, in every format, as seconds and the file's sub-second field")
    func oddTimestamps() throws {
        let dir = try TempDirectory()
        let records = Self.oddNanoseconds.enumerated().map { index, nanoseconds in
            CaptureRecord(Packet.ethernet(Sample.probe), seconds: index == 0 ? 0 : UInt32.max - UInt32(index), nanoseconds: nanoseconds)
        }
        let path = try dir.write("odd.pcap", CaptureFile(precision: .nanoseconds, records: records))
        let expected: [String] = records.map { record in
            let fraction = String(record.nanoseconds)
            return "\(record.seconds)." + String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction
        }
        #expect(expected[0] == "0.999999999" && expected[1].hasSuffix(".1000000000"))

        let csv = try Tool.ghostport(["decode", path])
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[1] }.map(String.init) == expected)
        let json = try Tool.ghostport(["decode", "--format", "json", path])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(jsonObjects(json.lines).map { $0["ts"] as? String } == expected)

        // Every record kind that prints a time: alerts, flows, anomalies and stats, and evidence files.
        let rules = try dir.write("all.rules", Array("alert ip any any -> any any (msg:\"every packet\"; sid:1;)\n".utf8))
        let read = try Tool.ghostport(["read", "--rules", rules, "--per-packet", "--anomalies", "--quiet", "--no-progress",
                                       "--evidence", dir.file("evidence"), path])
        #expect(read.status == 0, "\(read.stderr)")
        let objects = jsonObjects(read.lines)
        #expect(objects.filter { $0["event_type"] as? String == "alert" }.count == records.count)
        for object in objects {
            let timestamp = try #require(object["timestamp"] as? String)
            #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d{4}/) != nil, "\(timestamp)")
        }
    }

    @Test("the ts column agrees with tshark's frame.time_epoch where tshark reads the sub-second field as it is",
          Prerequisite.trait(Tool.tsharkUnmet))
    func oddTimestampsAgreeWithTshark() throws {
        try Prerequisite.require(Tool.tsharkUnmet)
        let dir = try TempDirectory()
        // tshark keeps nanoseconds in a signed 32-bit field: from 2^31 on it prints them negated.
        let records = Self.oddNanoseconds.filter { $0 <= Int32.max }.enumerated().map { index, nanoseconds in
            CaptureRecord(Packet.ethernet(Sample.probe), seconds: 1_418_145_369 + UInt32(index), nanoseconds: nanoseconds)
        }
        let path = try dir.write("odd.pcap", CaptureFile(precision: .nanoseconds, records: records))
        let tshark = try Tool.run(Tool.tshark, ["-r", path, "-T", "fields", "-e", "frame.time_epoch"])
        let csv = try Tool.ghostport(["decode", path])
        #expect(tshark.lines.count == records.count)
        #expect(csv.lines.dropFirst().map { String($0.split(separator: ",")[1]) } == tshark.lines)
    }

    @Test("--format json escapes the file name")
    func jsonFileName() throws {
        let dir = try TempDirectory()
        let path = try dir.write("quote\" back\\slash tab\t naïve.pcap", CaptureFile(frames: [Packet.ethernet(Sample.probe)]))
        let result = try Tool.ghostport(["decode", "--format", "json", path])
        let objects = jsonObjects(result.lines)
        #expect(objects.count == 1 && objects.first?["file"] as? String == path)
        #expect(result.status == 0)
    }

    @Test("--quiet prints no rows, in either format, only the summary", arguments: [["--quiet"], ["--quiet", "--format", "json"]])
    func quiet(options: [String]) throws {
        let dir = try TempDirectory()
        let frames = [Packet.ethernet(Sample.probe), Packet.ethernet(Sample.udp6)]
        let path = try dir.write("two.pcap", CaptureFile(frames: frames))
        let result = try Tool.ghostport(["decode"] + options + [path])
        #expect(result.stdout == "")
        #expect(result.errorLines.first == "decoded 2 frames, \(frames[0].count + frames[1].count) bytes, from 1 file")
        #expect(result.status == 0)
    }

    @Test("the summary: frames, bytes, link types, network, protocols, events by name")
    func summary() throws {
        let dir = try TempDirectory()
        let frames = [
            Packet.ethernet(Sample.probe), Packet.ethernet(Sample.tcp6), Packet.ethernet(Sample.laterFragment4),
            Packet.ethernet(Sample.udp4), Packet.ethernet(Sample.icmpError4), Packet.ethernet(shortTCP),
            Packet.ethernet(shortTCP), Packet.ethernet(arp), Packet.ethernet(.raw(etherType: 0x9999, [1, 2, 3, 4])),
        ]
        let bytes = frames.reduce(0) { $0 + $1.count }
        let path = try dir.write("mixed.pcap", CaptureFile(frames: frames))
        let result = try Tool.ghostport(["decode", "--quiet", path])
        #expect(result.stderr == """
            decoded 9 frames, \(bytes) bytes, from 1 file
            link types: EN10MB 9
            network: IPv4 6, IPv6 1, no IP 2; fragments 1 (1 without ports)
            protocols: TCP 4, UDP 2, ICMP 1
            decode events:
              decoder.tcp.hlen_too_small 2
              decoder.ethernet.unknown_ethertype 1

            """)
        #expect(result.status == 0)
    }

    @Test("the summary counts every file and link type, and bytes on the wire")
    func summaryOfSeveralFiles() throws {
        let dir = try TempDirectory()
        let ethernet = try dir.write("a.pcap", CaptureFile(frames: [Packet.ethernet(Sample.probe), Packet.ethernet(Sample.synAck)]))
        let sll = try dir.write("b.pcap", CaptureFile(linkType: .linuxSLL, records: [
            CaptureRecord(Packet.sll(Sample.udp6), originalLength: 1000),
        ]))
        let result = try Tool.ghostport(["decode", "--quiet", ethernet, sll])
        #expect(result.errorLines == [
            "decoded 3 frames, \(54 + 54 + 1000) bytes, from 2 files",
            "link types: EN10MB 2, LINUX_SLL 1",
            "network: IPv4 2, IPv6 1, no IP 0; fragments 0 (0 without ports)",
            "protocols: TCP 2, UDP 1",
            "decode events: none",
        ])
    }
}
