import Foundation
import TestSupport
import Testing

/// The sensor-wide alert limit under a flood: `ghostport read` of a capture in which spoofed
/// sources hit every watched port, once without a limit and once with one. The limited run must
/// write exactly what the limit's rules admit of the unlimited run's alerts, count the rest as
/// shed by reason, keep every flow record and verdict, and stay within the memory bound.
@Suite(.serialized, Prerequisite.trait(Checkout.ghostport == nil
                                        ? "no ghostport binary beside the tests or in .build/debug: run swift build first" : nil))
struct AlertFloodTests {
    static let window = 60
    static let microsecondsPerPacket = 4_000

    /// The probe ports of the shipped rules, by protocol.
    static func watchedPorts(_ proto: String) throws -> [UInt16] {
        let text = try String(contentsOfFile: Checkout.root + "/rules/abandoned-ports.rules", encoding: .utf8)
        let prefix = "alert \(proto) any any -> any "
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(prefix) else { return nil }
            return UInt16(line.dropFirst(prefix.count).prefix { $0 != " " })
        }
    }

    /// The limit's rules applied to the alerts of an unlimited run, in their order: a window per
    /// source and per sid opens with the first alert counted against it and lasts `window`
    /// seconds; the source's limit is checked first; a shed alert counts against nothing else.
    static func admitted(_ alerts: [HostileRun.Alert], perSource: Int, perSid: Int)
        -> (written: [HostileRun.Alert], bySource: Int, bySid: Int) {
        struct Window { var start: Int; var count: Int }
        let length = window * 1_000_000
        func current(_ window: Window?, _ time: Int) -> Window {
            guard let window, time - window.start < length else { return Window(start: time, count: 0) }
            return window
        }
        var sources: [String: Window] = [:], sids: [Int: Window] = [:]
        var written: [HostileRun.Alert] = [], bySource = 0, bySid = 0
        for alert in alerts {
            let time = (alert.packet - 1) * microsecondsPerPacket
            var source = current(sources[alert.source], time)
            if source.count >= perSource {
                sources[alert.source] = source
                bySource += 1
                continue
            }
            var sid = current(sids[alert.sid], time)
            if sid.count >= perSid {
                sids[alert.sid] = sid
                bySid += 1
                continue
            }
            source.count += 1
            sid.count += 1
            sources[alert.source] = source
            sids[alert.sid] = sid
            written.append(alert)
        }
        return (written, bySource, bySid)
    }

    /// 40 noisy sources each probe every watched TCP and UDP port (scanners), and 20,000 spoofed
    /// sources each send one SYN to one of 50 ports, shuffled over three minutes of packet time.
    @Test func spoofedSourcesOnEveryWatchedPort() throws {
        let tcp = try Self.watchedPorts("tcp"), udp = try Self.watchedPorts("udp")
        #expect(tcp.count > 300 && udp.count > 100, "the shipped rules' probe ports: \(tcp.count) tcp, \(udp.count) udp")
        var probes: [(source: UInt32, udp: Bool, port: UInt16)] = []
        for noisy in 0..<40 as Range<UInt32> {
            for port in tcp { probes.append((0x2D00_0000 | noisy, false, port)) }
            for port in udp { probes.append((0x2D00_0000 | noisy, true, port)) }
        }
        for spoofed in 0..<20_000 as Range<UInt32> { probes.append((0x2E00_0000 | spoofed, false, tcp[Int(spoofed) % 50])) }
        var rng = SplitMix64(seed: 7)
        probes.shuffle(using: &rng)
        var pcap = PcapBuilder(capacity: probes.count * 70)
        for (i, probe) in probes.enumerated() {
            let sport = UInt16(1024 + i % 60_000)
            let ip = probe.udp
                ? Frame.ipv4(src: probe.source, dst: 0xC0A8_0414, proto: 17, Frame.udp(sport: sport, dport: probe.port))
                : Frame.ipv4(src: probe.source, dst: 0xC0A8_0414, proto: 6, Frame.tcp(sport: sport, dport: probe.port, flags: 0x02))
            pcap.append(Frame.ethernet(etherType: 0x0800, ip), microsecond: i * Self.microsecondsPerPacket)
        }

        let unlimited = try HostileRun(name: "flood-unlimited", pcap)
        let (perSource, perSid) = (25, 40)
        let limited = try HostileRun(name: "flood-limited", pcap, arguments: [
            "--alert-limit-per-source", "\(perSource)", "--alert-limit-per-sid", "\(perSid)",
            "--alert-limit-window", "\(Self.window)",
            // The limiter alone: no flow is folded into flood aggregates (FloodTests cover those).
            "--flood-per-port", "0", "--flood-sensor-wide", "0",
        ])

        #expect(unlimited.alerts.count == unlimited.stats.detect["alert"])
        #expect(unlimited.stats.detect["alerts_shed_source"] == 0 && unlimited.stats.detect["alerts_shed_sid"] == 0)
        #expect(unlimited.alerts.count > probes.count, "a probe alert per packet, and the noisy sources' scans")

        let expected = Self.admitted(unlimited.alerts, perSource: perSource, perSid: perSid)
        #expect(expected.bySource > 0 && expected.bySid > 0, "the flood reaches both limits")
        #expect(limited.alerts == expected.written, "the limited run writes exactly what the limits admit")
        #expect(limited.stats.detect["alert"] == expected.written.count)
        #expect(limited.stats.detect["alerts_shed_source"] == expected.bySource)
        #expect(limited.stats.detect["alerts_shed_sid"] == expected.bySid)
        let shed = (limited.stats.detect["alerts_shed_source"] ?? -1) + (limited.stats.detect["alerts_shed_sid"] ?? -1)
        #expect(shed == unlimited.alerts.count - limited.alerts.count, "shed = matches - alerts written, exactly")
        #expect(limited.stats.detect["alert_sources_evicted"] == 0, "20,040 sources fit the 65,536-source table")

        // Within a window no source and no sid goes past its limit; nothing about flows changes.
        let writtenBySource = Dictionary(grouping: limited.alerts, by: \.source).mapValues(\.count)
        let windows = (probes.count * Self.microsecondsPerPacket / 1_000_000) / Self.window + 1
        #expect(writtenBySource.values.allSatisfy { $0 <= perSource * windows })
        #expect(limited.eventTypes["flow"] == unlimited.eventTypes["flow"])
        #expect(limited.stats.verdicts == unlimited.stats.verdicts)
        #expect(limited.stats.flow == unlimited.stats.flow)

        // One line when shedding begins and one summary a window later, not a line per alert.
        let notices = limited.stderr.split(separator: "\n").filter { $0.contains("alert limit") }
        print(notices.joined(separator: "\n"))
        #expect(notices.count >= 2 && notices.count <= 2 * windows + 1, "\(notices.count) lines: \(notices.prefix(4))")
    }

    /// 150,000 spoofed sources, one SYN each to 571/tcp within 15 s, one alert allowed per source
    /// and 100,000 per sid: the first 100,000 alerts are written and put their source in the
    /// limiter's table, which holds 65,536. Every source in it is at its limit (none can be let go
    /// for free), so the full table is cleared once and that is counted; the rest are shed by sid.
    @Test func moreSourcesThanTheTableHolds() throws {
        var pcap = PcapBuilder(capacity: 150_000 * 70)
        for i in 0..<150_000 {
            let syn = Frame.tcp(sport: UInt16(1024 + i % 60_000), dport: 571, flags: 0x02)
            pcap.append(Frame.ethernet(etherType: 0x0800, Frame.ipv4(src: 0x2F00_0000 | UInt32(i), dst: 0xC0A8_0414, proto: 6, syn)),
                        microsecond: i * 100)
        }
        let run = try HostileRun(name: "flood-sources", pcap, arguments: [
            "--alert-limit-per-source", "1", "--alert-limit-per-sid", "100000", "--flood-per-port", "0", "--flood-sensor-wide", "0",
        ])
        #expect(run.stats.alertsBySid["9005710"] == 100_000)
        #expect(run.eventTypes["alert"] == 100_000)
        #expect(run.stats.detect["alerts_shed_sid"] == 50_000)
        #expect(run.stats.detect["alerts_shed_source"] == 0, "no source sent twice")
        #expect(run.stats.detect["alert_sources_evicted"] == 65_536, "\(run.stats.detect)")
        #expect(run.eventTypes["flow"] == 150_000, "every flow still ends with its record")
        #expect(run.stats.verdicts["unanswered"] == 150_000)
    }
}
