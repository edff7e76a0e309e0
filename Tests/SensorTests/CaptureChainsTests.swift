import Foundation
@testable import Sensor
import TestSupport
import Testing

/// `CaptureChains.plan`: which files continue one another, in what order, and the chains' order.
@Suite struct CaptureChainsTests {
    private let second: Int64 = 1_000_000_000
    private let gap: Int64 = 300 * 1_000_000_000

    private func file(_ first: Int64, _ last: Int64, link: Int32 = 1) -> CaptureChains.Summary {
        CaptureChains.Summary(path: "f", linkType: link, first: first * second, last: last * second)
    }

    @Test("rotated files of one link are one chain in time order, whatever order they are given in")
    func rotated() {
        let files = [file(200, 299), file(0, 99), file(100, 199), file(300, 350)]
        #expect(CaptureChains.plan(files, maxGap: gap) == [[1, 2, 0, 3]])
    }

    @Test("files that overlap in time are independent chains, written in the order given")
    func overlapping() {
        let files = [file(50, 150), file(0, 100), file(10, 120)]
        #expect(CaptureChains.plan(files, maxGap: gap) == [[0], [1], [2]])
    }

    @Test("two links rotated side by side make two chains, each file after its own predecessor")
    func twoLinks() {
        // Link A: 0-99, 100-199; link B: 5-104, 105-204. A2 can only follow A1 (B1 is still going
        // when it starts); B2 then follows B1, A's chain now running to 199.
        let files = [file(0, 99), file(5, 104), file(100, 199), file(105, 204)]
        #expect(CaptureChains.plan(files, maxGap: gap) == [[0, 2], [1, 3]])
    }

    @Test("a gap longer than the flow timeouts, or another link type, starts a chain")
    func gapAndLinkType() {
        #expect(CaptureChains.plan([file(0, 10), file(10 + 301, 400)], maxGap: gap) == [[0], [1]])
        #expect(CaptureChains.plan([file(0, 10), file(10 + 300, 400)], maxGap: gap) == [[0, 1]])
        #expect(CaptureChains.plan([file(0, 10), file(11, 20, link: 113)], maxGap: gap) == [[0], [1]])
    }

    @Test("a second of overlap is a continuation (timestamps a little out of order), more is not")
    func overlapTolerance() {
        #expect(CaptureChains.plan([file(0, 10), file(9, 20)], maxGap: gap) == [[0, 1]])
        #expect(CaptureChains.plan([file(0, 10), file(8, 20)], maxGap: gap) == [[0], [1]])
    }

    @Test("inputs without a summary (standard input, unreadable, empty) are chains of their own, in place")
    func unsummarised() {
        let files: [CaptureChains.Summary?] = [nil, file(0, 10), nil, file(11, 20)]
        #expect(CaptureChains.plan(files, maxGap: gap) == [[0], [1, 3], [2]])
    }

    @Test("a chain is written where its first given file is")
    func chainOrder() {
        // Given: B2, A1, A2, B1 (B overlaps A). Chains: B = [3, 0], A = [1, 2]; B holds input 0.
        let files = [file(105, 204), file(0, 99), file(100, 199), file(5, 104)]
        #expect(CaptureChains.plan(files, maxGap: gap) == [[3, 0], [1, 2]])
    }
}

/// The pcap header walk that summarises a file, against libpcap's reading of the same file.
@Suite struct CaptureWalkTests {
    /// A classic pcap file: `magic` as written (byte order and precision), Ethernet, these
    /// records (seconds, fraction, captured bytes).
    private static func pcap(magic: UInt32, bigEndian: Bool, records: [(UInt32, UInt32, Int)]) -> [UInt8] {
        var bytes: [UInt8] = []
        func put(_ value: UInt32) {
            let ordered = bigEndian ? value.bigEndian : value.littleEndian
            withUnsafeBytes(of: ordered) { bytes.append(contentsOf: $0) }
        }
        func put16(_ value: UInt16) {
            let ordered = bigEndian ? value.bigEndian : value.littleEndian
            withUnsafeBytes(of: ordered) { bytes.append(contentsOf: $0) }
        }
        put(magic); put16(2); put16(4); put(0); put(0); put(65_535); put(1)
        for (seconds, fraction, length) in records {
            put(seconds); put(fraction); put(UInt32(length)); put(UInt32(length))
            bytes.append(contentsOf: (0..<length).map { UInt8(truncatingIfNeeded: $0) })
        }
        return bytes
    }

    @Test("microsecond and nanosecond files, either byte order, out-of-order times: the walk's summary is libpcap's",
          arguments: [(0xA1B2_C3D4, false), (0xA1B2_C3D4, true), (0xA1B2_3C4D, false), (0xA1B2_3C4D, true)] as [(UInt32, Bool)])
    func agreesWithLibpcap(magic: UInt32, bigEndian: Bool) throws {
        let dir = try TempDirectory()
        let records: [(UInt32, UInt32, Int)] = [(1_750_000_100, 999_999, 60), (1_750_000_050, 5, 1514), (1_750_000_200, 0, 14),
                                                (4_000_000_000, 123_456, 64), (1_750_000_100, 1, 200_000)]
        let path = dir.file("f.pcap")
        try Data(Self.pcap(magic: magic, bigEndian: bigEndian, records: records)).write(to: URL(fileURLWithPath: path))
        let walked = try #require(CaptureChains.walk(path))
        #expect(walked == CaptureChains.readThroughLibpcap(path))
        let unit: Int64 = magic == 0xA1B2_3C4D ? 1 : 1_000
        #expect(walked.first == 1_750_000_050 * 1_000_000_000 + 5 * unit)
        #expect(walked.last == 4_000_000_000 * 1_000_000_000 + 123_456 * unit)
    }

    @Test("a cut or damaged file is not walked (libpcap reads it and read reports it)")
    func damaged() throws {
        let dir = try TempDirectory()
        var bytes = Self.pcap(magic: 0xA1B2_C3D4, bigEndian: false, records: [(1_750_000_000, 0, 100), (1_750_000_001, 0, 100)])
        let path = dir.file("cut.pcap")
        try Data(bytes.dropLast(10)).write(to: URL(fileURLWithPath: path))
        #expect(CaptureChains.walk(path) == nil)
        let summary = CaptureChains.summarize(path)  // libpcap's: the whole record before the cut
        #expect(summary?.first == 1_750_000_000 * 1_000_000_000 && summary?.last == 1_750_000_000 * 1_000_000_000)
        bytes[24 + 4] = 0xFF; bytes[24 + 5] = 0xFF; bytes[24 + 6] = 0xFF; bytes[24 + 7] = 0xFF  // a fraction past a second
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(CaptureChains.walk(path) == nil)
    }

    @Test("the shared corpus's pcap files: the walk's summary is libpcap's wherever it walks",
          .enabled(if: FileManager.default.fileExists(atPath: CorpusFiles.directory), "no ../shared/corpus/pcaps"))
    func corpus() throws {
        var walked = 0
        for path in CorpusFiles.all() {
            guard let summary = CaptureChains.walk(path) else { continue }
            walked += 1
            #expect(summary == CaptureChains.readThroughLibpcap(path), "\(path)")
        }
        #expect(walked > 20)
    }
}

enum CorpusFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus/pcaps").path

    static func all() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var paths: [String] = []
        while let name = enumerator?.nextObject() as? String {
            if name.hasSuffix(".pcap") || name.hasSuffix(".cap") { paths.append(directory + "/" + name) }
        }
        return paths.sorted()
    }
}
