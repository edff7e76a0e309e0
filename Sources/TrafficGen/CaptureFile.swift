import Foundation

/// A libpcap data-link type as a capture file's header names it: the generator's own, so it
/// depends on nothing of the sensor's (the values are libpcap's `LINKTYPE_*`/`DLT_*`).
public struct DataLinkType: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let null = DataLinkType(rawValue: 0)
    public static let ethernet = DataLinkType(rawValue: 1)
    public static let raw = DataLinkType(rawValue: 12)
    public static let rawOpenBSD = DataLinkType(rawValue: 14)
    public static let linktypeRaw = DataLinkType(rawValue: 101)
    public static let loop = DataLinkType(rawValue: 108)
    public static let linuxSLL = DataLinkType(rawValue: 113)
    public static let ipv4 = DataLinkType(rawValue: 228)
    public static let ipv6 = DataLinkType(rawValue: 229)
    public static let linuxSLL2 = DataLinkType(rawValue: 276)
}

/// One captured frame: its bytes (already snapped, if at all), when, and how long it was on the wire.
public struct CaptureRecord: Sendable {
    public var bytes: [UInt8]
    public var seconds: UInt32
    public var nanoseconds: UInt32
    /// The length on the wire; nil means `bytes.count` (nothing was cut).
    public var originalLength: Int?

    public init(_ bytes: [UInt8], seconds: UInt32 = 1_700_000_000, nanoseconds: UInt32 = 0, originalLength: Int? = nil) {
        self.bytes = bytes
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.originalLength = originalLength
    }
}

/// A capture file in memory: classic pcap or pcapng, little-endian, one link type.
public struct CaptureFile: Sendable {
    public enum Format: Sendable {
        /// Classic pcap: magic 0xa1b2c3d4 (microseconds) or 0xa1b23c4d (nanoseconds).
        case pcap
        /// pcapng: SHB, one IDB with `if_tsresol`, then an EPB per record.
        case pcapng
    }

    public enum Precision: Sendable {
        case microseconds, nanoseconds
    }

    public var format: Format
    public var precision: Precision
    public var linkType: DataLinkType
    /// Records longer than this are cut to it, keeping their original length.
    public var snapLength: Int
    public var records: [CaptureRecord]

    public init(format: Format = .pcap, precision: Precision = .microseconds, linkType: DataLinkType = .ethernet,
                snapLength: Int = 262_144, records: [CaptureRecord] = []) {
        self.format = format
        self.precision = precision
        self.linkType = linkType
        self.snapLength = snapLength
        self.records = records
    }

    /// Frames one millisecond apart, from `seconds`.
    public init(format: Format = .pcap, precision: Precision = .microseconds, linkType: DataLinkType = .ethernet,
                snapLength: Int = 262_144, frames: [[UInt8]], seconds: UInt32 = 1_700_000_000) {
        let records = frames.enumerated().map { index, frame in
            CaptureRecord(frame, seconds: seconds + UInt32(index / 1000), nanoseconds: UInt32(index % 1000) * 1_000_000)
        }
        self.init(format: format, precision: precision, linkType: linkType, snapLength: snapLength, records: records)
    }

    /// The file's bytes.
    public func bytes() -> [UInt8] { encoded().bytes }

    public func data() -> Data { Data(bytes()) }

    /// The file cut in the middle of record `index` (halfway through its frame bytes, or inside its
    /// record header when `insideHeader`), as a capture that was still being written looks.
    public func truncated(inRecord index: Int, insideHeader: Bool = false) -> [UInt8] {
        let (bytes, ranges) = encoded()
        let record = ranges[index]
        let cut = insideHeader ? record.start + 4 : record.dataStart + max(1, record.dataLength / 2)
        return Array(bytes.prefix(min(cut, bytes.count)))
    }

    /// Writes the file at `path`, replacing any there.
    public func write(to path: String) throws {
        try data().write(to: URL(fileURLWithPath: path))
    }

    /// Writes `truncated(inRecord:insideHeader:)` at `path`.
    public func writeTruncated(to path: String, inRecord index: Int, insideHeader: Bool = false) throws {
        try Data(truncated(inRecord: index, insideHeader: insideHeader)).write(to: URL(fileURLWithPath: path))
    }

    private struct RecordRange {
        var start: Int
        var dataStart: Int
        var dataLength: Int
    }

    private func encoded() -> (bytes: [UInt8], ranges: [RecordRange]) {
        var out: [UInt8] = []
        var ranges: [RecordRange] = []
        switch format {
        case .pcap: out += pcapHeader()
        case .pcapng: out += sectionHeaderBlock() + interfaceDescriptionBlock()
        }
        for record in records {
            let data = Array(record.bytes.prefix(snapLength))
            let originalLength = UInt32(record.originalLength ?? record.bytes.count)
            let fraction = precision == .microseconds ? record.nanoseconds / 1000 : record.nanoseconds
            let start = out.count
            switch format {
            case .pcap:
                out.appendLE32(record.seconds)
                out.appendLE32(fraction)
                out.appendLE32(UInt32(data.count))
                out.appendLE32(originalLength)
                ranges.append(RecordRange(start: start, dataStart: out.count, dataLength: data.count))
                out += data
            case .pcapng:
                let units = UInt64(record.seconds) * (precision == .microseconds ? 1_000_000 : 1_000_000_000) + UInt64(fraction)
                let padded = (data.count + 3) / 4 * 4
                let total = UInt32(32 + padded)
                out.appendLE32(6)  // Enhanced Packet Block
                out.appendLE32(total)
                out.appendLE32(0)  // interface id
                out.appendLE32(UInt32(units >> 32))
                out.appendLE32(UInt32(units & 0xFFFF_FFFF))
                out.appendLE32(UInt32(data.count))
                out.appendLE32(originalLength)
                ranges.append(RecordRange(start: start, dataStart: out.count, dataLength: data.count))
                out += data + [UInt8](repeating: 0, count: padded - data.count)
                out.appendLE32(total)
            }
        }
        return (out, ranges)
    }

    private func pcapHeader() -> [UInt8] {
        var out: [UInt8] = []
        out.appendLE32(precision == .microseconds ? 0xA1B2_C3D4 : 0xA1B2_3C4D)
        out.appendLE16(2)  // version 2.4
        out.appendLE16(4)
        out.appendLE32(0)  // thiszone
        out.appendLE32(0)  // sigfigs
        out.appendLE32(UInt32(snapLength))
        out.appendLE32(UInt32(bitPattern: linkType.rawValue))
        return out
    }

    private func sectionHeaderBlock() -> [UInt8] {
        var out: [UInt8] = []
        out.appendLE32(0x0A0D_0D0A)
        out.appendLE32(28)
        out.appendLE32(0x1A2B_3C4D)  // byte-order magic
        out.appendLE16(1)  // version 1.0
        out.appendLE16(0)
        out.appendLE32(0xFFFF_FFFF)  // section length: unknown
        out.appendLE32(0xFFFF_FFFF)
        out.appendLE32(28)
        return out
    }

    private func interfaceDescriptionBlock() -> [UInt8] {
        var out: [UInt8] = []
        out.appendLE32(1)
        out.appendLE32(32)
        out.appendLE16(UInt16(truncatingIfNeeded: linkType.rawValue))
        out.appendLE16(0)  // reserved
        out.appendLE32(UInt32(snapLength))
        out.appendLE16(9)  // if_tsresol
        out.appendLE16(1)
        out += [precision == .microseconds ? 6 : 9, 0, 0, 0]
        out.appendLE32(0)  // opt_endofopt
        out.appendLE32(32)
        return out
    }
}
