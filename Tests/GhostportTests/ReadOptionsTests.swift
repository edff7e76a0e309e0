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
        // The same flows again from standard input: no new alert, every flow record once.
        #expect(long.stdout.contains("\"pcap_filename\":\"\(Self.demo)\""))
        #expect(long.lines.filter { $0.contains("\"event_type\":\"flow\"") }.count
                == plain.lines.filter { $0.contains("\"event_type\":\"flow\"") }.count)
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

    @Test("--version names the release, libpcap and the compiler")
    func version() throws {
        let result = try Tool.ghostport(["--version"])
        #expect(result.status == 0)
        let line = try #require(result.lines.first)
        #expect(line.hasPrefix("ghostport 0.") && line.contains("libpcap version 1.") && line.contains("built by Swift 6"), "\(line)")
    }
}
