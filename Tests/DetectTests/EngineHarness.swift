import Detect
import Flow
import Foundation
import Output
import Rules
import Testing
import TestSupport
import Wire

/// One engine writing EVE lines to a temporary file, fed packets built with TestSupport, its
/// records read back with JSONSerialization. Timestamps print in UTC.
final class EngineHarness {
    /// 2025-06-15T09:12:01Z, the second REFERENCE.md's sample timestamp falls in.
    static let baseSeconds: Int64 = 1_749_978_721

    let engine: Engine
    let path: String
    private let fd: Int32
    private var count: UInt64 = 0

    init(rules text: String, configure: (inout EngineConfiguration) -> Void = { _ in },
         records configureRecords: (inout RecordSettings) -> Void = { _ in }) throws {
        setenv("TZ", "UTC", 1)
        tzset()
        let (ruleSet, errors) = RuleLoader.load(text: text, file: "test.rules")
        #expect(errors.isEmpty, "rule errors: \(errors.map(\.description))")
        var configuration = EngineConfiguration()
        configuration.flowHashSeed = 0x5EED
        configure(&configuration)
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ghostport-detect-\(UUID().uuidString).jsonl").path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HarnessError.cannotOpen(path) }
        var settings = RecordSettings()
        configureRecords(&settings)
        engine = Engine(rules: ruleSet, configuration: configuration,
                        records: EVERecords(output: EVEOutput(fd: fd), settings: settings))
        engine.sourceNames = ["test.pcap"]
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Packet time: `seconds` after the base, plus `nanoseconds`.
    static func time(_ seconds: Double, nanoseconds: Int64 = 0) -> Int64 {
        (baseSeconds + Int64(seconds.rounded(.down))) * 1_000_000_000
            + Int64(((seconds - seconds.rounded(.down)) * 1e9).rounded()) + nanoseconds
    }

    /// Feeds one Ethernet frame at `seconds` after the base; returns its pcap_cnt.
    @discardableResult
    func feed(_ frame: [UInt8], at seconds: Double, nanoseconds: Int64 = 0, linkType: LinkType = .ethernet) -> UInt64 {
        count += 1
        let timestamp = Self.time(seconds, nanoseconds: nanoseconds)
        frame.withUnsafeBytes { bytes in
            engine.process(bytes, linkType: linkType, timestamp: timestamp, originalLength: frame.count,
                           origin: PacketOrigin(count: count, source: 0))
        }
        return count
    }

    /// Feeds `network` in an untagged Ethernet frame (or with `vlans`).
    @discardableResult
    func feed(_ network: Network, at seconds: Double, vlans: [VLANTag] = []) -> UInt64 {
        feed(Packet.ethernet(vlans: vlans, network), at: seconds)
    }

    /// Every record written so far (flushing first), in order.
    func records() throws -> [[String: Any]] {
        engine.flushOutput()
        return try lines().map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw HarnessError.notAnObject(line)
            }
            return object
        }
    }

    /// The raw lines written so far.
    func lines() throws -> [String] {
        engine.flushOutput()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    /// Ends every flow, writes the stats record and returns all records.
    func finish() throws -> [[String: Any]] {
        engine.finish()
        return try records()
    }
}

enum HarnessError: Error {
    case cannotOpen(String)
    case notAnObject(String)
}

/// Record filters and field access for `[String: Any]` records.
extension Array where Element == [String: Any] {
    func events(_ type: String) -> [[String: Any]] { filter { $0["event_type"] as? String == type } }
    var alerts: [[String: Any]] { events("alert") }
    var flows: [[String: Any]] { events("flow") }
    /// The last stats record's Suricata counters (`stats`), and ghostport's own (`ghostport.stats`).
    var stats: [String: Any]? { events("stats").last?["stats"] as? [String: Any] }
    var ghostportStats: [String: Any]? { (events("stats").last?["ghostport"] as? [String: Any])?["stats"] as? [String: Any] }
    /// Alerts with this signature id.
    func alerts(sid: Int) -> [[String: Any]] { alerts.filter { $0.sid == sid } }
    /// Rule alerts, scans left out.
    var ruleAlerts: [[String: Any]] { alerts.filter { $0.sid != Int(ScanAlert.sid) } }
    var scans: [[String: Any]] { alerts(sid: Int(ScanAlert.sid)) }
    /// Flow records with a verdict, by verdict name.
    var verdicts: [String] { flows.compactMap { $0.ghostport?["verdict"] as? String } }
}

extension Dictionary where Key == String, Value == Any {
    var alert: [String: Any]? { self["alert"] as? [String: Any] }
    var flow: [String: Any]? { self["flow"] as? [String: Any] }
    var ghostport: [String: Any]? { self["ghostport"] as? [String: Any] }
    var sid: Int? { alert?["signature_id"] as? Int }

    /// A nested value by path, e.g. `self[path: "flow", "evicted"]`.
    subscript(path keys: String...) -> Any? {
        var current: Any? = self
        for key in keys { current = (current as? [String: Any])?[key] }
        return current
    }
}

/// Rules the engine tests share: 571/tcp and 571/udp probe and answer rules, as generated.
enum TestRules {
    static let udemon = """
        alert tcp any any -> any 571 (msg:"GHOSTPORT probe to abandoned port 571/tcp (meter, udemon)"; flow:to_server; flags:S,CE; classtype:attempted-recon; priority:3; metadata:ghostport_role probe, service meter; sid:9005710; rev:1;)
        alert tcp any 571 -> any any (msg:"GHOSTPORT answer from abandoned port 571/tcp (meter, udemon)"; flow:to_client; flags:SA,CE; classtype:successful-recon-limited; priority:1; metadata:ghostport_role answered, service meter; sid:9005711; rev:1;)
        alert udp any any -> any 571 (msg:"GHOSTPORT probe to abandoned port 571/udp (meter, udemon)"; flow:to_server; classtype:attempted-recon; priority:3; metadata:ghostport_role probe, service meter; sid:9005712; rev:1;)
        alert udp any 571 -> any any (msg:"GHOSTPORT answer from abandoned port 571/udp (meter, udemon)"; flow:to_client; classtype:successful-recon-limited; priority:1; metadata:ghostport_role answered, service meter; sid:9005713; rev:1;)
        """

    /// Untagged probe rules on a range of ports, TCP and UDP: every port in it is watched.
    static func probes(tcp: ClosedRange<Int>, udp: ClosedRange<Int>? = nil) -> String {
        var text = "alert tcp any any -> any [\(tcp.lowerBound):\(tcp.upperBound)] (msg:\"probe tcp\"; flow:to_server; sid:100; rev:1;)\n"
        if let udp {
            text += "alert udp any any -> any [\(udp.lowerBound):\(udp.upperBound)] (msg:\"probe udp\"; sid:101; rev:1;)\n"
        }
        return text
    }
}

/// The packets of a probe to 571 and what can come back.
struct Probe {
    var client = "45.77.1.9"
    var server = "192.168.4.20"
    var sport: UInt16 = 40001
    var dport: UInt16 = 571

    var syn: Network { .ipv4(src: client, dst: server, .tcp(sport: sport, dport: dport, flags: .syn)) }
    var synAck: Network { .ipv4(src: server, dst: client, .tcp(sport: dport, dport: sport, flags: .synAck, ack: 2)) }
    var ack: Network { .ipv4(src: client, dst: server, .tcp(sport: sport, dport: dport, flags: .ack, seq: 2, ack: 2)) }
    var rst: Network { .ipv4(src: server, dst: client, .tcp(sport: dport, dport: sport, flags: [.rst, .ack], ack: 2)) }
    var udpRequest: Network { .ipv4(src: client, dst: server, .udp(sport: sport, dport: dport, payload: [1, 2, 3, 4])) }
    var udpReply: Network { .ipv4(src: server, dst: client, .udp(sport: dport, dport: sport, payload: [5, 6, 7, 8, 9])) }

    /// An ICMP error from the server quoting `packet`.
    func icmpError(type: UInt8 = 3, code: UInt8 = 3, quoting packet: Network, from: String? = nil) -> Network {
        .ipv4(src: from ?? server, dst: client, .icmpError(type: type, code: code, quoting: packet))
    }
}

/// The IPv6 counterpart.
struct Probe6 {
    var client = "2001:db8::1"
    var server = "2001:db8:0:1::53"
    var sport: UInt16 = 40003
    var dport: UInt16 = 571

    var syn: Network { .ipv6(src: client, dst: server, .tcp(sport: sport, dport: dport, flags: .syn)) }
    var synAck: Network { .ipv6(src: server, dst: client, .tcp(sport: dport, dport: sport, flags: .synAck, ack: 2)) }
    var udpRequest: Network { .ipv6(src: client, dst: server, .udp(sport: sport, dport: dport, payload: [1, 2, 3, 4])) }
    var udpReply: Network { .ipv6(src: server, dst: client, .udp(sport: dport, dport: sport, payload: [5, 6])) }

    func icmpv6Error(type: UInt8 = 1, code: UInt8 = 4, quoting packet: Network) -> Network {
        .ipv6(src: server, dst: client, .icmpv6Error(type: type, code: code, quoting: packet))
    }
}
