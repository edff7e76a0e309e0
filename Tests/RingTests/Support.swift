import Ring

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a thread found, read after `join()` (which orders its writes before the reads).
final class Outcome<Value: Sendable>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// The test packet numbered `sequence`: its size and header follow from the number, so the
/// consumer can check every field and byte without being told.
enum NumberedPacket {
    static func size(_ sequence: UInt64, slotSize: Int) -> Int {
        Int((sequence &* 2_654_435_761) % UInt64(slotSize + 1))
    }

    static func byte(_ sequence: UInt64, at offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: sequence &* 131 &+ UInt64(offset) &* 7 &+ (sequence >> 8))
    }

    static func header(_ sequence: UInt64, size: Int) -> SlotHeader {
        SlotHeader(
            timestampSeconds: 1_700_000_000 + Int64(sequence),
            timestampNanoseconds: UInt32(sequence % 1_000_000_000),
            originalLength: UInt32(size) + UInt32(sequence % 3),
            capturedLength: UInt32(size),
            linkType: Int32(sequence % 4),
            sourceIndex: UInt32(sequence % 5),
            sequence: sequence)
    }

    /// Writes packet `sequence` into `buffer` and returns its header and bytes.
    static func fill(
        _ sequence: UInt64, slotSize: Int, into buffer: UnsafeMutableRawBufferPointer
    ) -> (SlotHeader, UnsafeRawBufferPointer) {
        let size = self.size(sequence, slotSize: slotSize)
        for offset in 0..<size { buffer[offset] = byte(sequence, at: offset) }
        return (header(sequence, size: size), UnsafeRawBufferPointer(rebasing: buffer[0..<size]))
    }

    /// True when `header` and `bytes` are exactly packet `sequence`.
    static func isIntact(_ sequence: UInt64, slotSize: Int, header: SlotHeader, bytes: UnsafeRawBufferPointer) -> Bool {
        let size = self.size(sequence, slotSize: slotSize)
        var expected = self.header(sequence, size: size)
        expected.storedLength = UInt32(size)
        guard header == expected, bytes.count == size else { return false }
        for offset in 0..<size where bytes[offset] != byte(sequence, at: offset) { return false }
        return true
    }
}

/// A header whose only interesting field is its sequence number.
func plainHeader(_ sequence: UInt64, capturedLength: UInt32 = 0) -> SlotHeader {
    SlotHeader(
        timestampSeconds: 0, timestampNanoseconds: 0, originalLength: capturedLength,
        capturedLength: capturedLength, linkType: 1, sourceIndex: 0, sequence: sequence)
}

/// How many packets the long threaded tests push: `RING_TEST_PACKETS` or `fallback`.
func packetCount(default fallback: Int) -> Int {
    guard let text = getenv("RING_TEST_PACKETS"), let count = Int(String(cString: text)), count > 0 else {
        return fallback
    }
    return count
}
