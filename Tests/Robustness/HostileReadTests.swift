import Foundation
import TestSupport
import Testing

/// `ghostport read --flow-memory 1 --quiet` on captures built to hurt it: a spoofed SYN flood to a
/// watched port, a fragment flood, runt frames, and ICMP errors quoting garbage. Each must exit 0,
/// write only JSON lines, end with a stats record whose counters account for what happened, and stay
/// under 128 MiB of resident memory (the child's peak, from wait4).
@Suite(.serialized, Prerequisite.trait(Checkout.ghostport == nil
                                        ? "no ghostport binary beside the tests or in .build/debug: run swift build first" : nil))
struct HostileReadTests {
    static let rssLimitKiB = 128 * 1024

    /// (a) 200,000 SYNs to 192.168.4.20:571 from 200,000 spoofed sources: 200,000 watched flows in a
    /// 1 MiB flow table, so most are evicted, and each ends with a flow record.
    @Test func spoofedSynFloodToAWatchedPort() throws {
        var pcap = PcapBuilder(capacity: 200_000 * 70)
        for i in 0..<200_000 {
            let src = 0x2D00_0000 | UInt32(i)  // 45.0.0.0/8, one address per flow
            let syn = Frame.tcp(sport: UInt16(1024 + i % 60_000), dport: 571, flags: 0x02, seq: UInt32(i))
            pcap.append(Frame.ethernet(etherType: 0x0800, Frame.ipv4(src: src, dst: 0xC0A8_0414, proto: 6, syn)), microsecond: i * 5)
        }
        let run = try HostileRun(name: "syn-flood", pcap)
        #expect(run.stats.packets == 200_000)
        #expect(run.stats.flow["created"] == 200_000)
        #expect((run.stats.flow["evicted"] ?? 0) > 100_000, "a 1 MiB table cannot hold 200,000 flows: \(run.stats.flow)")
        #expect(run.stats.flow["watched"] == 200_000)
        #expect(run.stats.alertsBySid["9005710"] == 200_000, "one probe alert per flow: \(run.stats.alertsBySid)")
        #expect(run.eventTypes["alert"] == 200_000)
        #expect(run.eventTypes["flow"] == 200_000, "every watched flow ends with a flow record, evicted or not")
        #expect(run.flowReasons["forced"] == run.stats.flow["evicted"], "an evicted flow's record says forced")
        #expect(run.flowReasons["forced", default: 0] + run.flowReasons["shutdown", default: 0] == 200_000)
        #expect(run.stats.verdicts["unanswered"] == 200_000)
    }

    /// (b) 50,000 IPv4 fragments to 571/tcp: 25,000 first fragments (MF, offset 0, carrying the TCP
    /// header) and 25,000 later ones (offset 24 bytes, no ports), each pair its own datagram.
    @Test func fragmentFlood() throws {
        var pcap = PcapBuilder(capacity: 50_000 * 80)
        for i in 0..<50_000 {
            let src = 0x2E00_0000 | UInt32(i / 2)
            let id = UInt16(truncatingIfNeeded: i / 2)
            let frame: [UInt8]
            if i % 2 == 0 {
                let first = Frame.tcp(sport: UInt16(2000 + i % 50_000), dport: 571, flags: 0x02) + [1, 2, 3, 4]
                frame = Frame.ipv4(src: src, dst: 0xC0A8_0414, proto: 6, id: id, flagsFragment: 0x2000, first)
            } else {
                frame = Frame.ipv4(src: src, dst: 0xC0A8_0414, proto: 6, id: id, flagsFragment: 3, [UInt8](repeating: 0xAB, count: 16))
            }
            pcap.append(Frame.ethernet(etherType: 0x0800, frame), microsecond: i * 5)
        }
        let run = try HostileRun(name: "fragments", pcap)
        #expect(run.stats.packets == 50_000)
        #expect(run.stats.flow["created"] == 25_000, "first fragments carry ports; later ones cannot start flows")
        #expect(run.stats.alertsBySid["9005710"] == 25_000)
        #expect(run.flowReasons["forced"] == run.stats.flow["evicted"])
        #expect(run.stats.detect["uninspected"] == 25_000, "later fragments carry no port a rule could match")
        #expect(run.stats.events.isEmpty, "fragments are not malformed: \(run.stats.events)")
    }

    /// (c) 100,000 frames of 14 bytes, an Ethernet header and nothing after it, cycling through the
    /// EtherTypes that promise a further header: IPv4, IPv6, 802.1Q, PPPoE session.
    @Test func runtFrames() throws {
        let etherTypes: [UInt16] = [0x0800, 0x86DD, 0x8100, 0x8864]
        var pcap = PcapBuilder(capacity: 100_000 * 30)
        for i in 0..<100_000 {
            pcap.append(Frame.ethernet(etherType: etherTypes[i % 4], []), microsecond: i)
        }
        let run = try HostileRun(name: "runts", pcap)
        #expect(run.stats.packets == 100_000)
        #expect(run.stats.events == [
            "decoder.ipv4.pkt_too_small": 25_000, "decoder.ipv6.pkt_too_small": 25_000,
            "decoder.vlan.header_too_small": 25_000, "decoder.pppoe.pkt_too_small": 25_000,
        ])
        #expect(run.stats.flow["created"] == 0)
        #expect(run.eventTypes == ["stats": 1])
    }

    /// (d) 20,000 ICMP port-unreachables from 192.168.4.20 quoting garbage: a third quote a header
    /// of the wrong version, a third a header cut short, a third a well-formed header naming a
    /// 571/tcp flow that never existed (so the engine looks it up and finds nothing).
    @Test func icmpErrorsQuotingGarbage() throws {
        var rng = SplitMix64(seed: 571)
        var pcap = PcapBuilder(capacity: 20_000 * 80)
        for i in 0..<20_000 {
            var quote: [UInt8]
            switch i % 3 {
            case 0:
                quote = (0..<28).map { _ in UInt8.random(in: 0...255, using: &rng) }
                quote[0] = UInt8.random(in: 0...255, using: &rng) & 0x0F | [0x00, 0x50, 0x60, 0xF0].randomElement(using: &rng)!
            case 1:
                quote = [0x45] + (0..<UInt8.random(in: 0...18, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            default:
                let tcp = Frame.tcp(sport: UInt16.random(in: 1...65535, using: &rng), dport: 571, flags: 0x02)
                quote = Array(Frame.ipv4(src: 0xC0A8_0414, dst: UInt32.random(in: 0...UInt32.max, using: &rng), proto: 6, tcp).prefix(28))
            }
            let icmp: [UInt8] = [3, 3, 0, 0, 0, 0, 0, 0] + quote
            let ip = Frame.ipv4(src: 0xC0A8_0414, dst: 0x2F00_0000 | UInt32(i), proto: 1, icmp)
            pcap.append(Frame.ethernet(etherType: 0x0800, ip), microsecond: i * 10)
        }
        let run = try HostileRun(name: "icmp-garbage", pcap)
        #expect(run.stats.packets == 20_000)
        #expect(run.stats.events["decoder.icmpv4.ipv4_unknown_ver"] == 6_667)
        #expect(run.stats.events["decoder.icmpv4.ipv4_trunc_pkt"] == 6_667)
        #expect(run.stats.flow["created"] == 0, "an ICMP error refuses a flow; it never starts one")
        #expect(run.eventTypes == ["stats": 1])
    }
}

/// One `ghostport read` of a hostile capture, its output checked line by line.
struct HostileRun {
    struct Stats {
        var packets = 0
        var events: [String: Int] = [:]
        var flow: [String: Int] = [:]
        var detect: [String: Int] = [:]
        var alertsBySid: [String: Int] = [:]
        var verdicts: [String: Int] = [:]
    }

    /// An alert record: its packet's number, source address and sid.
    struct Alert: Equatable {
        var packet: Int
        var source: String
        var sid: Int
    }

    var stats = Stats()
    var eventTypes: [String: Int] = [:]
    /// The alert records, in output order.
    var alerts: [Alert] = []
    /// What ghostport wrote to standard error.
    var stderr = ""
    /// Flow records by `flow.reason` (forced = evicted, timeout, shutdown).
    var flowReasons: [String: Int] = [:]

    /// `arguments` go before the capture, after the ones every hostile run has.
    init(name: String, _ pcap: PcapBuilder, arguments: [String] = [],
         sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ghostport = try #require(Checkout.ghostport, sourceLocation: sourceLocation)
        let scratch = try ScratchDirectory()
        let capture = try scratch.write(name + ".pcap", pcap.bytes)
        let child = try Child.run(ghostport, ["read", "--flow-memory", "1", "--quiet", "--no-progress",
                                              "--rules", Checkout.root + "/rules"] + arguments + [capture],
                                  outputIn: scratch, name: name)
        let stderr = (try? String(contentsOfFile: child.stderrPath, encoding: .utf8)) ?? ""
        self.stderr = stderr
        #expect(child.status == 0, "\(name): exit \(child.status), stderr: \(stderr.prefix(500))", sourceLocation: sourceLocation)
        if Checkout.ghostportUnderASan {
            print("\(name): peak RSS not checked: the ghostport binary is built with AddressSanitizer "
                  + "(set GHOSTPORT_BINARY to a release build to check it)")
        } else {
            #expect(child.peakRSSKiB > 0 && child.peakRSSKiB < HostileReadTests.rssLimitKiB,
                    "\(name): peak RSS \(child.peakRSSKiB / 1024) MiB", sourceLocation: sourceLocation)
        }
        print("\(name): \(pcap.count) frames, peak RSS \(child.peakRSSKiB / 1024) MiB, exit \(child.status)")

        let output = try Data(contentsOf: URL(fileURLWithPath: child.stdoutPath), options: .alwaysMapped)
        var last: [String: Any]?
        var bad: [String] = []
        var lines = 0
        output.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var start = 0
            while start < raw.count {
                var end = start
                while end < raw.count && raw[end] != 0x0A { end += 1 }
                lines += 1
                let line = Data(raw[start..<end])
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] {
                    let type = object["event_type"] as? String ?? "?"
                    eventTypes[type, default: 0] += 1
                    if type == "alert" {
                        alerts.append(Alert(packet: (object["pcap_cnt"] as? NSNumber)?.intValue ?? -1,
                                            source: object["src_ip"] as? String ?? "?",
                                            sid: ((object["alert"] as? [String: Any])?["signature_id"] as? NSNumber)?.intValue ?? -1))
                    }
                    if type == "flow", let reason = (object["flow"] as? [String: Any])?["reason"] as? String {
                        flowReasons[reason, default: 0] += 1
                    }
                    last = object
                } else if bad.count < 3 {
                    bad.append(String(decoding: line.prefix(200), as: UTF8.self))
                }
                start = end + 1
            }
            if raw.last != 0x0A && raw.count > 0 { bad.append("output does not end with a newline") }
        }
        #expect(bad.isEmpty, "\(name): lines that are not JSON objects: \(bad)", sourceLocation: sourceLocation)
        guard let record = last, record["event_type"] as? String == "stats",
              let body = record["stats"] as? [String: Any] else {
            Issue.record("\(name): the last of \(lines) lines is not a stats record", sourceLocation: sourceLocation)
            return
        }
        func counters(_ object: Any?) -> [String: Int] {
            ((object as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.intValue }
        }
        // Suricata's counters in `stats`, ghostport's own in `ghostport.stats`, read as one set.
        let own = (record["ghostport"] as? [String: Any])?["stats"] as? [String: Any]
        let decoder = body["decoder"] as? [String: Any]
        stats.packets = (decoder?["pkts"] as? NSNumber)?.intValue ?? -1
        // Suricata's events nest by layer (event.ipv4.trunc_pkt); named back decoder.ipv4.trunc_pkt here.
        for (layer, events) in (decoder?["event"] as? [String: Any]) ?? [:] {
            for (event, count) in counters(events) { stats.events["decoder.\(layer).\(event)"] = count }
        }
        stats.events.merge(counters((own?["decoder"] as? [String: Any])?["event"])) { $1 }
        stats.flow = counters(body["flow"]).merging(counters(own?["flow"])) { $1 }
        let detect = own?["detect"] as? [String: Any]
        stats.detect = counters(body["detect"]).merging(counters(detect)) { $1 }
        stats.alertsBySid = counters(detect?["alerts_by_sid"])
        stats.verdicts = counters(detect?["verdicts"])
        print("\(name): \(lines) lines \(eventTypes), reasons \(flowReasons), flow \(stats.flow), events \(stats.events)")
    }
}
