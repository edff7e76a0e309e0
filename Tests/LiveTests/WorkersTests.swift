import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

private let scapyUnmet = Prerequisite.pythonModule("scapy", install: "apt-get install -y python3-scapy")

/// `ghostport run --workers 2`: two capture sockets in one PACKET_FANOUT group, an engine each.
/// The truth comes from outside: TrafficGen's plan, and flows scapy builds in both directions.
@Suite("ghostport run --workers, live", .serialized)
struct WorkersTests {
    /// Both directions of every flow reach one worker: for each encapsulation, flows of a SYN
    /// and its SYN-ACK (scapy), each of which is `answered` only if one engine saw both (split,
    /// it would be an unanswered flow and a backscatter one), and datagrams a router answers
    /// with ICMP port unreachable (`rejected` only if the error reached the flow's worker). The
    /// kernel's own hash (PACKET_FANOUT_HASH) fails two of these: VXLAN whose two ends pick
    /// their own outer source ports, and the ICMP errors. Then a reload adds a rule, which both
    /// workers apply, under the sensor's one alert limit per sid; and the EVE file, renamed, is
    /// reopened on SIGHUP by the one output.
    @Test(Live.requires("tcpreplay"), Prerequisite.trait(scapyUnmet),
          Prerequisite.trait(Prerequisite.pythonModule("jsonschema", install: "apt-get install -y python3-jsonschema")))
    func bothDirectionsInOneWorker() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let work = try TempDirectory()
        let extra = work.file("extra.rules")
        try "".write(toFile: extra, atomically: true, encoding: .utf8)
        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--workers", "2", "--kernel-filter", "off", "--rules", Live.repository + "/rules",
                                                          "--rules", extra, "--alert-limit-per-sid", "25"])
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        #expect(sensor.stderr.contains("2 workers (PACKET_FANOUT group"), "\(sensor.stderr)")

        // 40 flows of each kind to 571, every flow from its own client: a SYN and its SYN-ACK
        // (plain, VLAN-tagged, in tunnels: VXLAN with each end's own outer source port), or a
        // datagram and the ICMP port unreachable a router sends back about it.
        let kinds = ["ipv4", "ipv6", "vlan", "qinq", "gre", "ipip", "ip6ip6", "vxlan", "icmp"]
        let flows = 40
        let pcap = work.file("both.pcap")
        let built = try Child.run([Prerequisite.python, "-c", Self.builder, pcap, String(flows), "571"] + kinds, timeout: 120)
        #expect(built.status == 0, "scapy: \(built.stderr)")
        let replay = try pair.run(["tcpreplay", "-i", pair.peerEnd, "--pps", "2000", pcap], timeout: 300)
        #expect(replay.status == 0, "tcpreplay: \(replay.stderr)")

        // A reload that adds a rule for 4444/tcp, then 40 SYNs to it: each alerts whichever worker has it.
        try #"alert tcp any any -> any 4444 (msg:"added by the reload"; flow:to_server; sid:4444; rev:1;)"#
            .write(toFile: extra, atomically: true, encoding: .utf8)
        // Rotation at the same time: the file renamed, SIGHUP reopens the path.
        #expect(rename(sensor.eve, sensor.eve + ".1") == 0)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("rules reloaded", timeout: 120), "\(sensor.stderr)")
        #expect(sensor.stderr.contains("for 2 workers"))
        let added = work.file("added.pcap")
        let addedBuilt = try Child.run([Prerequisite.python, "-c", Self.builder, added, String(flows), "4444", "ipv4-syn"], timeout: 120)
        #expect(addedBuilt.status == 0, "scapy: \(addedBuilt.stderr)")
        #expect(try pair.run(["tcpreplay", "-i", pair.peerEnd, "--pps", "2000", added], timeout: 300).status == 0)
        try sensor.stopAfterMarker(from: pair)

        let before = EVEFile(path: sensor.eve + ".1"), after = EVEFile(path: sensor.eve)
        #expect(before.broken.isEmpty && after.broken.isEmpty, "lines that are not whole: \(before.broken.prefix(2)) \(after.broken.prefix(2))")
        let records = before.records + after.records
        for kind in kinds {
            let mine = records.filter { $0.eventType == "flow" && ($0["src_ip"] as? String ?? "").hasPrefix(Self.clientPrefix(kind)) }
            let verdicts = mine.map { (($0["ghostport"] as? [String: Any])?["verdict"] as? String) ?? "none" }
            let expected = kind == "icmp" ? "rejected" : "answered"
            #expect(mine.count == flows && verdicts.allSatisfy { $0 == expected },
                    "\(kind): \(mine.count) flow records, verdicts \(Dictionary(grouping: verdicts, by: { $0 }).mapValues(\.count))")
        }
        // The alert limit is the sensor's: 25 of the 40 alerts, though each worker alone had fewer.
        let addedAlerts = after.records.filter { $0.eventType == "alert" && $0.destPort == 4444 }
        #expect(addedAlerts.count == 25, "the reloaded rule alerted \(addedAlerts.count) times of \(flows) (limit 25 per sid)")
        // One output, and both workers had their share.
        let stats = try #require(after.records.last)
        #expect(stats.eventType == "stats")
        let workers = ((stats["ghostport"] as? [String: Any])?["stats"] as? [String: Any])?["workers"] as? [[String: Any]] ?? []
        let packets = workers.map { $0["packets"] as? Int ?? 0 }
        #expect(workers.count == 2 && packets.allSatisfy { $0 > 50 }, "each worker's packets: \(packets)")
        #expect(packets.reduce(0, +) == (stats["stats"] as? [String: Any]).flatMap { ($0["decoder"] as? [String: Any])?["pkts"] as? Int })
        #expect(stats.capture("kernel_drops") == 0 && stats.capture("ring_drops") == 0)
        // Every record, the stats record with its workers too, as the schema says.
        let schema = try Child.run([Prerequisite.python, Live.repository + "/Tests/schema/validate.py", "--require", "alert,flow,stats",
                                    sensor.eve + ".1", sensor.eve], timeout: 120)
        #expect(schema.status == 0, "\(schema.stdout.suffix(1500)) \(schema.stderr)")
    }

    /// A TrafficGen scenario replayed to `--workers 2`: every watched flow ends with the truth's
    /// verdict and the scanners are found, each scan once with all its ports and hosts though its
    /// probes went to both workers; nothing dropped.
    @Test(Live.requires("tcpreplay"))
    func replayMatchesTheTruth() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let work = try TempDirectory()
        let (capture, truth) = try Live.scenario("workers", seed: 7, packets: 20_000, in: work)
        let (sensor, _) = try pair.replay(capture, into: ["--allow-root", "--workers", "2"])
        let lines = (try? String(contentsOfFile: sensor.eve, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        let differences = TruthCheck.differences(truth, eve: lines, ignoring: [pair.peerAddress])
        #expect(differences.isEmpty, "differences from the truth:\n\(differences.prefix(20).joined(separator: "\n"))")
        let eve = EVEFile(path: sensor.eve)
        #expect(eve.broken.isEmpty)
        let scans = eve.alerts(sid: 8_999_001)
        #expect(scans.count == truth.scanners.count, "\(scans.count) scan alerts for \(truth.scanners.count) scanners")
        let stats = eve.records.last ?? [:]
        let workers = ((stats["ghostport"] as? [String: Any])?["stats"] as? [String: Any])?["workers"] as? [[String: Any]] ?? []
        #expect(workers.count == 2 && workers.allSatisfy { ($0["packets"] as? Int ?? 0) > 100 }, "\(workers)")
        #expect(stats.capture("kernel_drops") == 0 && stats.capture("ring_drops") == 0)
        #expect(sensor.stderr.contains("stopped: ") && sensor.stderr.contains("(2 workers: "), "\(sensor.stderr)")
    }

    static func clientPrefix(_ kind: String) -> String {
        switch kind {
        case "ipv6": "2001:db8:6::"
        case "vlan": "10.61.2."
        case "qinq": "10.61.3."
        case "gre": "10.61.4."
        case "ipip": "10.61.5."
        case "ip6ip6": "2001:db8:66::"
        case "vxlan": "10.61.7."
        case "icmp": "10.61.6."
        default: "10.61.1."
        }
    }

    /// scapy: `OUT COUNT PORT KIND...` writes COUNT flows of each KIND to PORT/tcp, each a SYN
    /// from its own client and the server's SYN-ACK (`ipv4-syn`: the SYN alone).
    static let builder = #"""
        import sys
        from scapy.all import Ether, Dot1Q, IP, IPv6, GRE, TCP, UDP, ICMP, wrpcap
        from scapy.layers.vxlan import VXLAN
        out, count, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        mac = dict(src="02:00:00:00:61:01", dst="02:00:00:00:61:02")
        packets = []
        for kind in sys.argv[4:]:
            for i in range(count):
                sport = 20000 + i
                if kind in ("ipv6", "ip6ip6"):
                    prefix = "2001:db8:6::" if kind == "ipv6" else "2001:db8:66::"
                    c, s = IPv6(src=prefix + hex(i + 1)[2:], dst="2001:db8:99::1"), IPv6(src="2001:db8:99::1", dst=prefix + hex(i + 1)[2:])
                else:
                    third = {"ipv4": 1, "ipv4-syn": 8, "vlan": 2, "qinq": 3, "gre": 4, "ipip": 5, "icmp": 6, "vxlan": 7}[kind]
                    c, s = IP(src="10.61.%d.%d" % (third, i + 1), dst="192.0.2.61"), IP(src="192.0.2.61", dst="10.61.%d.%d" % (third, i + 1))
                syn = c / TCP(sport=sport, dport=port, flags="S", seq=1000)
                synack = s / TCP(sport=port, dport=sport, flags="SA", seq=5000, ack=1001)
                if kind == "icmp":
                    syn = c / UDP(sport=sport, dport=port) / b"probe"
                    synack = IP(src="192.0.2.254", dst=c.src) / ICMP(type=3, code=3) / bytes(syn)[:28]
                for p, forward in ((syn, True), (synack, False)):
                    if kind == "ipv4-syn" and not forward:
                        continue
                    if kind == "vlan":
                        frame = Ether(**mac) / Dot1Q(vlan=61) / p
                    elif kind == "qinq":
                        frame = Ether(**mac) / Dot1Q(vlan=100) / Dot1Q(vlan=61) / p
                    elif kind == "gre":
                        a, b = ("198.51.100.1", "198.51.100.2") if forward else ("198.51.100.2", "198.51.100.1")
                        frame = Ether(**mac) / IP(src=a, dst=b) / GRE() / p
                    elif kind == "ipip":
                        a, b = ("198.51.100.1", "198.51.100.2") if forward else ("198.51.100.2", "198.51.100.1")
                        frame = Ether(**mac) / IP(src=a, dst=b, proto=4) / p
                    elif kind == "vxlan":
                        a, b = ("198.51.100.1", "198.51.100.2") if forward else ("198.51.100.2", "198.51.100.1")
                        outer = 40000 + i if forward else 50000 + i
                        frame = Ether(**mac) / IP(src=a, dst=b) / UDP(sport=outer, dport=4789) / VXLAN(vni=61) / Ether(**mac) / p
                    elif kind == "ip6ip6":
                        a, b = ("2001:db8:77::1", "2001:db8:77::2") if forward else ("2001:db8:77::2", "2001:db8:77::1")
                        frame = Ether(**mac) / IPv6(src=a, dst=b, nh=41) / p
                    else:
                        frame = Ether(**mac) / p
                    packets.append(frame)
        wrpcap(out, packets)
        """#
}
