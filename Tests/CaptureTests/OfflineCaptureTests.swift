import Capture
import Foundation
import Testing
import TestSupport
import Wire

/// TestSupport's record to build files; Capture has its own `CaptureRecord` for what it reads.
private typealias Built = TestSupport.CaptureRecord

/// One record as read, its bytes copied out of libpcap's buffer before the next read.
private struct ReadRecord: Equatable {
    var seconds: Int64
    var nanoseconds: UInt32
    var originalLength: Int
    var bytes: [UInt8]
}

/// Every record of `capture`, until `next()` returns nil.
private func readAll(_ capture: OfflineCapture) -> [ReadRecord] {
    var records: [ReadRecord] = []
    while let record = capture.next() {
        records.append(ReadRecord(seconds: record.seconds, nanoseconds: record.nanoseconds,
                                  originalLength: record.originalLength, bytes: Array(record.bytes)))
    }
    return records
}

private let ipv4SYN = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 1234, dport: 571))
private let ipv6UDP = Network.ipv6(src: "2001:db8::1", dst: "2001:db8::2", .udp(sport: 5353, dport: 53, payload: [1, 2, 3]))

/// Three Ethernet frames of different lengths, sub-second parts that show the precision kept.
private let records = [
    Built(Packet.ethernet(ipv4SYN), seconds: 1_750_000_000, nanoseconds: 123_456_789),
    Built(Packet.ethernet(ipv6UDP), seconds: 1_750_000_001, nanoseconds: 1),
    Built(Packet.ethernet(minimumLength: 60, ipv4SYN), seconds: 1_750_000_002, nanoseconds: 999_999_999),
]

@Suite("OfflineCapture reading whole files")
struct OfflineCaptureReadingTests {
    @Test("pcap with microseconds: nanoseconds are the microseconds times 1000")
    func pcapMicroseconds() throws {
        let dir = try TempDirectory()
        let path = dir.file("micro.pcap")
        try CaptureFile(format: .pcap, precision: .microseconds, linkType: .ethernet, records: records).write(to: path)
        let capture = try OfflineCapture(path: path)
        let read = readAll(capture)
        #expect(read.map(\.seconds) == [1_750_000_000, 1_750_000_001, 1_750_000_002])
        #expect(read.map(\.nanoseconds) == [123_456_000, 0, 999_999_000])
        #expect(read.map(\.bytes) == records.map(\.bytes))
        #expect(read.map(\.originalLength) == records.map(\.bytes.count))
        #expect(capture.end == .endOfFile)
        #expect(capture.packetsRead == 3)
        #expect(capture.linkType == .ethernet && capture.linkTypeName == "EN10MB")
        let size = Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
        #expect(capture.fileSize == size && capture.bytesRead == size)
    }

    @Test("pcap with nanoseconds: nanoseconds exact")
    func pcapNanoseconds() throws {
        let dir = try TempDirectory()
        let path = dir.file("nano.pcap")
        try CaptureFile(format: .pcap, precision: .nanoseconds, linkType: .ethernet, records: records).write(to: path)
        let capture = try OfflineCapture(path: path)
        let read = readAll(capture)
        #expect(read.map(\.seconds) == [1_750_000_000, 1_750_000_001, 1_750_000_002])
        #expect(read.map(\.nanoseconds) == [123_456_789, 1, 999_999_999])
        #expect(read.map(\.bytes) == records.map(\.bytes))
        #expect(capture.end == .endOfFile)
    }

    @Test("pcapng with if_tsresol 6 and 9", arguments: [
        (CaptureFile.Precision.microseconds, [UInt32(123_456_000), 0, 999_999_000]),
        (CaptureFile.Precision.nanoseconds, [UInt32(123_456_789), 1, 999_999_999]),
    ])
    func pcapng(precision: CaptureFile.Precision, nanoseconds: [UInt32]) throws {
        let dir = try TempDirectory()
        let path = dir.file("file.pcapng")
        try CaptureFile(format: .pcapng, precision: precision, linkType: .ethernet, records: records).write(to: path)
        let capture = try OfflineCapture(path: path)
        let read = readAll(capture)
        #expect(read.map(\.seconds) == [1_750_000_000, 1_750_000_001, 1_750_000_002])
        #expect(read.map(\.nanoseconds) == nanoseconds)
        #expect(read.map(\.bytes) == records.map(\.bytes))
        #expect(capture.end == .endOfFile)
        #expect(capture.linkTypeName == "EN10MB")
    }

    @Test("a snapped record keeps its original length")
    func snapped() throws {
        let dir = try TempDirectory()
        let path = dir.file("snapped.pcap")
        let frame = Packet.ethernet(minimumLength: 100, ipv4SYN)
        try CaptureFile(snapLength: 40, records: [Built(frame)]).write(to: path)
        let read = readAll(try OfflineCapture(path: path))
        #expect(read == [ReadRecord(seconds: 1_700_000_000, nanoseconds: 0, originalLength: 100, bytes: Array(frame.prefix(40)))])
    }

    @Test("an empty capture ends at once")
    func noRecords() throws {
        let dir = try TempDirectory()
        let path = dir.file("empty.pcap")
        try CaptureFile(linkType: .ethernet, records: []).write(to: path)
        let capture = try OfflineCapture(path: path)
        #expect(capture.next() == nil)
        #expect(capture.end == .endOfFile && capture.packetsRead == 0)
    }

    /// Each link type the decoder supports, the value written in the file, and what libpcap reports.
    @Test("link type and its libpcap name", arguments: [
        (Int32(0), Int32(0), "NULL"),
        (1, 1, "EN10MB"),
        (101, 12, "RAW"),  // LINKTYPE_RAW in a file is DLT_RAW (12) on Linux
        (108, 108, "LOOP"),
        (113, 113, "LINUX_SLL"),
        (228, 228, "IPV4"),
        (229, 229, "IPV6"),
        (276, 276, "LINUX_SLL2"),
    ])
    func linkTypes(written: Int32, reported: Int32, name: String) throws {
        for format in [CaptureFile.Format.pcap, .pcapng] {
            let dir = try TempDirectory()
            let path = dir.file("linktype")
            try CaptureFile(format: format, linkType: DataLinkType(rawValue: written), records: [Built(Packet.raw(ipv4SYN))]).write(to: path)
            let capture = try OfflineCapture(path: path)
            #expect(capture.linkType == LinkType(rawValue: reported), "\(format)")
            #expect(capture.linkTypeName == name, "\(format)")
            #expect(readAll(capture).map(\.bytes) == [Packet.raw(ipv4SYN)])
            #expect(capture.end == .endOfFile)
        }
    }
}

@Suite("OfflineCapture on cut-off files")
struct OfflineCaptureTruncationTests {
    /// Where record `index` starts in a classic pcap file of `records`, counted from the frames alone.
    private func pcapRecordStart(_ index: Int) -> Int64 {
        Int64(24 + records.prefix(index).reduce(0) { $0 + 16 + $1.bytes.count })
    }

    @Test("classic pcap cut inside a record header or its data", arguments: [
        (Int(1), true), (1, false), (2, true), (2, false), (0, true), (0, false),
    ])
    func classic(index: Int, insideHeader: Bool) throws {
        for precision in [CaptureFile.Precision.microseconds, .nanoseconds] {
            let dir = try TempDirectory()
            let path = dir.file("cut.pcap")
            let file = CaptureFile(format: .pcap, precision: precision, records: records)
            try file.writeTruncated(to: path, inRecord: index, insideHeader: insideHeader)
            let capture = try OfflineCapture(path: path)
            let read = readAll(capture)
            #expect(read.map(\.bytes) == records.prefix(index).map(\.bytes))
            #expect(capture.packetsRead == index)
            guard case .truncated(let offset, let reason) = capture.end else {
                Issue.record("expected a truncated end, got \(String(describing: capture.end))")
                continue
            }
            #expect(offset == pcapRecordStart(index))
            #expect(reason.contains("truncated"))
            #expect(capture.next() == nil)  // stays ended
        }
    }

    @Test("pcapng cut inside a block: the packets before it and a truncated end", arguments: [
        (Int(1), true), (1, false), (2, true), (2, false),
    ])
    func pcapng(index: Int, insideHeader: Bool) throws {
        let dir = try TempDirectory()
        let path = dir.file("cut.pcapng")
        let file = CaptureFile(format: .pcapng, precision: .nanoseconds, records: records)
        try file.writeTruncated(to: path, inRecord: index, insideHeader: insideHeader)
        let capture = try OfflineCapture(path: path)
        let read = readAll(capture)
        #expect(read.map(\.bytes) == records.prefix(index).map(\.bytes))
        guard case .truncated(let offset, _) = capture.end else {
            Issue.record("expected a truncated end, got \(String(describing: capture.end))")
            return
        }
        // SHB (28) and IDB (32), then one EPB per record: 32 bytes and the frame padded to 4.
        let start = 28 + 32 + records.prefix(index).reduce(0) { $0 + 32 + ($1.bytes.count + 3) / 4 * 4 }
        #expect(offset == Int64(start))
    }
}

@Suite("OfflineCapture open errors")
struct OfflineCaptureOpenErrorTests {
    private func openFailure(_ path: String) -> CaptureError? {
        do {
            _ = try OfflineCapture(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test("not a capture: empty, text, bad magic, a directory", arguments: ["empty", "text", "badmagic", "dir"])
    func notACapture(kind: String) throws {
        let dir = try TempDirectory()
        let path: String
        switch kind {
        case "empty": path = try dir.write("empty.pcap", [])
        case "text": path = try dir.write("notes.pcap", Array("frame,ts,linktype\nthis is not a capture\n".utf8))
        case "badmagic":
            var bytes = CaptureFile(records: records).bytes()
            bytes.replaceSubrange(0..<4, with: [0xDE, 0xAD, 0xBE, 0xEF])
            path = try dir.write("bad.pcap", bytes)
        default:
            path = dir.file("sub")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        let error = openFailure(path)
        guard case .openFailed(let failedPath, let reason) = error else {
            Issue.record("expected openFailed, got \(String(describing: error))")
            return
        }
        #expect(failedPath == path)
        #expect(!reason.isEmpty)
        #expect(error?.description == "\(path): \(reason)")
        if kind == "dir" { #expect(reason == "is a directory") }
    }

    @Test("a missing path is notFound", arguments: ["missing.pcap", "missing-dir/x.pcap", "file.pcap/x.pcap"])
    func missing(name: String) throws {
        let dir = try TempDirectory()
        try CaptureFile(records: records).write(to: dir.file("file.pcap"))
        let path = dir.file(name)
        let error = openFailure(path)
        #expect(error == .notFound(path: path))
        #expect(error?.description == "\(path): no such file or directory")
    }

    @Test("an unsupported link type is named", arguments: [
        (Int32(105), "IEEE802_11"), (127, "IEEE802_11_RADIO"), (9, "PPP"),
    ])
    func unsupportedLinkType(value: Int32, name: String) throws {
        let dir = try TempDirectory()
        let path = dir.file("wifi.pcap")
        try CaptureFile(linkType: DataLinkType(rawValue: value), records: [Built([0, 1, 2, 3])]).write(to: path)
        let error = openFailure(path)
        #expect(error == .unsupportedLinkType(path: path, linkType: LinkType(rawValue: value), name: name))
        #expect(error?.description == "\(path): unsupported link type \(name) (\(value)), skipped")
    }
}

@Suite("CaptureInputs.expand")
struct CaptureInputsTests {
    /// A classic big-endian pcap header with no records.
    private let bigEndianPcap: [UInt8] = [0xA1, 0xB2, 0xC3, 0xD4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1]

    /// A directory of capture files mixed with files that are not captures.
    private func populated() throws -> TempDirectory {
        let dir = try TempDirectory()
        try CaptureFile(format: .pcap, precision: .microseconds, records: records).write(to: dir.file("b.pcap"))
        try CaptureFile(format: .pcapng, records: records).write(to: dir.file("a.pcapng"))
        try CaptureFile(format: .pcap, precision: .nanoseconds, records: records).write(to: dir.file("c.cap"))
        try dir.write("d-bigendian", bigEndianPcap)
        try dir.write("README.txt", Array("not a capture\n".utf8))
        try dir.write("empty.pcap", [])
        try dir.write("short.pcap", [0xD4, 0xC3])
        try CaptureFile(records: records).write(to: dir.file(".hidden.pcap"))
        try FileManager.default.createDirectory(atPath: dir.file("sub.pcap"), withIntermediateDirectories: false)
        try CaptureFile(records: records).write(to: dir.file("sub.pcap/inner.pcap"))
        return dir
    }

    @Test("a directory: capture files by magic number, sorted by name, others and hidden files skipped")
    func directory() throws {
        let dir = try populated()
        let expected = ["a.pcapng", "b.pcap", "c.cap", "d-bigendian"].map { CaptureInputs.Input(path: dir.file($0)) }
        let plain = CaptureInputs.expand([dir.path])
        #expect(plain.inputs == expected)
        #expect(plain.errors.isEmpty)
        #expect(plain.skipped == [
            "\(dir.file("README.txt")): skipped: not a pcap or pcapng file",
            "\(dir.file("empty.pcap")): skipped: empty file",
            "\(dir.file("short.pcap")): skipped: not a pcap or pcapng file",
            "\(dir.file("sub.pcap")): skipped: a directory (--recursive reads it)",
        ])
        let deep = CaptureInputs.expand([dir.path], recursive: true)
        #expect(deep.inputs == expected + [CaptureInputs.Input(path: dir.file("sub.pcap/inner.pcap"))])
        let slashed = CaptureInputs.expand([dir.path + "/"])
        #expect(slashed.inputs == expected)
    }

    @Test("paths keep their order; named files are taken as they are; - is standard input")
    func order() throws {
        let dir = try populated()
        let result = CaptureInputs.expand([dir.file("README.txt"), dir.path, "-", dir.file("b.pcap")])
        #expect(result.inputs.map(\.path) == [dir.file("README.txt")]
            + ["a.pcapng", "b.pcap", "c.cap", "d-bigendian"].map(dir.file) + ["-", dir.file("b.pcap")])
        #expect(result.errors.isEmpty)
    }

    @Test("a missing path is an error, the others still expand")
    func missing() throws {
        let dir = try populated()
        let missing = dir.file("nowhere")
        let alone = CaptureInputs.expand([missing])
        #expect(alone.inputs.isEmpty)
        #expect(alone.errors == [.notFound(path: missing)])
        let mixed = CaptureInputs.expand([missing, dir.file("c.cap")])
        #expect(mixed.inputs == [CaptureInputs.Input(path: dir.file("c.cap"))])
        #expect(mixed.errors == [.notFound(path: missing)])
    }

    @Test("an empty directory expands to nothing, and says so")
    func emptyDirectory() throws {
        let dir = try TempDirectory()
        let result = CaptureInputs.expand([dir.path])
        #expect(result.inputs.isEmpty)
        #expect(result.errors == [.openFailed(path: dir.path, reason: "no capture files in it (--recursive reads its sub-directories)")])
    }
}
