import Foundation
import Testing
import TestSupport
import Wire

/// Little-endian reads for checking the writers' layout.
private func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
}

private func le16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
}

@Suite("TestSupport capture files")
struct CaptureFileTests {
    let frames = [Packet.ethernet(Fixture.ipv4SYN), Packet.ethernet(Fixture.ipv6UDP)]

    @Test func pcapMicroseconds() {
        let file = CaptureFile(format: .pcap, precision: .microseconds, linkType: .ethernet,
                               records: [CaptureRecord(frames[0], seconds: 1_700_000_000, nanoseconds: 123_456_789)])
        let bytes = file.bytes()
        #expect(Array(bytes.prefix(4)) == [0xD4, 0xC3, 0xB2, 0xA1])  // 0xa1b2c3d4 little-endian
        #expect(le16(bytes, 4) == 2 && le16(bytes, 6) == 4 && le32(bytes, 16) == 262_144 && le32(bytes, 20) == 1)
        #expect(le32(bytes, 24) == 1_700_000_000 && le32(bytes, 28) == 123_456)
        #expect(le32(bytes, 32) == 54 && le32(bytes, 36) == 54)
        #expect(Array(bytes[40...]) == frames[0] && bytes.count == 24 + 16 + 54)
    }

    @Test func pcapNanosecondsAndAnyLinkType() {
        let file = CaptureFile(format: .pcap, precision: .nanoseconds, linkType: .linuxSLL2,
                               records: [CaptureRecord(Packet.sll2(Fixture.ipv4SYN), nanoseconds: 123_456_789)])
        let bytes = file.bytes()
        #expect(Array(bytes.prefix(4)) == [0x4D, 0x3C, 0xB2, 0xA1])  // 0xa1b23c4d little-endian
        #expect(le32(bytes, 20) == 276 && le32(bytes, 28) == 123_456_789)
    }

    @Test func snapLengthKeepsTheOriginalLength() {
        let bytes = CaptureFile(snapLength: 34, frames: [frames[0]]).bytes()
        #expect(le32(bytes, 16) == 34 && le32(bytes, 32) == 34 && le32(bytes, 36) == 54 && bytes.count == 24 + 16 + 34)
    }

    @Test func pcapng() {
        let file = CaptureFile(format: .pcapng, precision: .nanoseconds, linkType: .raw,
                               records: [CaptureRecord([0x45, 0, 0], seconds: 2, nanoseconds: 5)])
        let bytes = file.bytes()
        // Section header block.
        #expect(le32(bytes, 0) == 0x0A0D_0D0A && le32(bytes, 4) == 28 && le32(bytes, 8) == 0x1A2B_3C4D && le32(bytes, 24) == 28)
        // Interface description block: link type, snap length, if_tsresol 9.
        #expect(le32(bytes, 28) == 1 && le32(bytes, 32) == 32 && le16(bytes, 36) == 12 && le32(bytes, 40) == 262_144)
        #expect(le16(bytes, 44) == 9 && le16(bytes, 46) == 1 && bytes[48] == 9 && le32(bytes, 56) == 32)
        // Enhanced packet block: 2 s + 5 ns in nanoseconds, 3 bytes padded to 4.
        #expect(le32(bytes, 60) == 6 && le32(bytes, 64) == 36 && le32(bytes, 68) == 0)
        #expect(UInt64(le32(bytes, 72)) << 32 | UInt64(le32(bytes, 76)) == 2_000_000_005)
        #expect(le32(bytes, 80) == 3 && le32(bytes, 84) == 3 && Array(bytes[88..<92]) == [0x45, 0, 0, 0] && le32(bytes, 92) == 36)
        #expect(bytes.count == 96)
        let micro = CaptureFile(format: .pcapng, precision: .microseconds, linkType: .raw, records: file.records).bytes()
        #expect(micro[48] == 6 && UInt64(le32(micro, 72)) << 32 | UInt64(le32(micro, 76)) == 2_000_000)
    }

    @Test func truncatedInsideARecord() {
        let file = CaptureFile(frames: frames)
        let whole = file.bytes()
        let cut = file.truncated(inRecord: 1)
        #expect(cut.count == 24 + 16 + 54 + 16 + frames[1].count / 2 && whole.starts(with: cut))
        #expect(file.truncated(inRecord: 1, insideHeader: true).count == 24 + 16 + 54 + 4)
        let ng = CaptureFile(format: .pcapng, frames: frames)
        #expect(ng.truncated(inRecord: 0).count == 28 + 32 + 28 + 27)
    }

    @Test func writesFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wiretests-\(getpid()).pcap").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = CaptureFile(frames: frames)
        try file.write(to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == file.data())
        try file.writeTruncated(to: path, inRecord: 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 24 + 16 + 27)
    }

    @Test func framesAreOneMillisecondApart() {
        let file = CaptureFile(frames: [[1], [2], [3]])
        #expect(file.records.map(\.nanoseconds) == [0, 1_000_000, 2_000_000])
    }
}
