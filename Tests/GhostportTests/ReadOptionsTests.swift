import Foundation
import Testing
import TestSupport

/// `read`'s command line as tcpdump's and Suricata's users type it.
@Suite("read: the command line")
struct ReadOptionsTests {
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/demo.pcap").path

    @Test("-r FILE and -o - are the positional file and standard output")
    func readAndOutput() throws {
        let plain = try Tool.ghostport(["read", "--quiet", Self.demo])
        #expect(plain.status == 0 && plain.lines.count > 10)
        let dashR = try Tool.ghostport(["read", "--quiet", "-r", Self.demo, "-o", "-"])
        #expect(dashR.status == 0, "\(dashR.stderr)")
        #expect(dashR.stdout == plain.stdout)
        // --read is -r; with a positional file too, -r's come first.
        let long = try Tool.ghostport(["read", "--quiet", "--read", Self.demo, "-"], stdinPath: Self.demo)
        #expect(long.status == 0 && long.stderr.isEmpty, "\(long.stderr)")
        // The same capture again from standard input overlaps it in time: an independent capture
        // (read --jobs), whose records follow the file's, which are those of the plain read.
        #expect(Array(long.lines.prefix(plain.lines.count - 1)) == Array(plain.lines.dropLast()))
        #expect(long.lines.filter { $0.contains("\"event_type\":\"flow\"") }.count
                == 2 * plain.lines.filter { $0.contains("\"event_type\":\"flow\"") }.count)
        let none = try Tool.ghostport(["read", "--quiet"])
        #expect(none.status == 2 && none.stderr.contains("name at least one capture file"))
    }

    @Test("drop and reject rules from an IPS rule set alert, noted once at load")
    func ipsRulesAlert() throws {
        let dir = try TempDirectory()
        let rules = dir.file("ips.rules")
        try """
            drop udp any any -> any 571 (msg:"dropped in IPS mode"; sid:7; rev:1;)
            reject tcp any any -> any 571 (msg:"rejected in IPS mode"; flags:S; sid:8; rev:1;)
            alert udp any any -> any 572 (msg:"plain"; sid:9; rev:1;)

            """.write(toFile: rules, atomically: false, encoding: .utf8)
        let capture = try dir.write("probes.pcap", CaptureFile(frames: [Packet.ethernet(Sample.udp4), Packet.ethernet(Sample.probe)]))
        let result = try Tool.ghostport(["read", "--quiet", "--rules", rules, capture])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.errorLines == ["ghostport: 2 rules (1 drop, 1 reject) load as alerts: this passive sensor drops and rejects nothing"])
        let alerts = result.lines.filter { $0.contains("\"event_type\":\"alert\"") }
        #expect(alerts.count == 2)
        #expect(alerts.contains { $0.contains("\"signature_id\":7,") && $0.contains("\"action\":\"allowed\"") })
        #expect(alerts.contains { $0.contains("\"signature_id\":8,") && $0.contains("\"action\":\"allowed\"") })
        let check = try Tool.ghostport(["rules", "check", rules])
        #expect(check.status == 0 && check.stdout.contains("by action: alert 1, drop 1, reject 1"), "\(check.stdout)")
    }

    @Test("--threshold-file: suppress by source, limit a rule, report bad lines")
    func thresholdFile() throws {
        let dir = try TempDirectory()
        let rules = dir.file("local.rules")
        try """
            alert tcp any any -> any 571 (msg:"probe"; flags:S; sid:20; rev:1;)
            alert udp any any -> any 571 (msg:"udp"; sid:21; rev:1;)

            """.write(toFile: rules, atomically: false, encoding: .utf8)
        // Three SYN probes from 45.77.1.9 and .10, three UDP flows.
        func syn(_ src: String, _ sport: UInt16) -> [UInt8] {
            Packet.ethernet(Network.ipv4(src: src, dst: "192.168.4.20", .tcp(sport: sport, dport: 571, flags: .syn)))
        }
        func udp(_ sport: UInt16) -> [UInt8] {
            Packet.ethernet(Network.ipv4(src: "10.1.2.3", dst: "10.9.8.7", .udp(sport: sport, dport: 571)))
        }
        let capture = try dir.write("probes.pcap", CaptureFile(frames: [
            syn("45.77.1.9", 40001), syn("45.77.1.10", 40002), syn("45.77.1.9", 40003), udp(5001), udp(5002), udp(5003),
        ]))
        let thresholds = dir.file("threshold.config")
        try """
            suppress gen_id 1, sig_id 20, track by_src, ip [45.77.1.0/24, !45.77.1.10]
            threshold gen_id 1, sig_id 21, type limit, track by_rule, count 2, seconds 60
            suppress gen_id 1, sig_id 20, track by_source, ip 1.2.3.4

            """.write(toFile: thresholds, atomically: false, encoding: .utf8)
        let result = try Tool.ghostport(["read", "--quiet", "--rules", rules, "--threshold-file", thresholds, capture])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.errorLines == ["ghostport: \(thresholds):3: invalid track 'by_source': expected by_src, by_dst or by_either"])
        let alerts = result.lines.filter { $0.contains("\"event_type\":\"alert\"") }
        #expect(alerts.filter { $0.contains("\"signature_id\":20,") }.count == 1, "only 45.77.1.10's probe: \(alerts)")
        #expect(alerts.contains { $0.contains("\"signature_id\":20,") && $0.contains("\"src_ip\":\"45.77.1.10\"") })
        #expect(alerts.filter { $0.contains("\"signature_id\":21,") }.count == 2, "limit 2")
        let stats = try #require(result.lines.last { $0.contains("\"event_type\":\"stats\"") })
        #expect(stats.contains("\"alerts_suppressed\":3"), "2 suppressed probes and 1 limited UDP alert: \(stats)")
        // --strict refuses a threshold file with an error, as it does a rules file.
        let strict = try Tool.ghostport(["read", "--quiet", "--strict", "--rules", rules, "--threshold-file", thresholds, capture])
        #expect(strict.status == 2)
    }

    @Test("--bpf EXPR reads only what tcpdump -r FILE EXPR shows", Prerequisite.trait(Prerequisite.tools("tcpdump")))
    func bpf() throws {
        try Prerequisite.require(Prerequisite.tools("tcpdump"))
        for expression in ["udp", "tcp port 571", "ip6", "vlan"] {
            let tcpdump = try Tool.run(Prerequisite.which("tcpdump")!, ["-n", "-r", Self.demo, expression])
            #expect(tcpdump.status == 0, "\(tcpdump.stderr)")
            let read = try Tool.ghostport(["read", "--quiet", "--bpf", expression, Self.demo])
            #expect(read.status == 0, "\(read.stderr)")
            let stats = try #require(read.lines.last { $0.contains("\"event_type\":\"stats\"") })
            #expect(stats.contains("\"decoder\":{\"pkts\":\(tcpdump.lines.count),"), "\(expression): \(tcpdump.lines.count) packets by tcpdump; \(stats)")
        }
        let bad = try Tool.ghostport(["read", "--quiet", "--bpf", "tcp port", Self.demo])
        #expect(bad.status == 2 && bad.stdout.isEmpty)
        #expect(bad.errorLines == ["ghostport: bad filter 'tcp port': can't parse filter expression: syntax error"])
    }

    @Test("--config reuses a sensor's rules, variables, threshold file and capture filter")
    func config() throws {
        let dir = try TempDirectory()
        let rules = dir.file("local.rules")
        try """
            alert udp $HOME_NET any -> any 571 (msg:"from home"; sid:30; rev:1;)
            alert tcp any any -> any 571 (msg:"tcp"; sid:31; rev:1;)

            """.write(toFile: rules, atomically: false, encoding: .utf8)
        try "suppress gen_id 1, sig_id 30, track by_src, ip 10.1.2.4\n".write(toFile: dir.file("threshold.config"), atomically: false, encoding: .utf8)
        let config = dir.file("sensor.yaml")
        try """
            rules:
              paths: [\(rules)]
              vars:
                HOME_NET: "[10.1.2.0/24]"
            capture:
              bpf: "udp"
            detect:
              threshold_file: \(dir.file("threshold.config"))
            alerts:
              per_source: 1

            """.write(toFile: config, atomically: false, encoding: .utf8)
        func udp(_ src: String, _ sport: UInt16 = 5353) -> [UInt8] {
            Packet.ethernet(Network.ipv4(src: src, dst: "192.168.4.20", .udp(sport: sport, dport: 571)))
        }
        let capture = try dir.write("c.pcap", CaptureFile(frames: [udp("10.1.2.3"), udp("10.1.2.3", 5354), udp("10.1.2.4"),
                                                                 udp("10.1.2.5"), udp("10.9.9.9"), Packet.ethernet(Sample.probe)]))
        let result = try Tool.ghostport(["read", "--quiet", "--config", config, capture])
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = result.lines.filter { $0.contains("\"event_type\":\"alert\"") }
        // HOME_NET from the config (not 10.9.9.9); 10.1.2.4 suppressed by its threshold file; the
        // TCP probe filtered out by its bpf; its per-source limit of 1 not applied (two from 10.1.2.3).
        #expect(alerts.count == 3 && alerts.allSatisfy { $0.contains("\"signature_id\":30,") }, "\(alerts)")
        #expect(alerts.contains { $0.contains("\"src_ip\":\"10.1.2.3\"") } && alerts.contains { $0.contains("\"src_ip\":\"10.1.2.5\"") })
        // The command line wins: --bpf replaces the config's filter.
        let tcp = try Tool.ghostport(["read", "--quiet", "--config", config, "--bpf", "tcp", capture])
        #expect(tcp.lines.filter { $0.contains("\"event_type\":\"alert\"") }.map { $0.contains("\"signature_id\":31,") } == [true])
        let broken = dir.file("broken.yaml")
        try "capture:\n  snaplen: 20\n".write(toFile: broken, atomically: false, encoding: .utf8)
        let bad = try Tool.ghostport(["read", "--quiet", "--config", broken, capture])
        #expect(bad.status == 2 && bad.errorLines.count == 1 && bad.stderr.hasPrefix("ghostport: \(broken):2: capture.snaplen:"), "\(bad.stderr)")
    }

    @Test("--version names the release, libpcap and the compiler")
    func version() throws {
        let result = try Tool.ghostport(["--version"])
        #expect(result.status == 0)
        let line = try #require(result.lines.first)
        #expect(line.hasPrefix("ghostport 0.") && line.contains("libpcap version 1.") && line.contains("built by Swift 6"), "\(line)")
    }
}
