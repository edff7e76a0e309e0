import Foundation
import Testing
import TestSupport

/// Real scanners against a namespace, a live sensor watching: each probe's alert names the
/// kind of scan and the tool from what the tools themselves put on the wire.
@Suite("scanners, live", .serialized)
struct ScannerTests {
    /// nmap's six TCP scans, each on its own watched port, then masscan and ZMap from their own
    /// (spoofed) source addresses; a marker datagram from the peer ends the capture.
    @Test(Live.requires("nmap", "masscan", "zmap"))
    func eachScanNamesItsKindAndTool() throws {
        try Prerequisite.require(Live.unmet(["ip", "python3", "nmap", "masscan", "zmap"]))
        let pair = try VethPair()
        defer { pair.teardown() }
        let sensor = try Sensor(interface: pair.rootEnd)
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        let peerMAC = try pair.run(["cat", "/sys/class/net/\(pair.peerEnd)/address"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)

        // Port per nmap scan: the alerts say which scan reached which port.
        let nmapScans: [(flag: String, port: Int, kind: String, sid: Int)] = [
            ("-sS", 571, "syn", 9_005_710), ("-sF", 3, "fin", 9_000_036), ("-sN", 87, "null", 9_000_876),
            ("-sX", 95, "xmas", 9_000_956), ("-sA", 104, "ack", 9_001_046), ("-sM", 519, "maimon", 9_005_196),
        ]
        for scan in nmapScans {
            let result = try Child.run(["nmap", "-n", "-Pn", scan.flag, "-p", String(scan.port), "--max-retries", "0",
                                        "-e", pair.rootEnd, pair.peerAddress], timeout: 120)
            #expect(result.status == 0, "nmap \(scan.flag): \(result.stderr)")
        }
        let masscanSource = "10.250.\(pair.subnet).3", zmapSource = "10.250.\(pair.subnet).4"
        let masscan = try Child.run(["masscan", pair.peerAddress, "-p5,18", "--rate", "100", "--adapter", pair.rootEnd,
                                     "--adapter-ip", masscanSource, "--router-mac", peerMAC, "--wait", "0"], timeout: 120)
        #expect(masscan.status == 0, "masscan: \(masscan.stderr)")
        let zmap = try Child.run(["zmap", "-p", "571", "-i", pair.rootEnd, "-G", peerMAC, "-S", zmapSource,
                                  "-b", "/dev/null", "-o", "/dev/null", "-c", "0", "-q", "\(pair.peerAddress)/32"], timeout: 120)
        #expect(zmap.status == 0, "zmap: \(zmap.stderr)")

        try sensor.stopAfterMarker(from: pair)

        let eve = EVEFile(path: sensor.eve)
        func probes(from source: String, to port: Int) -> [[String: Any]] {
            eve.alerts.filter { $0["src_ip"] as? String == source && $0.destPort == port && $0.sid != 8_999_001 }
        }
        for scan in nmapScans {
            let alerts = probes(from: pair.rootAddress, to: scan.port)
            #expect(alerts.map { $0.sid } == [scan.sid], "nmap \(scan.flag): \(alerts)")
            #expect(alerts.first?.ghostportField("scan_kind") == scan.kind, "nmap \(scan.flag)")
            #expect(alerts.first?.ghostportField("tool") == "nmap", "nmap \(scan.flag)")
        }
        for port in [5, 18] {
            let alerts = probes(from: masscanSource, to: port)
            #expect(alerts.map { $0.sid } == [9_000_000 + port * 10], "masscan to \(port): \(alerts)")
            #expect(alerts.first?.ghostportField("tool") == "masscan" && alerts.first?.ghostportField("scan_kind") == "syn")
        }
        let zmapAlerts = probes(from: zmapSource, to: 571)
        #expect(zmapAlerts.map { $0.sid } == [9_005_710], "zmap: \(zmapAlerts)")
        #expect(zmapAlerts.first?.ghostportField("tool") == "zmap")

        // nmap's six scans are one source on six watched ports: a scan, every probe nmap's.
        let scans = eve.alerts(sid: 8_999_001).filter { ($0["ghostport"] as? [String: Any])?[path: "scan", "source"] as? String == pair.rootAddress }
        #expect(scans.count == 1)
        #expect(scans.first?.ghostportField("tool") == "nmap")
        #expect(scans.first?.ghostportField("scan_kind") == nil, "six kinds of scan share none")
    }
}

extension Dictionary where Key == String, Value == Any {
    func ghostportField(_ name: String) -> String? { (self["ghostport"] as? [String: Any])?[name] as? String }

    /// A nested value by path.
    subscript(path keys: String...) -> Any? {
        var current: Any? = self
        for key in keys { current = (current as? [String: Any])?[key] }
        return current
    }
}
