import Foundation
import Testing
import TestSupport

/// The scenario generator on its own: the same configuration gives the same bytes, its truth
/// adds up, and tshark (an independent reader) sees well-formed packets and the SYNs it claims.
@Suite struct ScenarioTests {
    @Test("the same seed gives byte-identical captures and truths; another seed does not")
    func deterministic() throws {
        let dir = try TempDirectory()
        let one = try Scenario(Scenario.Configuration(seed: 9, packets: 8_000)).write(to: dir.path, name: "one")
        let two = try Scenario(Scenario.Configuration(seed: 9, packets: 8_000)).write(to: dir.path, name: "two")
        let other = try Scenario(Scenario.Configuration(seed: 10, packets: 8_000)).write(to: dir.path, name: "other")
        #expect(one == two)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("one.pcap"))) == Data(contentsOf: URL(fileURLWithPath: dir.file("two.pcap"))))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("one.truth.json")))
            == Data(contentsOf: URL(fileURLWithPath: dir.file("two.truth.json"))))
        #expect(one.watchedFlows != other.watchedFlows)
    }

    @Test("the truth adds up: per-port counts are its flow list's, packets near what was asked, scanners and near misses apart")
    func truthAddsUp() throws {
        let dir = try TempDirectory()
        let truth = try Scenario(Scenario.Configuration(seed: 4, packets: 30_000)).write(to: dir.path, name: "s")
        #expect(truth.packets >= 30_000 && truth.packets < 30_100)
        var counts: [String: Scenario.PortCounts] = [:]
        for flow in truth.watchedFlows {
            var c = counts["\(flow.serverPort)/\(flow.proto.rawValue)", default: Scenario.PortCounts()]
            c.flows += 1
            switch flow.verdict {
            case .unanswered: c.unanswered += 1
            case .rejected: c.rejected += 1
            case .answered: c.answered += 1
            }
            counts["\(flow.serverPort)/\(flow.proto.rawValue)"] = c
        }
        for (port, want) in truth.watched {
            var got = counts[port, default: Scenario.PortCounts()]
            got.synPackets = want.synPackets
            #expect(got == want, "\(port)")
        }
        #expect(Set(truth.watchedFlows.map(\.verdict)) == [.unanswered, .rejected, .answered])
        #expect(truth.scanners.count == 3 && truth.nearMisses.count == 2 && Set(truth.scanners).isDisjoint(with: truth.nearMisses))
        // Every watched flow's client sends no other watched flow, but scanners and near misses.
        var byClient: [String: Int] = [:]
        for flow in truth.watchedFlows { byClient[flow.client, default: 0] += 1 }
        for (client, flows) in byClient where flows > 1 {
            #expect(truth.scanners.contains(client) || truth.nearMisses.contains(client), "\(client) sent \(flows) watched flows")
        }
        let file = try Data(contentsOf: URL(fileURLWithPath: dir.file("s.pcap")))
        #expect(file.prefix(4) == Data([0xD4, 0xC3, 0xB2, 0xA1]), "a little-endian microsecond pcap")
    }

    static let tshark = "/usr/bin/tshark"
    static var tsharkUnmet: String? { FileManager.default.isExecutableFile(atPath: tshark) ? nil : "\(tshark) is missing (apt-get install -y tshark)" }

    @Test("tshark reads every packet cleanly and counts the SYNs to each watched TCP port the truth claims",
          Prerequisite.trait(ScenarioTests.tsharkUnmet))
    func tsharkAgrees() throws {
        try Prerequisite.require(Self.tsharkUnmet)
        let dir = try TempDirectory()
        let truth = try Scenario(Scenario.Configuration(seed: 5, packets: 20_000)).write(to: dir.path, name: "s")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.tshark)
        process.arguments = ["-n", "-r", dir.file("s.pcap"), "-T", "fields", "-E", "separator=/t",
                             "-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack",
                             "-e", "tcp.dstport", "-e", "icmp.type", "-e", "icmpv6.type", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                             "-o", "ip.check_checksum:TRUE"]
        let output = dir.file("tshark.txt")
        #expect(FileManager.default.createFile(atPath: output, contents: nil))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let rows = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        #expect(rows.count == truth.packets)
        #expect(rows.filter { !$0[0].isEmpty }.isEmpty, "malformed packets")
        var syns: [String: Int] = [:]
        // Not the SYNs an ICMP error quotes, which tshark dissects too.
        for row in rows where row.count >= 7 && row[2] == "1" && row[3] == "0" && row[5].isEmpty && row[6].isEmpty {
            syns[row[4] + "/tcp", default: 0] += 1
        }
        for (port, counts) in truth.watched where port.hasSuffix("/tcp") {
            #expect(syns[port, default: 0] == counts.synPackets, "\(port): tshark \(syns[port, default: 0]), truth \(counts.synPackets)")
        }
    }
}
