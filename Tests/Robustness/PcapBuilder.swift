/// Classic little-endian pcap bytes written straight into one array: hostile captures of
/// hundreds of thousands of frames are built in a few milliseconds, no helper per packet.
struct PcapBuilder {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    init(linkType: UInt32 = 1, capacity: Int = 0) {
        bytes.reserveCapacity(capacity + 24)
        le32(0xA1B2_C3D4)  // microseconds
        le16(2); le16(4)
        le32(0); le32(0)
        le32(65535)
        le32(linkType)
    }

    /// One record at `microsecond` after 2025-06-15T00:00:00Z.
    mutating func append(_ frame: [UInt8], microsecond: Int) {
        le32(UInt32(1_749_945_600 + microsecond / 1_000_000))
        le32(UInt32(microsecond % 1_000_000))
        le32(UInt32(frame.count)); le32(UInt32(frame.count))
        bytes += frame
        count += 1
    }

    private mutating func le16(_ v: UInt16) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8)] }
    private mutating func le32(_ v: UInt32) { le16(UInt16(v & 0xFFFF)); le16(UInt16(v >> 16)) }
}

/// Frames as bytes, big-endian fields, checksums computed where a host would check them.
enum Frame {
    static let macs: [UInt8] = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]

    static func ethernet(etherType: UInt16, _ payload: [UInt8]) -> [UInt8] {
        macs + be16(etherType) + payload
    }

    /// An IPv4 header (no options) and its payload.
    static func ipv4(src: UInt32, dst: UInt32, proto: UInt8, id: UInt16 = 0, flagsFragment: UInt16 = 0,
                     totalLength: Int? = nil, _ payload: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [0x45, 0] + be16(UInt16(totalLength ?? 20 + payload.count)) + be16(id) + be16(flagsFragment)
            + [64, proto, 0, 0] + be32(src) + be32(dst)
        let sum = checksum(header)
        header[10] = UInt8(sum >> 8)
        header[11] = UInt8(sum & 0xFF)
        return header + payload
    }

    /// A 20-byte TCP header (checksum left 0: ghostport, like an IDS, does not drop on it).
    static func tcp(sport: UInt16, dport: UInt16, flags: UInt8, seq: UInt32 = 1) -> [UInt8] {
        be16(sport) + be16(dport) + be32(seq) + be32(0) + [0x50, flags] + be16(64240) + [0, 0, 0, 0]
    }

    /// A UDP header and payload, checksum 0 (none, which IPv4 allows).
    static func udp(sport: UInt16, dport: UInt16, payload: [UInt8] = [0x67, 0x70]) -> [UInt8] {
        be16(sport) + be16(dport) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { be16(UInt16(v >> 16)) + be16(UInt16(v & 0xFFFF)) }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
