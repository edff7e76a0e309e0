import Foundation
import Testing
import TestSupport
import Wire

/// Row lines for `Sample.probe` and `Sample.tcp6` over Ethernet as frame `frame` at `CaptureFile(frames:)`'s times.
private func probeRow(_ frame: Int, linkType: String = "EN10MB") -> String {
    "\(frame),1700000000.\(String(format: "%03d", frame - 1))000000,\(linkType),45.77.1.9,192.168.4.20,6,40001,571,0x0002,,"
}

private func tcp6Row(_ frame: Int, linkType: String = "EN10MB") -> String {
    "\(frame),1700000000.\(String(format: "%03d", frame - 1))000000,\(linkType),2001:db8::1,2001:db8:0:1::53,6,40003,571,0x0018,,"
}

/// The lines of standard error that are warnings, not the summary.
private func warnings(_ result: ProcessOutput) -> [String] {
    result.errorLines.filter { $0.hasPrefix("ghostport: ") }
}

@Suite("decode: inputs and exit status")
struct DecodeInputTests {
    @Test("several files in order, frame restarting at 1 in each, one header")
    func severalFiles() throws {
        let dir = try TempDirectory()
        let first = try dir.write("z-first.pcap", CaptureFile(frames: [Packet.ethernet(Sample.probe), Packet.ethernet(Sample.tcp6)]))
        let second = try dir.write("a-second.pcapng", CaptureFile(format: .pcapng, linkType: .linuxSLL, frames: [Packet.sll(Sample.probe)]))
        let third = try dir.write("m-third.pcap", CaptureFile(precision: .nanoseconds, frames: [
            Packet.ethernet(Sample.tcp6), Packet.ethernet(Sample.probe), Packet.ethernet(Sample.tcp6),
        ]))
        let result = try Tool.ghostport(["decode", first, second, third])
        #expect(result.lines == [
            csvHeader, probeRow(1), tcp6Row(2), probeRow(1, linkType: "LINUX_SLL"), tcp6Row(1), probeRow(2), tcp6Row(3),
        ])
        #expect(result.status == 0)
        #expect(warnings(result) == [])
        let bytes = 2 * Packet.ethernet(Sample.probe).count + 3 * Packet.ethernet(Sample.tcp6).count + Packet.sll(Sample.probe).count
        #expect(result.errorLines.first == "decoded 6 frames, \(bytes) bytes, from 3 files")
    }

    @Test("a directory: its capture files sorted by name, others skipped")
    func directory() throws {
        let dir = try TempDirectory()
        try dir.write("b.pcap", CaptureFile(frames: [Packet.ethernet(Sample.probe)]))
        try dir.write("a.pcapng", CaptureFile(format: .pcapng, frames: [Packet.ethernet(Sample.tcp6), Packet.ethernet(Sample.probe)]))
        try dir.write("notes.txt", Array("not a capture\n".utf8))
        try dir.write(".hidden.pcap", CaptureFile(frames: [Packet.ethernet(Sample.udp4)]))
        try dir.write("empty.pcap", [])
        try FileManager.default.createDirectory(atPath: dir.file("more"), withIntermediateDirectories: false)
        try dir.write("more/c.pcap", CaptureFile(frames: [Packet.ethernet(Sample.tcp6)]))
        let result = try Tool.ghostport(["decode", dir.path])
        #expect(result.lines == [csvHeader, tcp6Row(1), probeRow(2), probeRow(1)])
        #expect(result.status == 0)
        #expect(warnings(result) == [
            "ghostport: \(dir.file("empty.pcap")): skipped: empty file",
            "ghostport: \(dir.file("more")): skipped: a directory (--recursive reads it)",
            "ghostport: \(dir.file("notes.txt")): skipped: not a pcap or pcapng file",
        ])
        #expect(result.errorLines.contains("decoded 3 frames, \(74 + 54 + 54) bytes, from 2 files"))
        // --recursive reads the sub-directory in its place in the name order.
        let deep = try Tool.ghostport(["decode", "--recursive", dir.path])
        #expect(deep.lines == [csvHeader, tcp6Row(1), probeRow(2), probeRow(1), tcp6Row(1)])
        #expect(deep.status == 0)
        // A directory with nothing to read is a problem, not a success.
        let nothing = try TempDirectory()
        try FileManager.default.createDirectory(atPath: nothing.file("sub"), withIntermediateDirectories: false)
        let none = try Tool.ghostport(["decode", nothing.path])
        #expect(none.status == 1)
        #expect(warnings(none).last == "ghostport: \(nothing.path): no capture files in it (--recursive reads its sub-directories)")
    }

    @Test("- reads standard input", arguments: [CaptureFile.Format.pcap, .pcapng])
    func standardInput(format: CaptureFile.Format) throws {
        let dir = try TempDirectory()
        let path = try dir.write("stdin", CaptureFile(format: format, frames: [Packet.ethernet(Sample.probe), Packet.ethernet(Sample.tcp6)]))
        let result = try Tool.ghostport(["decode", "-"], stdinPath: path)
        #expect(result.lines == [csvHeader, probeRow(1), tcp6Row(2)])
        #expect(result.status == 0)
        let json = try Tool.ghostport(["decode", "--format", "json", "-"], stdinPath: path)
        #expect(json.lines.count == 2 && json.lines.allSatisfy { $0.hasPrefix("{\"file\":\"-\",\"frame\":") })
    }

    @Test("- through a pipe: a cut-off pcap still names the offset, a cut-off pcapng the packet count")
    func standardInputPipe() throws {
        let frames = [Packet.ethernet(Sample.probe), Packet.ethernet(Sample.tcp6), Packet.ethernet(Sample.probe)]
        let whole = try Tool.ghostport(["decode", "-"], stdinPipe: CaptureFile(frames: frames).bytes())
        #expect(whole.lines == [csvHeader, probeRow(1), tcp6Row(2), probeRow(3)])
        #expect(whole.status == 0)

        let pcap = try Tool.ghostport(["decode", "-"], stdinPipe: CaptureFile(frames: frames).truncated(inRecord: 2))
        #expect(pcap.lines == [csvHeader, probeRow(1), tcp6Row(2)])
        #expect(pcap.status == 1)
        #expect(warnings(pcap).count == 1)
        #expect(warnings(pcap).first?.hasPrefix("ghostport: -: truncated at byte offset \(recordStart(frames, 2)), 2 packets read before the cut") == true,
                "\(warnings(pcap))")

        let pcapng = try Tool.ghostport(["decode", "-"], stdinPipe: CaptureFile(format: .pcapng, frames: frames).truncated(inRecord: 2))
        #expect(pcapng.lines == [csvHeader, probeRow(1), tcp6Row(2)])
        #expect(pcapng.status == 1)
        #expect(warnings(pcapng).count == 1)
        #expect(warnings(pcapng).first?.hasPrefix("ghostport: -: truncated after packet 2, 2 packets read before the cut") == true,
                "\(warnings(pcapng))")
    }

    @Test("- with nothing or text on standard input: one line naming -, exit 1")
    func standardInputNotACapture() throws {
        for input in [[], Array("hello\n".utf8)] {
            let result = try Tool.ghostport(["decode", "-"], stdinPipe: input)
            #expect(result.lines == [csvHeader])
            #expect(result.status == 1)
            #expect(warnings(result).count == 1 && warnings(result).first?.hasPrefix("ghostport: -: ") == true, "\(warnings(result))")
        }
    }

    @Test("standard input between files, in order")
    func standardInputAmongFiles() throws {
        let dir = try TempDirectory()
        let file = try dir.write("file.pcap", CaptureFile(frames: [Packet.ethernet(Sample.probe)]))
        let stdin = try dir.write("stdin.pcap", CaptureFile(frames: [Packet.ethernet(Sample.tcp6)]))
        let result = try Tool.ghostport(["decode", file, "-", file], stdinPath: stdin)
        #expect(result.lines == [csvHeader, probeRow(1), tcp6Row(1), probeRow(1)])
        #expect(result.status == 0)
    }

    /// Where record `index` starts in a classic pcap of `frames`.
    private func recordStart(_ frames: [[UInt8]], _ index: Int) -> Int {
        24 + frames.prefix(index).reduce(0) { $0 + 16 + $1.count }
    }

    @Test("a cut-off file: rows before the cut, one warning with the offset, exit 1, later files still read",
          arguments: [false, true])
    func truncated(insideHeader: Bool) throws {
        let dir = try TempDirectory()
        let frames = [Packet.ethernet(Sample.probe), Packet.ethernet(Sample.tcp6), Packet.ethernet(Sample.probe)]
        let cut = dir.file("cut.pcap")
        try CaptureFile(frames: frames).writeTruncated(to: cut, inRecord: 2, insideHeader: insideHeader)
        let whole = try dir.write("whole.pcap", CaptureFile(frames: [Packet.ethernet(Sample.tcp6)]))
        let result = try Tool.ghostport(["decode", cut, whole])
        #expect(result.lines == [csvHeader, probeRow(1), tcp6Row(2), tcp6Row(1)])
        #expect(result.status == 1)
        let lines = warnings(result)
        #expect(lines.count == 1)
        let prefix = "ghostport: \(cut): truncated at byte offset \(recordStart(frames, 2)), 2 packets read before the cut"
        #expect(lines.first?.hasPrefix(prefix) == true, "\(lines)")
    }

    @Test("a cut-off pcapng names the offset of the cut block")
    func truncatedPcapng() throws {
        let dir = try TempDirectory()
        let frames = [Packet.ethernet(Sample.probe), Packet.ethernet(Sample.tcp6)]
        let cut = dir.file("cut.pcapng")
        try CaptureFile(format: .pcapng, frames: frames).writeTruncated(to: cut, inRecord: 1)
        let result = try Tool.ghostport(["decode", cut])
        #expect(result.lines == [csvHeader, probeRow(1)])
        #expect(result.status == 1)
        let offset = 28 + 32 + 32 + (frames[0].count + 3) / 4 * 4
        #expect(warnings(result).count == 1)
        #expect(warnings(result).first?.hasPrefix("ghostport: \(cut): truncated at byte offset \(offset), 1 packets read before the cut") == true,
                "\(warnings(result))")
    }

    @Test("not a capture: one line naming it, exit 1, the other files still decoded",
          arguments: ["text", "empty", "magic"])
    func notACapture(kind: String) throws {
        let dir = try TempDirectory()
        let bad: String
        switch kind {
        case "text": bad = try dir.write("notes.pcap", Array("hello, this is text\n".utf8))
        case "empty": bad = try dir.write("empty.pcap", [])
        default:
            var bytes = CaptureFile(frames: [Packet.ethernet(Sample.probe)]).bytes()
            bytes.replaceSubrange(0..<4, with: [0x00, 0x11, 0x22, 0x33])
            bad = try dir.write("badmagic.pcap", bytes)
        }
        let good = try dir.write("good.pcap", CaptureFile(frames: [Packet.ethernet(Sample.probe)]))
        let result = try Tool.ghostport(["decode", good, bad, good])
        #expect(result.lines == [csvHeader, probeRow(1), probeRow(1)])
        #expect(result.status == 1)
        let lines = warnings(result)
        #expect(lines.count == 1 && lines.first?.hasPrefix("ghostport: \(bad): ") == true, "\(lines)")
        if kind == "empty" { #expect(lines == ["ghostport: \(bad): empty file"]) }
        #expect(result.errorLines.contains("decoded 2 frames, 108 bytes, from 2 files (1 could not be read)"))
    }

    @Test("an unsupported link type: one line naming it, the others go on, exit 1")
    func unsupportedLinkType() throws {
        let dir = try TempDirectory()
        let wifi = try dir.write("wifi.pcap", CaptureFile(linkType: DataLinkType(rawValue: 105), frames: [[0x08, 0, 0, 0]]))
        let good = try dir.write("good.pcap", CaptureFile(frames: [Packet.ethernet(Sample.probe)]))
        let result = try Tool.ghostport(["decode", wifi, good])
        #expect(result.lines == [csvHeader, probeRow(1)])
        #expect(result.status == 1)
        #expect(warnings(result) == ["ghostport: \(wifi): unsupported link type IEEE802_11 (105), skipped"])
    }

    @Test("a missing path: exit 2, named once, the other inputs still decoded")
    func missingPath() throws {
        let dir = try TempDirectory()
        let missing = dir.file("nowhere.pcap")
        let good = try dir.write("good.pcap", CaptureFile(frames: [Packet.ethernet(Sample.probe)]))
        let alone = try Tool.ghostport(["decode", missing])
        #expect(alone.status == 2)
        #expect(warnings(alone) == ["ghostport: \(missing): no such file or directory"])
        let mixed = try Tool.ghostport(["decode", missing, good])
        #expect(mixed.status == 2)
        #expect(mixed.lines == [csvHeader, probeRow(1)])
        #expect(warnings(mixed) == ["ghostport: \(missing): no such file or directory"])
    }

    @Test("a missing path outranks a cut-off file: exit 2")
    func missingAndTruncated() throws {
        let dir = try TempDirectory()
        let cut = dir.file("cut.pcap")
        try CaptureFile(frames: [Packet.ethernet(Sample.probe), Packet.ethernet(Sample.probe)]).writeTruncated(to: cut, inRecord: 1)
        let result = try Tool.ghostport(["decode", cut, dir.file("nowhere")])
        #expect(result.status == 2)
        #expect(warnings(result).count == 2)
    }
}
