import Detect
import Testing
import TestSupport
import Wire

/// Scan detection: one source touching N watched ports (or N hosts) within the window raises
/// one scan alert, then stays quiet for the window.
@Suite struct ScanTests {
    private static let rules = TestRules.probes(tcp: 1001...1020, udp: 2001...2005)

    private func harness(ports: Int = 5, hosts: Int = 5, seconds: Int = 60) throws -> EngineHarness {
        try EngineHarness(rules: Self.rules) { $0.scan = .init(ports: ports, hosts: hosts, seconds: seconds) }
    }

    private func syn(_ source: String, _ host: String, _ port: UInt16) -> Network {
        .ipv4(src: source, dst: host, .tcp(sport: 50_000, dport: port, flags: .syn))
    }

    @Test func fivePortsFromOneSourceIsOneScan() throws {
        let h = try harness()
        for (i, port) in [1001, 1002, 1003, 1004].enumerated() {
            h.feed(syn("203.0.113.7", "192.168.1.1", UInt16(port)), at: Double(i))
        }
        #expect(try h.records().scans.isEmpty)
        let fifth = h.feed(.ipv4(src: "203.0.113.7", dst: "192.168.1.1", .udp(sport: 50_000, dport: 2001)), at: 4.5)
        let records = try h.finish()
        let scans = records.scans
        #expect(scans.count == 1)
        let scan = try #require(scans.first)
        #expect(scan["pcap_cnt"] as? Int == Int(fifth))
        #expect(scan["timestamp"] as? String == "2025-06-15T09:12:05.500000+0000")
        #expect(scan["src_ip"] as? String == "203.0.113.7")
        #expect(scan.alert?["signature_id"] as? Int == Int(ScanAlert.sid))
        #expect(scan.alert?["gid"] as? Int == 1)
        #expect(scan.alert?["signature"] as? String == "GHOSTPORT scan of abandoned ports from 203.0.113.7")
        #expect(scan.alert?["category"] as? String == "Detection of a Network Scan")
        #expect(scan.ghostport?["kind"] as? String == "scan")
        let detail = try #require(scan.ghostport?["scan"] as? [String: Any])
        #expect(detail["source"] as? String == "203.0.113.7")
        #expect(detail["ports"] as? [String] == ["1001/tcp", "1002/tcp", "1003/tcp", "1004/tcp", "2001/udp"])
        #expect(detail["hosts"] as? [String] == ["192.168.1.1"])
        #expect(detail["first_seen"] as? String == "2025-06-15T09:12:01.000000+0000")
        #expect(detail["window"] as? Int == 60)
        #expect(records.ghostportStats?[path: "detect", "alerts_by_sid"].flatMap { ($0 as? [String: Int])?["8999001"] } == 1)
    }

    @Test func quietForTheWindowAfterAScan() throws {
        let h = try harness()
        for i in 0..<15 { h.feed(syn("203.0.113.7", "192.168.1.1", UInt16(1001 + i)), at: Double(i)) }
        #expect(try h.records().scans.count == 1)
        // Once the first burst has left the window, five ports on another host are a new scan.
        for i in 0..<5 { h.feed(syn("203.0.113.7", "192.168.1.2", UInt16(1001 + i)), at: 80 + Double(i)) }
        let scans = try h.finish().scans
        #expect(scans.count == 2)
        #expect(scans.last?.ghostport?[path: "scan", "hosts"] as? [String] == ["192.168.1.2"])
    }

    @Test func fiveHostsOnOnePortIsAScan() throws {
        let h = try harness(ports: 100, hosts: 5)
        for i in 0..<5 { h.feed(syn("198.51.100.9", "192.168.1.\(i + 1)", 1001), at: Double(i)) }
        let scans = try h.finish().scans
        #expect(scans.count == 1)
        #expect(scans.first?.ghostport?[path: "scan", "hosts"] as? [String]
                == ["192.168.1.1", "192.168.1.2", "192.168.1.3", "192.168.1.4", "192.168.1.5"])
        #expect(scans.first?.ghostport?[path: "scan", "ports"] as? [String] == ["1001/tcp"])
    }

    @Test func slowSourceAcrossWindowsDoesNotTrigger() throws {
        let h = try harness()
        // One new port every 21 s: never five within 60 s.
        for i in 0..<12 { h.feed(syn("203.0.113.7", "192.168.1.1", UInt16(1001 + i)), at: Double(i) * 21) }
        #expect(try h.finish().scans.isEmpty)
    }

    @Test func sourcesAreCountedApart() throws {
        let h = try harness()
        for i in 0..<4 {
            h.feed(syn("203.0.113.7", "192.168.1.1", UInt16(1001 + i)), at: Double(i))
            h.feed(syn("203.0.113.8", "192.168.1.1", UInt16(1001 + i)), at: Double(i) + 0.5)
        }
        #expect(try h.finish().scans.isEmpty)
    }

    /// Repeating one port does not make it several.
    @Test func repeatsOfOnePortDoNotCount() throws {
        let h = try harness()
        for i in 0..<10 {
            h.feed(.ipv4(src: "203.0.113.7", dst: "192.168.1.1", .tcp(sport: UInt16(50_000 + i), dport: 1001, flags: .syn)), at: Double(i))
        }
        #expect(try h.finish().scans.isEmpty)
    }

    /// Ports nobody watches are no part of a scan.
    @Test func unwatchedPortsDoNotCount() throws {
        let h = try harness()
        for i in 0..<10 { h.feed(syn("203.0.113.7", "192.168.1.1", UInt16(80 + i)), at: Double(i)) }
        #expect(try h.finish().scans.isEmpty)
    }

    @Test func detectorAlone() {
        var detector = ScanDetector(configuration: .init(ports: 3, hosts: 10, seconds: 10))
        let source = IPAddress(parsing: "203.0.113.7"), host = IPAddress(parsing: "192.168.1.1")
        let second: Int64 = 1_000_000_000
        #expect(detector.observe(source: source, host: host, port: 1, proto: 6, time: 0) == nil)
        #expect(detector.observe(source: source, host: host, port: 2, proto: 6, time: 1 * second) == nil)
        // The same port over UDP is another port.
        let scan = detector.observe(source: source, host: host, port: 1, proto: 17, time: 2 * second)
        #expect(scan?.ports == ["1/tcp", "2/tcp", "1/udp"])
        #expect(scan?.firstSeen == 0)
        #expect(scan?.lastSeen == 2 * second)
        #expect(detector.observe(source: source, host: host, port: 3, proto: 6, time: 3 * second) == nil)
        #expect(detector.scansReported == 1)
    }

    @Test func detectorForgetsSourcesBeyondItsBound() {
        var detector = ScanDetector(configuration: .init(ports: 3, hosts: 3, seconds: 10, maxSources: 16))
        let host = IPAddress(parsing: "192.168.1.1")
        for i in 0..<100 {
            _ = detector.observe(source: IPAddress(ipv4: 0x0A00_0000 + UInt32(i)), host: host, port: 1, proto: 6,
                                 time: Int64(i) * 1_000_000)
        }
        #expect(detector.trackedSources <= 16)
        #expect(detector.sourcesForgotten >= 84)
    }

    @Test("a full detector forgets about the least recently seen eighth, and only those")
    func detectorForgetsTheLeastRecentlySeen() {
        var detector = ScanDetector(configuration: .init(ports: 3, hosts: 3, seconds: 3_600, maxSources: 4_096))
        let host = IPAddress(parsing: "192.168.1.1")
        func source(_ i: Int) -> IPAddress { IPAddress(ipv4: 0x0A00_0000 + UInt32(i)) }
        for i in 0..<4_096 {
            _ = detector.observe(source: source(i), host: host, port: 1, proto: 6, time: Int64(i) * 1_000_000)
        }
        // Source 0 is seen again: it is now among the most recent.
        _ = detector.observe(source: source(0), host: host, port: 1, proto: 6, time: 4_096 * 1_000_000)
        #expect(detector.sourcesForgotten == 0)
        _ = detector.observe(source: source(4_096), host: host, port: 1, proto: 6, time: 4_097 * 1_000_000)
        // An eighth is 512, read from a sample: within a quarter of it either way.
        #expect((384...640).contains(detector.sourcesForgotten), "\(detector.sourcesForgotten) forgotten")
        #expect(detector.trackedSources == 4_097 - Int(detector.sourcesForgotten))
        // The forgotten are the oldest: sources 1 to N (0 was seen again, 4,096 is the newest).
        let kept = (0...4_096).filter { detector.isTracking(source($0)) }
        #expect(kept.first == 0 && kept.dropFirst().first == Int(detector.sourcesForgotten) + 1, "the oldest kept")
        #expect(kept.count == detector.trackedSources)
    }
}
