import Capture
import Flow
import Foundation
import TestSupport
import Testing
import Wire

/// Where the community-id-spec baseline and its pcaps live in the shared corpus.
/// The shared corpus beside the repository (`../shared/corpus`), or `$GHOSTPORT_CORPUS`: files
/// outside the repository, so a test that needs them is skipped where they are absent (CI too).
enum SpecCorpus {
    static let root: String = {
        if let env = ProcessInfo.processInfo.environment["GHOSTPORT_CORPUS"] { return env }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus").path
    }()
    static let baseline = root + "/expected/community-id-spec/baseline_deflt.json"
    static let pcaps = root + "/pcaps/community-id-spec"
    static var present: Bool { FileManager.default.fileExists(atPath: baseline) }
}

@Suite("Community ID")
struct CommunityIDTests {
    // Values from the spec's baseline (default seed 0), typed in so they run without the corpus.
    @Test("spec vectors")
    func specVectors() {
        let v4 = Packets.ipv4
        // TCP 128.232.110.120:34855 -> 66.35.250.204:80, both directions.
        #expect(CommunityID.compute(src: v4(128, 232, 110, 120), dst: v4(66, 35, 250, 204), proto: 6, sport: 34855, dport: 80)
            == "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        #expect(CommunityID.compute(src: v4(66, 35, 250, 204), dst: v4(128, 232, 110, 120), proto: 6, sport: 80, dport: 34855)
            == "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        // UDP DNS.
        #expect(CommunityID.compute(src: v4(192, 168, 1, 52), dst: v4(8, 8, 8, 8), proto: 17, sport: 54585, dport: 53)
            == "1:d/FP5EW3wiY1vCndhwleRRKHowQ=")
        // SCTP with equal ports.
        #expect(CommunityID.compute(src: v4(192, 168, 170, 56), dst: v4(192, 168, 170, 8), proto: 132, sport: 7, dport: 7)
            == "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=")
        // ICMP echo request (type 8) and reply (type 0): one ID.
        #expect(CommunityID.compute(src: v4(192, 168, 0, 89), dst: v4(192, 168, 0, 1), proto: 1, sport: 8, dport: 0)
            == "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
        #expect(CommunityID.compute(src: v4(192, 168, 0, 1), dst: v4(192, 168, 0, 89), proto: 1, sport: 0, dport: 0)
            == "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
        // ICMP time exceeded: one-way, code as dport.
        #expect(CommunityID.compute(src: v4(10, 0, 0, 1), dst: v4(10, 0, 0, 2), proto: 1, sport: 11, dport: 0)
            == "1:YHxtAirCG//0OzkcVAukqKQN9xM=")
        // RSVP: no ports (whatever is passed).
        #expect(CommunityID.compute(src: v4(10, 1, 12, 1), dst: v4(10, 1, 12, 2), proto: 46, sport: 1, dport: 2)
            == "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=")
        // ICMPv6 neighbour solicitation fe80::200:86ff:fe05:80da -> fe80::260:97ff:fe07:69ea.
        let a = Packets.ipv6(0xFE80_0000_0000_0000, 0x0200_86FF_FE05_80DA)
        let b = Packets.ipv6(0xFE80_0000_0000_0000, 0x0260_97FF_FE07_69EA)
        #expect(CommunityID.compute(src: a, dst: b, proto: 58, sport: 135, dport: 0) == "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=")
        #expect(CommunityID.compute(src: b, dst: a, proto: 58, sport: 136, dport: 0) == "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=")
    }

    @Test("the buffer variant writes the same 30 bytes")
    func bufferVariant() {
        var buffer = [UInt8](repeating: 0, count: 64)
        let written = buffer.withUnsafeMutableBytes {
            CommunityID.write(seed: 0, src: Packets.ipv4(192, 168, 1, 52), dst: Packets.ipv4(8, 8, 8, 8),
                              proto: 17, sport: 54585, dport: 53, into: $0)
        }
        #expect(written == CommunityID.encodedLength)
        #expect(String(decoding: buffer[0..<written], as: UTF8.self) == "1:d/FP5EW3wiY1vCndhwleRRKHowQ=")
        #expect(buffer[written] == 0)
    }

    @Test("a tracked flow's ID equals its packets' IDs")
    func flowID() throws {
        let table = FlowTable(capacity: 8, seed: 1)
        let packets = [
            Packets.tcp(Packets.ipv4(66, 35, 250, 204), 80, Packets.ipv4(128, 232, 110, 120), 34855, flags: TCPFlag.syn),
            Packets.icmp(Packets.ipv4(192, 168, 0, 1), Packets.ipv4(192, 168, 0, 89), type: 0),
            Packets.icmp(Packets.ipv4(10, 0, 0, 2), Packets.ipv4(10, 0, 0, 1), type: 11),
            Packets.ip(src: Packets.ipv4(10, 1, 12, 2), dst: Packets.ipv4(10, 1, 12, 1), proto: 46),
        ]
        for (seed, packet) in zip([UInt16(0), 1, 7, 65535], packets) {
            let tracked = try #require(table.track(packet, timestamp: 0, length: 1))
            let expected = try #require(CommunityID.compute(seed: seed, packet: packet))
            #expect(CommunityID.compute(seed: seed, flow: table[tracked.handle]) == expected)
            // Written in place (what alert records use), the same 30 bytes.
            var buffer = [UInt8](repeating: 0, count: 32)
            let written = buffer.withUnsafeMutableBytes { CommunityID.write(seed: seed, packet: packet, into: $0) }
            #expect(written == CommunityID.encodedLength)
            #expect(String(decoding: buffer[0..<written], as: UTF8.self) == expected)
        }
        #expect(CommunityID.compute(packet: DecodedPacket()) == nil)
        var buffer = [UInt8](repeating: 0, count: 32)
        #expect(buffer.withUnsafeMutableBytes { CommunityID.write(packet: DecodedPacket(), into: $0) } == 0)
    }

    @Test("the spec's baseline: every packet of its pcaps, every baseline flow",
          .enabled(if: SpecCorpus.present, "needs the shared corpus beside the repository (community-id-spec baseline)"))
    func baselinePcaps() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: SpecCorpus.baseline))
        let rows = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        // The baseline lists each distinct (proto, saddr, daddr, sport, dport) once, ICMP with
        // the port equivalents (type, counterpart or code) as the spec's tool prints them.
        var expected: [String: String] = [:]
        for row in rows {
            let proto = try #require(row["proto"] as? Int)
            let tuple = "\(proto) \(row["saddr"]!) \(row["daddr"]!) \(row["sport"] as? Int ?? -1) \(row["dport"] as? Int ?? -1)"
            expected[tuple] = try #require(row["communityid"] as? String)
        }
        #expect(expected.count == rows.count && rows.count == 23)

        var seen = Set<String>()
        var packetsChecked = 0
        let files = try FileManager.default.contentsOfDirectory(atPath: SpecCorpus.pcaps).filter { $0.hasSuffix(".pcap") }.sorted()
        #expect(files.count == 8)
        for file in files {
            let capture = try OfflineCapture(path: SpecCorpus.pcaps + "/" + file)
            var packet = DecodedPacket()
            while let record = capture.next() {
                Decoder.decode(record.bytes, linkType: capture.linkType, into: &packet)
                guard packet.hasIP else { continue }  // arp.pcap
                var sport = -1
                var dport = -1
                if packet.hasPorts {
                    (sport, dport) = (Int(packet.sport), Int(packet.dport))
                } else if packet.hasICMP {
                    let ports = ICMPMessage.portEquivalents(type: packet.icmpType, code: packet.icmpCode,
                                                            isICMPv6: packet.proto == IPProtocol.icmpv6)
                    (sport, dport) = (Int(ports.sport), Int(ports.dport))
                }
                let tuple = "\(packet.proto) \(packet.src) \(packet.dst) \(sport) \(dport)"
                let value = try #require(CommunityID.compute(packet: packet))
                #expect(expected[tuple] == value, "\(file): \(tuple)")
                seen.insert(tuple)
                packetsChecked += 1
            }
        }
        #expect(seen == Set(expected.keys), "baseline flows not met in the pcaps: \(Set(expected.keys).subtracting(seen))")
        #expect(packetsChecked > 23)
    }

    @Test("agrees with the PyPI communityid package on random tuples",
          Prerequisite.trait(PythonCommunityID.unmet))
    func againstPython() throws {
        try Prerequisite.require(PythonCommunityID.unmet)
        var rng = SplitMix64(seed: 0xC0FFEE)
        struct Case {
            var seed: UInt16
            var proto: UInt8
            var src: IPAddress
            var dst: IPAddress
            var sport: UInt16
            var dport: UInt16
        }
        func address(_ v6: Bool) -> IPAddress {
            // Few distinct values in places, so equal addresses and prefixes happen.
            if v6 {
                return IPAddress(high: rng.next() % 4 == 0 ? 0x2001_0db8 << 32 : rng.next(),
                                 low: rng.next() % 4 == 0 ? rng.next() % 3 : rng.next(), isIPv6: true)
            }
            return IPAddress(ipv4: rng.next() % 4 == 0 ? 0x0A00_0000 | UInt32(rng.next() % 3) : UInt32(truncatingIfNeeded: rng.next()))
        }
        var cases: [Case] = []
        let protos: [UInt8] = [6, 17, 132, 1, 58, 46, 47, 50, 0, 255]
        for i in 0..<4000 {
            let proto = protos[Int(rng.next() % UInt64(protos.count))]
            let v6 = proto == 58 || (proto != 1 && rng.next() % 2 == 0)
            let src = address(v6)
            let dst = rng.next() % 16 == 0 ? src : address(v6)
            var sport = UInt16(truncatingIfNeeded: rng.next())
            var dport = rng.next() % 8 == 0 ? sport : UInt16(truncatingIfNeeded: rng.next())
            if proto == 1 || proto == 58 {
                // Types across the whole byte, half of them from the pairing tables.
                let paired: [UInt8] = proto == 1 ? [0, 8, 9, 10, 13, 14, 15, 16, 17, 18] : [128, 129, 130, 131, 133, 134, 135, 136, 139, 140, 144, 145]
                sport = rng.next() % 2 == 0 ? UInt16(paired[Int(rng.next() % UInt64(paired.count))]) : UInt16(rng.next() % 256)
                dport = UInt16(rng.next() % 256)
            }
            let seed: UInt16 = i % 3 == 0 ? 0 : UInt16(truncatingIfNeeded: rng.next())
            cases.append(Case(seed: seed, proto: proto, src: src, dst: dst, sport: sport, dport: dport))
        }
        let lines = cases.map { c in
            let ports = CommunityID.hasPorts(proto: c.proto) ? "\(c.sport) \(c.dport)" : "- -"
            return "\(c.seed) \(c.proto) \(c.src) \(c.dst) \(ports)"
        }
        let theirs = try PythonCommunityID.run(lines)
        #expect(theirs.count == cases.count)
        var mismatches = 0
        for (c, (line, expected)) in zip(cases, zip(lines, theirs)) {
            let ours = CommunityID.compute(seed: c.seed, src: c.src, dst: c.dst, proto: c.proto, sport: c.sport, dport: c.dport)
            if ours != expected {
                mismatches += 1
                if mismatches <= 10 { Issue.record("\(line): ours \(ours), communityid \(expected)") }
            }
        }
        #expect(mismatches == 0)
    }
}

/// Runs the PyPI `communityid` package over tuples, one per line: `seed proto saddr daddr sport dport`
/// (`- -` for no ports).
enum PythonCommunityID {
    static let script = """
        import sys, communityid
        out = []
        for line in open(sys.argv[1]):
            seed, proto, saddr, daddr, sport, dport = line.split()
            if sport == '-':
                tpl = communityid.FlowTuple(int(proto), saddr, daddr)
            else:
                tpl = communityid.FlowTuple(int(proto), saddr, daddr, int(sport), int(dport))
            out.append(communityid.CommunityID(seed=int(seed)).calc(tpl))
        sys.stdout.write('\\n'.join(out) + '\\n')
        """

    /// The reference implementation, PyPI's `communityid`, for Debian's python3 (`.ci/run` installs it).
    static let unmet: String? = Prerequisite.pythonModule(
        "communityid", install: "\(Prerequisite.python) -m pip install --break-system-packages communityid")

    static func run(_ lines: [String]) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ghostport-cid-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tuples = directory.appendingPathComponent("tuples.txt")
        let program = directory.appendingPathComponent("cid.py")
        try (lines.joined(separator: "\n") + "\n").write(to: tuples, atomically: true, encoding: .utf8)
        try script.write(to: program, atomically: true, encoding: .utf8)
        let result = try python([program.path, tuples.path])
        #expect(result.status == 0, "python failed: \(result.error)")
        return result.output.split(separator: "\n").map(String.init)
    }

    private static func python(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Prerequisite.python)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting: a full pipe would block the child.
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }
}
