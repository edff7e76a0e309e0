import Detect
import Foundation
import Testing
import TestSupport
import Wire

/// Scanner fingerprints on crafted probes: each tool's relation as its source code writes it
/// (see `ScannerTool`), computed here independently, and a near miss of each (one off) that
/// must not be named. The live `ScannerTests` check the real tools' packets.
@Suite("Scanner fingerprints")
struct FingerprintTests {
    static let client = "203.0.113.9", server = "192.0.2.77"
    /// 192.0.2.77 as a 32-bit number.
    static let serverNumber: UInt32 = 192 << 24 | 0 << 16 | 2 << 8 | 77

    private func probe(id: UInt16 = 0x1111, seq: UInt32 = 0x0BAD_F00D, window: UInt16 = 29200,
                       options: [TCPOption] = [.mss(1460), .sackPermitted, .timestamps(1, 0), .noOperation, .windowScale(7)],
                       flags: TCPFlags = .syn, port: UInt16 = 571) -> Network {
        .ipv4(src: Self.client, dst: Self.server, id: id,
              .tcp(sport: 50000, dport: port, flags: flags, seq: seq, window: window, options: options))
    }

    /// The tool the probe's alert names, and its flow record's.
    private func tool(of packets: [Network]) throws -> (alert: String?, flow: String?) {
        let h = try EngineHarness(rules: TestRules.udemon + "\n" + TestRules.probes(tcp: 1...1000, udp: 1...1000))
        for (i, packet) in packets.enumerated() { h.feed(packet, at: Double(i)) }
        let records = try h.finish()
        let alert = records.alerts.first { $0.sid == 9_005_710 || $0.sid == 9_005_712 }
        return (alert?.ghostport?["tool"] as? String, records.flows.first?.ghostport?["tool"] as? String)
    }

    @Test func ordinarySynNamesNoTool() throws {
        #expect(try tool(of: [probe()]) == (nil, nil))
    }

    @Test func mirai() throws {
        #expect(try tool(of: [probe(seq: Self.serverNumber)]) == ("mirai", "mirai"))
        #expect(try tool(of: [probe(seq: Self.serverNumber + 1)]) == (nil, nil))
        #expect(try tool(of: [probe(seq: Self.serverNumber - 1)]) == (nil, nil))
    }

    @Test func masscan() throws {
        let seq: UInt32 = 0x5EED_1234
        let id = UInt16(truncatingIfNeeded: Self.serverNumber ^ 571 ^ seq)
        // Masscan's own probe: SYN, window 1024, no options.
        #expect(try tool(of: [probe(id: id, seq: seq, window: 1024, options: [])]) == ("masscan", "masscan"))
        #expect(try tool(of: [probe(id: id, seq: seq)]) == ("masscan", "masscan"))
        #expect(try tool(of: [probe(id: id &+ 1, seq: seq)]) == (nil, nil))
        #expect(try tool(of: [probe(id: id, seq: seq &+ 1)]) == (nil, nil))
        #expect(try tool(of: [probe(id: id, seq: seq, port: 572)]) == (nil, nil), "the relation holds for 571 only")
    }

    @Test func zmap() throws {
        #expect(try tool(of: [probe(id: 54321, window: 65535, options: [])]) == ("zmap", "zmap"))
        #expect(try tool(of: [probe(id: 54320)]) == (nil, nil))
        #expect(try tool(of: [probe(id: 54322)]) == (nil, nil))
        // ZMap's UDP probes carry the same identification.
        let udp = Network.ipv4(src: Self.client, dst: Self.server, id: 54321, .udp(sport: 50000, dport: 571, payload: [1]))
        #expect(try tool(of: [udp]) == ("zmap", "zmap"))
        let udpMiss = Network.ipv4(src: Self.client, dst: Self.server, id: 54320, .udp(sport: 50000, dport: 571, payload: [1]))
        #expect(try tool(of: [udpMiss]) == (nil, nil))
    }

    @Test func nmap() throws {
        #expect(try tool(of: [probe(window: 1024, options: [.mss(1460)])]) == ("nmap", "nmap"))
        #expect(try tool(of: [probe(window: 1025, options: [.mss(1460)])]) == (nil, nil))
        #expect(try tool(of: [probe(window: 1023, options: [.mss(1460)])]) == (nil, nil))
        #expect(try tool(of: [probe(window: 1024, options: [.mss(1461)])]) == (nil, nil))
        #expect(try tool(of: [probe(window: 1024, options: [.mss(1460), .noOperation])]) == (nil, nil))
        // Its FIN, NULL and Xmas scans: window 1024, no options.
        for flags: TCPFlags in [.fin, [], [.fin, .psh, .urg], .ack, [.fin, .ack]] {
            let rules = TestRules.probes(tcp: 1...1000)
            let h = try EngineHarness(rules: rules)
            h.feed(probe(window: 1024, options: [], flags: flags), at: 0)
            h.feed(.ipv4(src: Self.client, dst: Self.server, .tcp(sport: 50001, dport: 572, flags: flags, window: 1024,
                                                                 options: [.mss(1460)])), at: 1)
            let flows = try h.finish().flows
            #expect(flows.first { $0["dest_port"] as? Int == 571 }?.ghostport?["tool"] as? String == "nmap")
            #expect(flows.first { $0["dest_port"] as? Int == 572 }?.ghostport?["tool"] == nil, "options on a scan without SYN")
        }
    }

    /// A scan alert names the tool when every probe in its window carries that tool's
    /// fingerprint, and the kind when every probe is of one kind.
    @Test func scanNamesTheToolWhenEveryProbeCarriesIt() throws {
        func scan(_ probes: [Network]) throws -> [String: Any]? {
            let h = try EngineHarness(rules: TestRules.probes(tcp: 1...1000))
            for (i, packet) in probes.enumerated() { h.feed(packet, at: Double(i) * 0.1) }
            return try h.finish().scans.first?.ghostport
        }
        let ports: [UInt16] = [3, 5, 18, 87, 95]
        let masscan = ports.map { port in
            let seq = UInt32(port) * 7919
            return probe(id: UInt16(truncatingIfNeeded: Self.serverNumber ^ UInt32(port) ^ seq), seq: seq, window: 1024, options: [],
                         port: port)
        }
        let all = try #require(try scan(masscan))
        #expect(all["tool"] as? String == "masscan" && all["scan_kind"] as? String == "syn")
        var mixed = masscan
        mixed[2] = probe(id: 54321, port: 18)
        let some = try #require(try scan(mixed))
        #expect(some["tool"] == nil && some["scan_kind"] as? String == "syn")
        var kinds = masscan
        kinds[4] = probe(id: UInt16(truncatingIfNeeded: Self.serverNumber ^ 95 ^ 1), seq: 1, window: 1024, options: [], flags: .fin, port: 95)
        let mixedKinds = try #require(try scan(kinds))
        #expect(mixedKinds["tool"] as? String == "masscan" && mixedKinds["scan_kind"] == nil)
    }
}
