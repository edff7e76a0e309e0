import Foundation
import Output
import Testing
import TestSupport
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Evidence retention: under `max_files` and `max_mib`, oldest first, earlier runs' files too,
/// never the file being written; every removal counted.
@Suite struct EvidenceRetentionTests {
    static let packet = [UInt8](repeating: 0xAB, count: 100)

    static func write(_ writer: EvidenceWriter, flow: UInt64, packets: Int = 1) {
        for i in 0..<packets {
            let ok = packet.withUnsafeBytes {
                writer.append(flowID: flow, linkType: .ethernet, bytes: $0, originalLength: 100, timestamp: Int64(i) * 1_000_000)
            }
            #expect(ok)
        }
    }

    static func files(_ dir: TempDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    @Test func keepsTheNewestFilesUnderMaxFiles() throws {
        let dir = try TempDirectory()
        let writer = try EvidenceWriter(directory: dir.path, maxFiles: 3)
        for flow in 1...5 { Self.write(writer, flow: UInt64(flow), packets: 2) }
        #expect(try Self.files(dir) == ["flow-3.pcap", "flow-4.pcap", "flow-5.pcap"])
        // Each file: a 24-byte header and two 116-byte records.
        #expect(writer.removedFiles == 2 && writer.removedBytes == 2 * (24 + 2 * 116))
        #expect(writer.keptFiles == 3 && writer.keptBytes == 3 * (24 + 2 * 116))
        writer.closeAll()
    }

    @Test func keepsUnderMaxBytesButNeverRemovesTheFileBeingWritten() throws {
        let dir = try TempDirectory()
        // 1000 bytes: a 24-byte header and eight records fit (952); a ninth does not.
        let writer = try EvidenceWriter(directory: dir.path, maxBytes: 1000)
        Self.write(writer, flow: 1, packets: 4)  // 488
        Self.write(writer, flow: 2, packets: 4)  // 976 in all
        #expect(writer.removedFiles == 0)
        Self.write(writer, flow: 3, packets: 1)  // 1116: flow 1 goes
        #expect(try Self.files(dir) == ["flow-2.pcap", "flow-3.pcap"] && writer.removedFiles == 1)
        // One flow alone past the bound: its file stays whole while it is written.
        Self.write(writer, flow: 3, packets: 20)
        #expect(try Self.files(dir) == ["flow-3.pcap"])
        let size = try FileManager.default.attributesOfItem(atPath: dir.file("flow-3.pcap"))[.size] as? Int
        #expect(size == 24 + 21 * 116, "every packet of the flow kept")
        writer.closeAll()
    }

    /// A restart: the files of earlier runs count, the oldest (by modification time) go first.
    @Test func earlierRunsFilesCountOldestFirst() throws {
        let dir = try TempDirectory()
        for (flow, age) in [(7, 300), (8, 100), (9, 200)] {
            let path = dir.file("flow-\(flow).pcap")
            try Data(repeating: 0, count: 500).write(to: URL(fileURLWithPath: path))
            var times = [timespec(tv_sec: time(nil) - age, tv_nsec: 0), timespec(tv_sec: time(nil) - age, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        }
        try Data("not evidence".utf8).write(to: URL(fileURLWithPath: dir.file("notes.txt")))
        let writer = try EvidenceWriter(directory: dir.path, maxFiles: 2)
        // Over the bound at once: the oldest (flow 7) is gone before a packet is written.
        #expect(try Self.files(dir) == ["flow-8.pcap", "flow-9.pcap", "notes.txt"])
        Self.write(writer, flow: 1)
        #expect(try Self.files(dir) == ["flow-1.pcap", "flow-8.pcap", "notes.txt"], "then flow 9, older than 8")
        #expect(writer.removedFiles == 2 && writer.removedBytes == 1000)
        writer.closeAll()
    }
}
