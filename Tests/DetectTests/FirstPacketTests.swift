import Detect
import Foundation
import Testing
import TestSupport
import Wire

/// The shipped rules (rules/abandoned-ports.rules), read from the repository.
private let shippedRules: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    let path = parts.joined(separator: "/") + "/rules/abandoned-ports.rules"
    return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}()

/// The sids the shipped rules give 571/tcp (9000000 + 571*10 + k), named as the rules file's
/// header explains k.
private enum Sid {
    static let syn = 9_005_710, synAck = 9_005_711, withoutSYN = 9_005_716, dataWithoutHandshake = 9_005_717
    static let unsolicited = 9_005_718, clientOnlyHandshake = 9_005_719, udpProbe = 9_005_712, udpAnswer = 9_005_713
}

/// A conversation on 571/tcp between a client (45.77.1.9:40001) and a server (192.168.4.20:571),
/// one packet at a time; seq/ack numbers are not tracked by the sensor, so they stay simple.
private struct Talk {
    var client = "45.77.1.9"
    var server = "192.168.4.20"
    var sport: UInt16 = 40001
    var port: UInt16 = 571

    func toServer(_ flags: TCPFlags, data: Int = 0, seq: UInt32 = 1) -> Network {
        .ipv4(src: client, dst: server, .tcp(sport: sport, dport: port, flags: flags, seq: seq, ack: flags.contains(.ack) ? 7 : 0,
                                            payload: [UInt8](repeating: 0x41, count: data)))
    }

    func toClient(_ flags: TCPFlags, data: Int = 0) -> Network {
        .ipv4(src: server, dst: client, .tcp(sport: port, dport: sport, flags: flags, seq: 7, ack: flags.contains(.ack) ? 2 : 0,
                                            payload: [UInt8](repeating: 0x42, count: data)))
    }
}

/// What the sensor must say about one flow: the alerts' sids in order, and from the flow record
/// its verdict, the sides seen and the first packet's kind. Written from the issue's
/// specification and the rules file's header, not from the code's output.
private struct Expected: CustomStringConvertible {
    var name: String
    var packets: [Network]
    var sids: [Int]
    var verdict: String
    var seen: String
    var kind: String?

    var description: String { name }
}

private let talk = Talk()

/// Both ways, one side only, mid-stream, and each flag combination nmap scans with.
private let cases: [Expected] = [
    Expected(name: "SYN, nothing back", packets: [talk.toServer(.syn)],
             sids: [Sid.syn], verdict: "unanswered", seen: "client", kind: "syn"),
    Expected(name: "SYN, RST-ACK", packets: [talk.toServer(.syn), talk.toClient([.rst, .ack])],
             sids: [Sid.syn], verdict: "rejected", seen: "both", kind: "syn"),
    Expected(name: "SYN, SYN-ACK, RST (a SYN scan of an open port)",
             packets: [talk.toServer(.syn), talk.toClient(.synAck), talk.toServer(.rst, seq: 2)],
             sids: [Sid.syn, Sid.synAck], verdict: "answered", seen: "both", kind: "syn"),
    Expected(name: "a whole session", packets: [talk.toServer(.syn), talk.toClient(.synAck), talk.toServer(.ack),
                                                 talk.toServer([.psh, .ack], data: 10), talk.toClient([.psh, .ack], data: 20),
                                                 talk.toServer([.fin, .ack]), talk.toClient([.fin, .ack]), talk.toServer(.ack)],
             sids: [Sid.syn, Sid.synAck], verdict: "answered", seen: "both", kind: "syn"),
    Expected(name: "ECN SYN (ECE and CWR)", packets: [talk.toServer([.syn, .ece, .cwr])],
             sids: [Sid.syn], verdict: "unanswered", seen: "client", kind: "syn"),
    Expected(name: "FIN scan, closed port", packets: [talk.toServer(.fin), talk.toClient([.rst, .ack])],
             sids: [Sid.withoutSYN], verdict: "rejected", seen: "both", kind: "fin"),
    Expected(name: "FIN scan, no answer", packets: [talk.toServer(.fin)],
             sids: [Sid.withoutSYN], verdict: "unanswered", seen: "client", kind: "fin"),
    Expected(name: "NULL scan", packets: [talk.toServer([])],
             sids: [Sid.withoutSYN], verdict: "unanswered", seen: "client", kind: "null"),
    Expected(name: "Xmas scan", packets: [talk.toServer([.fin, .psh, .urg]), talk.toClient([.rst, .ack])],
             sids: [Sid.withoutSYN], verdict: "rejected", seen: "both", kind: "xmas"),
    Expected(name: "ACK scan", packets: [talk.toServer(.ack), talk.toClient(.rst)],
             sids: [Sid.withoutSYN], verdict: "rejected", seen: "both", kind: "ack"),
    Expected(name: "Maimon scan", packets: [talk.toServer([.fin, .ack]), talk.toClient(.rst)],
             sids: [Sid.withoutSYN], verdict: "rejected", seen: "both", kind: "maimon"),
    Expected(name: "SYN-FIN", packets: [talk.toServer([.syn, .fin])],
             sids: [Sid.syn], verdict: "unanswered", seen: "client", kind: "other"),
    Expected(name: "RST alone", packets: [talk.toServer(.rst)],
             sids: [Sid.withoutSYN], verdict: "unanswered", seen: "client", kind: "other"),
    Expected(name: "URG alone", packets: [talk.toServer(.urg)],
             sids: [Sid.withoutSYN], verdict: "unanswered", seen: "client", kind: "other"),
    Expected(name: "a SYN-ACK sent to the port", packets: [talk.toServer(.synAck)],
             sids: [Sid.syn], verdict: "unanswered", seen: "client", kind: "other"),
    // Mid-stream: the handshake happened before the sensor looked.
    Expected(name: "mid-stream, client first, the port answers with data",
             packets: [talk.toServer([.psh, .ack], data: 12), talk.toClient([.psh, .ack], data: 30), talk.toServer(.ack)],
             sids: [Sid.withoutSYN, Sid.dataWithoutHandshake], verdict: "answered", seen: "both", kind: "midstream"),
    Expected(name: "mid-stream, client data, the port only acknowledges",
             packets: [talk.toServer([.psh, .ack], data: 12), talk.toClient(.ack)],
             sids: [Sid.withoutSYN], verdict: "answered", seen: "both", kind: "midstream"),
    Expected(name: "mid-stream, the port's data first", packets: [talk.toClient([.psh, .ack], data: 30), talk.toServer(.ack)],
             sids: [Sid.dataWithoutHandshake], verdict: "answered", seen: "both", kind: nil),
    Expected(name: "mid-stream, only the client's side", packets: [talk.toServer([.psh, .ack], data: 5), talk.toServer([.psh, .ack], data: 5)],
             sids: [Sid.withoutSYN], verdict: "unanswered", seen: "client", kind: "midstream"),
    // One side only.
    // Backscatter: a SYN-ACK or RST nobody was seen asking for.
    Expected(name: "SYN-ACK without its SYN (backscatter)", packets: [talk.toClient(.synAck)],
             sids: [Sid.unsolicited], verdict: "backscatter", seen: "server", kind: nil),
    Expected(name: "SYN-ACK without its SYN, our stack resets it (backscatter)",
             packets: [talk.toClient(.synAck), talk.toServer(.rst, seq: 2)],
             sids: [Sid.unsolicited], verdict: "backscatter", seen: "both", kind: nil),
    Expected(name: "SYN-ACK without its SYN, then our ACK and data (a session whose SYN was missed)",
             packets: [talk.toClient(.synAck), talk.toServer(.ack, seq: 2), talk.toServer([.psh, .ack], data: 8, seq: 2)],
             sids: [Sid.unsolicited], verdict: "answered", seen: "both", kind: nil),
    Expected(name: "the server's side only: SYN-ACK, then data",
             packets: [talk.toClient(.synAck), talk.toClient([.psh, .ack], data: 40), talk.toClient([.fin, .ack])],
             sids: [Sid.unsolicited], verdict: "answered", seen: "server", kind: nil),
    Expected(name: "the server's side only: a bare ACK, then data",
             packets: [talk.toClient(.ack), talk.toClient([.psh, .ack], data: 40)],
             sids: [Sid.unsolicited, Sid.dataWithoutHandshake], verdict: "answered", seen: "server", kind: nil),
    Expected(name: "a RST from the port with no probe seen (backscatter)", packets: [talk.toClient(.rst)],
             sids: [Sid.unsolicited], verdict: "backscatter", seen: "server", kind: nil),
    Expected(name: "a RST-ACK from the port with no probe seen (backscatter)", packets: [talk.toClient([.rst, .ack])],
             sids: [Sid.unsolicited], verdict: "backscatter", seen: "server", kind: nil),
    Expected(name: "the client's side only: SYN, ACK, data",
             packets: [talk.toServer(.syn), talk.toServer(.ack, seq: 2), talk.toServer([.psh, .ack], data: 8, seq: 2)],
             sids: [Sid.syn, Sid.clientOnlyHandshake], verdict: "answered", seen: "client", kind: "syn"),
    Expected(name: "the client's side only: SYN retried", packets: [talk.toServer(.syn), talk.toServer(.syn)],
             sids: [Sid.syn], verdict: "unanswered", seen: "client", kind: "syn"),
]

@Suite("First packets: every TCP flag, mid-stream and one-sided flows (shipped rules)")
struct FirstPacketTests {
    private func run(_ packets: [Network]) throws -> [[String: Any]] {
        let h = try EngineHarness(rules: shippedRules)
        for (i, packet) in packets.enumerated() { h.feed(packet, at: Double(i) * 0.01) }
        return try h.finish()
    }

    @Test(arguments: cases)
    fileprivate func flow(_ expected: Expected) throws {
        let records = try run(expected.packets)
        #expect(records.ruleAlerts.map { $0.sid ?? 0 } == expected.sids)
        let flows = records.flows
        try #require(flows.count == 1)
        let flow = flows[0]
        // The flow is the client's: the watched port is its server's, whichever side spoke first.
        #expect(flow["src_ip"] as? String == talk.client && flow["dest_port"] as? Int == 571)
        #expect(flow.ghostport?["verdict"] as? String == expected.verdict)
        #expect(flow.ghostport?["seen"] as? String == expected.seen)
        #expect(flow.ghostport?["scan_kind"] as? String == expected.kind)
        for alert in records.ruleAlerts {
            #expect(alert["dest_port"] as? Int == 571 || alert["src_port"] as? Int == 571)
            #expect(alert.ghostport?["watched_port"] as? Int == 571)
            #expect(alert.ghostport?["scan_kind"] as? String == expected.kind)
            #expect(alert[path: "flow", "dest_port"] as? Int == 571)
        }
    }

    /// Every combination of the eight flag bits as a flow's first packet to the port raises one
    /// alert: the SYN probe's when SYN is set, the probe-without-SYN's otherwise.
    @Test func everyFlagCombinationAlertsOnce() throws {
        for bits in UInt16(0)...UInt16(0xFF) {
            let records = try run([talk.toServer(TCPFlags(rawValue: bits))])
            let expected = bits & TCPFlags.syn.rawValue != 0 ? Sid.syn : Sid.withoutSYN
            #expect(records.ruleAlerts.map { $0.sid ?? 0 } == [expected], "flags \(String(bits, radix: 16))")
            #expect(records.flows.first?.ghostport?["seen"] as? String == "client")
        }
    }

    /// The same from the port's side: whatever its first packet, one alert, the unsolicited
    /// packet's: nothing of the client's came before it, so not even a SYN-ACK answers anyone
    /// (a SYN without ACK makes its sender a client: see the next test). A SYN or RST without
    /// FIN is backscatter; otherwise a RST rejects and an ACK answers.
    @Test func everyFlagCombinationFromThePortAlertsOnce() throws {
        for bits in UInt16(0)...UInt16(0xFF) where bits & 0x12 != 0x02 {
            let records = try run([talk.toClient(TCPFlags(rawValue: bits))])
            #expect(records.ruleAlerts.map { $0.sid ?? 0 } == [Sid.unsolicited], "flags \(String(bits, radix: 16))")
            let verdict = bits & 0x06 != 0 && bits & 0x01 == 0 ? "backscatter"
                : bits & 0x04 != 0 ? "rejected" : bits & 0x10 != 0 ? "answered" : "unanswered"
            #expect(records.flows.first?.ghostport?["verdict"] as? String == verdict, "flags \(String(bits, radix: 16))")
        }
    }

    /// A SYN from port 571 is a client using 571 as its source port: not a flow to a watched port.
    @Test func synFromTheWatchedPortIsAClient() throws {
        let records = try run([talk.toClient(.syn)])
        #expect(records.ruleAlerts.isEmpty && records.flows.isEmpty)
    }

    /// UDP keeps working as before: a datagram to the port, and its answer.
    @Test func udpUnchanged() throws {
        let p = Probe()
        let records = try run([p.udpRequest, p.udpReply])
        #expect(records.ruleAlerts.map { $0.sid ?? 0 } == [Sid.udpProbe, Sid.udpAnswer])
        #expect(records.flows.first?.ghostport?["verdict"] as? String == "answered")
        #expect(records.flows.first?.ghostport?["seen"] as? String == "both")
        #expect(records.flows.first?.ghostport?["scan_kind"] == nil)
    }
}
