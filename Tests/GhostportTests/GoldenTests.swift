import Foundation
import Testing
import TestSupport
import Wire

/// Golden cases: `Tests/Golden/<case>/` holds `test.rules`, `expected.jsonl`, a README and
/// optionally `args` (extra `read` arguments, one per line). The capture is built here, one
/// function per case, written to a temporary directory as `input.pcap`, and `ghostport read`
/// runs there with TZ=UTC; its output must equal `expected.jsonl` line for line.
/// `UPDATE_GOLDEN=1 swift test --filter Golden` rewrites the expectations.
@Suite struct GoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Golden").path

    /// The case folders, sorted.
    static var folders: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted()
    }

    @Test func everyFolderHasACaptureAndEveryCaptureAFolder() {
        #expect(Set(Self.folders) == Set(GoldenCaptures.all.keys))
        #expect(Self.folders.count >= 6)
        for name in Self.folders {
            for file in ["test.rules", "README.md"] {
                #expect(FileManager.default.fileExists(atPath: "\(Self.directory)/\(name)/\(file)"), "\(name) lacks \(file)")
            }
        }
    }

    @Test(arguments: GoldenTests.folders)
    func golden(_ name: String) throws {
        let build = try #require(GoldenCaptures.all[name], "no capture builder for \(name)")
        let folder = Self.directory + "/" + name
        let output = try GoldenRun.read(capture: build(), rules: folder + "/test.rules",
                                        extraArguments: GoldenRun.arguments(in: folder))
        #expect(output.status == 0, "ghostport read exited \(output.status): \(output.stderr)")
        let expectedPath = folder + "/expected.jsonl"
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try output.eve.write(toFile: expectedPath, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOfFile: expectedPath, encoding: .utf8)
        let want = expected.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let got = output.eve.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for index in 0..<max(want.count, got.count) {
            let a = index < want.count ? want[index] : "<missing>"
            let b = index < got.count ? got[index] : "<missing>"
            #expect(a == b, "\(name)/expected.jsonl line \(index + 1) differs")
        }
    }
}

/// Runs `ghostport read` on a capture in a fresh working directory.
enum GoldenRun {
    struct Output {
        var status: Int32
        var eve: String
        var stderr: String
    }

    /// Extra arguments from the case's `args` file, if any.
    static func arguments(in folder: String) -> [String] {
        guard let text = try? String(contentsOfFile: folder + "/args", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `read --rules RULES --output eve.jsonl input.pcap`, run in a temporary directory so
    /// `pcap_filename` is the fixed relative name.
    static func read(capture: CaptureFile, rules: String, extraArguments: [String] = []) throws -> Output {
        let dir = try TempDirectory()
        try dir.write("input.pcap", capture)
        let result = try run(Tool.ghostport, ["read", "--rules", rules, "--output", "eve.jsonl", "--quiet"]
                             + extraArguments + ["input.pcap"], in: dir.path)
        let eve = (try? String(contentsOfFile: dir.file("eve.jsonl"), encoding: .utf8)) ?? ""
        return Output(status: result.status, eve: eve, stderr: result.stderr)
    }

    /// Runs `executable` in `directory` with TZ=UTC added to the environment.
    static func run(_ executable: String, _ arguments: [String], in directory: String,
                    environment extra: [String: String] = ["TZ": "UTC"]) throws -> ProcessOutput {
        let outPath = directory + "/.stdout", errPath = directory + "/.stderr"
        try Data().write(to: URL(fileURLWithPath: outPath))
        try Data().write(to: URL(fileURLWithPath: errPath))
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        return ProcessOutput(status: process.terminationStatus,
                             stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}

/// The captures of the golden cases, by folder name.
enum GoldenCaptures {
    static let all: [String: @Sendable () -> CaptureFile] = [
        "tcp-answered-571": tcpAnswered571,
        "tcp-rejected": tcpRejected,
        "udp-icmp-rejected": udpICMPRejected,
        "ipv6-vlan-probe": ipv6VLANProbe,
        "scan-five-ports": scanFivePorts,
        "per-sid-threshold": perSidThreshold,
        "pass-rule-silences": passRuleSilences,
        "detection-filter": detectionFilter,
        "flow-timeout": flowTimeout,
        "per-packet": perPacket,
        "anomalies": anomalies,
    ]

    /// 2025-06-15T09:12:01Z.
    static let base: UInt32 = 1_749_978_721

    /// A record `offset` seconds (with microseconds) after the base.
    static func at(_ offset: Double, _ network: Network, vlans: [VLANTag] = []) -> CaptureRecord {
        let micros = UInt64((offset * 1_000_000).rounded())
        return CaptureRecord(Packet.ethernet(vlans: vlans, network), seconds: base + UInt32(micros / 1_000_000),
                             nanoseconds: UInt32(micros % 1_000_000) * 1000)
    }

    static func capture(_ records: [CaptureRecord]) -> CaptureFile { CaptureFile(records: records) }

    static let scanner = "45.77.1.9", server = "192.168.4.20"

    static func tcp(_ src: String, _ dst: String, _ sport: UInt16, _ dport: UInt16, _ flags: TCPFlags,
                    seq: UInt32 = 1, ack: UInt32 = 0, payload: [UInt8] = []) -> Network {
        src.contains(":")
            ? .ipv6(src: src, dst: dst, .tcp(sport: sport, dport: dport, flags: flags, seq: seq, ack: ack, payload: payload))
            : .ipv4(src: src, dst: dst, .tcp(sport: sport, dport: dport, flags: flags, seq: seq, ack: ack, payload: payload))
    }

    static func udp(_ src: String, _ dst: String, _ sport: UInt16, _ dport: UInt16, _ payload: [UInt8]) -> Network {
        src.contains(":")
            ? .ipv6(src: src, dst: dst, .udp(sport: sport, dport: dport, payload: payload))
            : .ipv4(src: src, dst: dst, .udp(sport: sport, dport: dport, payload: payload))
    }

    /// A listener on 571/tcp: handshake, a request, an answer, both FINs. Plus web traffic.
    @Sendable static func tcpAnswered571() -> CaptureFile {
        capture([
            at(0.0, tcp("10.1.1.1", "10.1.1.2", 50000, 443, .syn)),
            at(0.1, tcp(scanner, server, 40001, 571, .syn, seq: 100)),
            at(0.1005, tcp(server, scanner, 571, 40001, .synAck, seq: 900, ack: 101)),
            at(0.101, tcp(scanner, server, 40001, 571, .ack, seq: 101, ack: 901)),
            at(0.102, tcp(scanner, server, 40001, 571, [.psh, .ack], seq: 101, ack: 901, payload: Array("HELLO\r\n".utf8))),
            at(0.103, tcp(server, scanner, 571, 40001, [.psh, .ack], seq: 901, ack: 108, payload: Array("udemon 1.0 ready\r\n".utf8))),
            at(0.104, tcp(scanner, server, 40001, 571, [.fin, .ack], seq: 108, ack: 919)),
            at(0.105, tcp(server, scanner, 571, 40001, [.fin, .ack], seq: 919, ack: 109)),
            at(0.106, tcp(scanner, server, 40001, 571, .ack, seq: 109, ack: 920)),
        ])
    }

    /// A closed port: the SYN draws a RST, the retry too; another probe is refused by a
    /// firewall's ICMP administratively prohibited.
    @Sendable static func tcpRejected() -> CaptureFile {
        let blocked = tcp("203.0.113.5", server, 41000, 571, .syn)
        return capture([
            at(0, tcp(scanner, server, 40001, 571, .syn)),
            at(0.0002, tcp(server, scanner, 571, 40001, [.rst, .ack], seq: 0, ack: 2)),
            at(1, blocked),
            at(1.0003, .ipv4(src: "192.168.4.1", dst: "203.0.113.5", .icmpError(type: 3, code: 13, quoting: blocked))),
        ])
    }

    /// UDP to 571: one request refused with ICMP port unreachable, one over IPv6 with ICMPv6
    /// port unreachable, one answered, one left unanswered, and an ICMP error about another flow.
    @Sendable static func udpICMPRejected() -> CaptureFile {
        let request = udp(scanner, server, 40010, 571, Array(repeating: 0x55, count: 12))
        let request6 = udp("2001:db8::1", "2001:db8:0:1::53", 40011, 571, [1, 2, 3])
        let stray = udp(scanner, server, 40099, 571, [9])
        return capture([
            at(0, request),
            at(0.001, .ipv4(src: server, dst: scanner, .icmpError(type: 3, code: 3, quoting: request))),
            at(0.5, request6),
            at(0.501, .ipv6(src: "2001:db8:0:1::53", dst: "2001:db8::1", .icmpv6Error(type: 1, code: 4, quoting: request6))),
            at(1, udp("198.51.100.7", server, 40012, 571, [7])),
            at(1.002, udp(server, "198.51.100.7", 571, 40012, [8, 8])),
            at(2, udp("198.51.100.8", server, 40013, 571, [7])),
            at(2.001, .ipv4(src: server, dst: "198.51.100.8", .icmpError(type: 3, code: 3, quoting: stray))),
        ])
    }

    /// IPv6 probes on tagged links: one on VLAN 100, one double-tagged (802.1ad 300, 802.1Q 42),
    /// one tagged probe answered on the same VLAN.
    @Sendable static func ipv6VLANProbe() -> CaptureFile {
        capture([
            at(0, tcp("2001:db8::1", "2001:db8:0:1::53", 40003, 571, .syn), vlans: [.dot1q(100)]),
            at(0.2, tcp("2a01::77", "2001:db8:0:1::54", 40004, 571, .syn), vlans: [.dot1ad(300), .dot1q(42)]),
            at(0.4, udp("2a01::78", "2001:db8:0:1::55", 40005, 571, [1]), vlans: [.dot1q(100)]),
            at(0.401, udp("2001:db8:0:1::55", "2a01::78", 571, 40005, [2]), vlans: [.dot1q(100)]),
        ])
    }

    /// One source sweeps six watched ports on two hosts within a few seconds: one scan alert at
    /// the fifth distinct port, none for the sixth.
    @Sendable static func scanFivePorts() -> CaptureFile {
        let sweep: [(String, UInt16, Bool)] = [("192.168.4.20", 3, true), ("192.168.4.20", 5, true), ("192.168.4.21", 18, true),
                                               ("192.168.4.21", 571, false), ("192.168.4.20", 571, true), ("192.168.4.20", 517, true)]
        return capture(sweep.enumerated().map { index, probe in
            let (host, port, isTCP) = probe
            let sport = UInt16(45000 + index)
            return at(Double(index) * 0.5, isTCP ? tcp("185.1.2.3", host, sport, port, .syn) : udp("185.1.2.3", host, sport, port, [0]))
        })
    }

    /// Five TCP probes from one source (limit 2 per source) and seven UDP probes to one host
    /// (every third per destination), each its own flow.
    @Sendable static func perSidThreshold() -> CaptureFile {
        var records: [CaptureRecord] = []
        for i in 0..<5 { records.append(at(Double(i), tcp(scanner, server, UInt16(42000 + i), 571, .syn))) }
        for i in 0..<7 { records.append(at(10 + Double(i), udp("198.51.100.\(i + 1)", server, 43000, 571, [1]))) }
        return capture(records)
    }

    /// The internal scanner at 10.9.9.9 probes 571 and is answered: no alerts for it either way;
    /// the same exchange from outside alerts twice. Both flows still get their verdicts.
    @Sendable static func passRuleSilences() -> CaptureFile {
        capture([
            at(0, tcp("10.9.9.9", server, 40100, 571, .syn)),
            at(0.001, tcp(server, "10.9.9.9", 571, 40100, .synAck, seq: 5, ack: 2)),
            at(1, tcp(scanner, server, 40101, 571, .syn)),
            at(1.001, tcp(server, scanner, 571, 40101, .synAck, seq: 5, ack: 2)),
        ])
    }

    /// Five probes from one source within a minute: the filter lets the third on through; a
    /// second source's two probes stay below it.
    @Sendable static func detectionFilter() -> CaptureFile {
        var records: [CaptureRecord] = []
        for i in 0..<5 { records.append(at(Double(i) * 2, tcp(scanner, server, UInt16(44000 + i), 571, .syn))) }
        for i in 0..<2 { records.append(at(20 + Double(i), tcp("203.0.113.9", server, UInt16(44100 + i), 571, .syn))) }
        return capture(records)
    }

    /// A probe left alone times out 30 s later in packet time (reason `timeout`), while traffic
    /// to an unwatched port keeps the clock going; a later probe ends at shutdown.
    @Sendable static func flowTimeout() -> CaptureFile {
        var records = [at(0, tcp(scanner, server, 40001, 571, .syn))]
        for i in 1...8 { records.append(at(Double(i) * 5, udp("10.1.1.1", "10.1.1.2", 5353, 53, [UInt8(i)]))) }
        records.append(at(41, udp(scanner, server, 40002, 571, [1])))
        return capture(records)
    }

    /// With --per-packet every matching packet alerts: three SYN retries, three alerts.
    @Sendable static func perPacket() -> CaptureFile {
        capture([
            at(0, tcp(scanner, server, 40001, 571, .syn)),
            at(1, tcp(scanner, server, 40001, 571, .syn)),
            at(3, tcp(scanner, server, 40001, 571, .syn)),
        ])
    }

    /// With --anomalies each decode event is an anomaly record: a truncated IPv4 probe, a cut
    /// UDP header, and an unknown EtherType.
    @Sendable static func anomalies() -> CaptureFile {
        capture([
            at(0, .ipv4(src: scanner, dst: server, totalLength: 200, .udp(sport: 40001, dport: 571, payload: [1, 2]))),
            at(1, .ipv4(src: scanner, dst: server, .raw(proto: 17, [0x9C, 0x41, 0x02]))),
            at(2, .raw(etherType: 0x88B5, [1, 2, 3, 4])),
        ])
    }
}
