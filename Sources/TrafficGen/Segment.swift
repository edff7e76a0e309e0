/// A transport-layer message (TCP, UDP, SCTP, ICMP, ICMPv6 or anything else) ready to go inside IP.
/// The IP builder fills in checksums that cover its pseudo-header.
public struct Segment: Sendable {
    /// The IP protocol number that names it.
    public var proto: UInt8
    public var bytes: [UInt8]
    /// Where a checksum over the IP pseudo-header goes (TCP, UDP, ICMPv6), if one does.
    public var pseudoHeaderChecksumOffset: Int?

    public init(proto: UInt8, bytes: [UInt8], pseudoHeaderChecksumOffset: Int? = nil) {
        self.proto = proto
        self.bytes = bytes
        self.pseudoHeaderChecksumOffset = pseudoHeaderChecksumOffset
    }

    /// Arbitrary bytes under protocol `proto` (a later fragment, ESP, GRE ...).
    public static func raw(proto: UInt8, _ bytes: [UInt8] = []) -> Segment {
        Segment(proto: proto, bytes: bytes)
    }

    /// These bytes with the last `count` cut off, to build truncated headers.
    public func dropLast(_ count: Int) -> Segment {
        Segment(proto: proto, bytes: Array(bytes.dropLast(count)))
    }
}

/// TCP flag bits as they sit in the 12 bits after the data offset.
public struct TCPFlags: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    public static let ns = TCPFlags(rawValue: 0x100)
    public static let synAck: TCPFlags = [.syn, .ack]
}

/// TCP options, encoded as on the wire; `.raw` for malformed ones.
public enum TCPOption: Sendable {
    case endOfList
    case noOperation
    case mss(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    case timestamps(UInt32, UInt32)
    case raw([UInt8])

    var bytes: [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .endOfList: out = [0]
        case .noOperation: out = [1]
        case .mss(let value): out = [2, 4]; out.append16(value)
        case .windowScale(let shift): out = [3, 3, shift]
        case .sackPermitted: out = [4, 2]
        case .timestamps(let value, let echo): out = [8, 10]; out.append32(value); out.append32(echo)
        case .raw(let bytes): out = bytes
        }
        return out
    }
}

extension Segment {
    /// A TCP segment. Options are padded with end-of-list to a 4-byte boundary; `dataOffset`
    /// (in 32-bit words) overrides the computed one to build malformed headers.
    public static func tcp(sport: UInt16, dport: UInt16, flags: TCPFlags = .syn, seq: UInt32 = 1, ack: UInt32 = 0,
                           window: UInt16 = 65535, options: [TCPOption] = [], dataOffset: UInt8? = nil,
                           payload: [UInt8] = []) -> Segment {
        var optionBytes = options.flatMap(\.bytes)
        while optionBytes.count % 4 != 0 { optionBytes.append(0) }
        let offset = dataOffset ?? UInt8(5 + optionBytes.count / 4)
        var bytes: [UInt8] = []
        bytes.append16(sport)
        bytes.append16(dport)
        bytes.append32(seq)
        bytes.append32(ack)
        bytes.append16(UInt16(offset & 0x0F) << 12 | (flags.rawValue & 0x0FFF))
        bytes.append16(window)
        bytes.append16(0)  // checksum, filled in by IP
        bytes.append16(0)  // urgent pointer
        return Segment(proto: 6, bytes: bytes + optionBytes + payload, pseudoHeaderChecksumOffset: 16)
    }

    /// A UDP datagram; `length` overrides the length field (8 + payload).
    public static func udp(sport: UInt16, dport: UInt16, length: UInt16? = nil, payload: [UInt8] = []) -> Segment {
        var bytes: [UInt8] = []
        bytes.append16(sport)
        bytes.append16(dport)
        bytes.append16(length ?? UInt16(8 + payload.count))
        bytes.append16(0)
        return Segment(proto: 17, bytes: bytes + payload, pseudoHeaderChecksumOffset: 6)
    }

    /// An SCTP packet: the common header and one chunk (default an INIT), CRC-32C filled in.
    public static func sctp(sport: UInt16, dport: UInt16, verificationTag: UInt32 = 0,
                            chunk: SCTPChunk = .initiate()) -> Segment {
        var bytes: [UInt8] = []
        bytes.append16(sport)
        bytes.append16(dport)
        bytes.append32(verificationTag)
        bytes.append32(0)
        bytes += chunk.bytes
        let crc = crc32c(bytes)
        // SCTP stores the CRC-32C little-endian-first as computed (RFC 9260 appendix A).
        bytes[8] = UInt8(crc & 0xFF)
        bytes[9] = UInt8((crc >> 8) & 0xFF)
        bytes[10] = UInt8((crc >> 16) & 0xFF)
        bytes[11] = UInt8(crc >> 24)
        return Segment(proto: 132, bytes: bytes)
    }
}

/// One SCTP chunk: type, flags, length, value padded to 4 bytes.
public struct SCTPChunk: Sendable {
    public var type: UInt8
    public var flags: UInt8
    public var value: [UInt8]

    public init(type: UInt8, flags: UInt8 = 0, value: [UInt8] = []) {
        self.type = type
        self.flags = flags
        self.value = value
    }

    /// An INIT chunk with no parameters.
    public static func initiate(tag: UInt32 = 0x1234_5678) -> SCTPChunk {
        var value: [UInt8] = []
        value.append32(tag)  // initiate tag
        value.append32(65535)  // a_rwnd
        value.append16(1)  // outbound streams
        value.append16(1)  // inbound streams
        value.append32(1)  // initial TSN
        return SCTPChunk(type: 1, value: value)
    }

    /// A DATA chunk carrying `payload`.
    public static func data(_ payload: [UInt8], tsn: UInt32 = 1) -> SCTPChunk {
        var value: [UInt8] = []
        value.append32(tsn)
        value.append16(0)  // stream id
        value.append16(0)  // stream sequence
        value.append32(0)  // payload protocol id
        return SCTPChunk(type: 0, flags: 0x03, value: value + payload)
    }

    var bytes: [UInt8] {
        var out: [UInt8] = [type, flags]
        out.append16(UInt16(4 + value.count))
        out += value
        while out.count % 4 != 0 { out.append(0) }
        return out
    }
}

extension Segment {
    /// ICMP echo request (type 8) or reply (type 0).
    public static func icmpEcho(id: UInt16 = 1, seq: UInt16 = 1, reply: Bool = false, payload: [UInt8] = []) -> Segment {
        var rest: [UInt8] = []
        rest.append16(id)
        rest.append16(seq)
        return icmp(type: reply ? 0 : 8, code: 0, rest: rest, payload: payload)
    }

    /// Any ICMP message: type, code, the 4 bytes after the checksum, then `payload`. Checksum filled in.
    public static func icmp(type: UInt8, code: UInt8, rest: [UInt8] = [0, 0, 0, 0], payload: [UInt8] = []) -> Segment {
        var bytes: [UInt8] = [type, code, 0, 0] + rest + payload
        bytes.set16(internetChecksum(bytes), at: 2)
        return Segment(proto: 1, bytes: bytes)
    }

    /// An ICMP error (unreachable 3, time exceeded 11 ...) quoting `packet`: by default its IP header
    /// and the first 8 bytes after it, as RFC 792 asks; `quoteLength` overrides.
    public static func icmpError(type: UInt8 = 3, code: UInt8 = 3, quoting packet: Network, quoteLength: Int? = nil) -> Segment {
        let headerLength = packet.bytes.isEmpty ? 0 : Int(packet.bytes[0] & 0x0F) * 4
        let length = quoteLength ?? headerLength + 8
        return icmp(type: type, code: code, payload: Array(packet.bytes.prefix(length)))
    }

    /// ICMPv6 echo request (128) or reply (129).
    public static func icmpv6Echo(id: UInt16 = 1, seq: UInt16 = 1, reply: Bool = false, payload: [UInt8] = []) -> Segment {
        var rest: [UInt8] = []
        rest.append16(id)
        rest.append16(seq)
        return icmpv6(type: reply ? 129 : 128, code: 0, rest: rest, payload: payload)
    }

    /// Any ICMPv6 message; its checksum covers the IPv6 pseudo-header, so IP fills it in.
    public static func icmpv6(type: UInt8, code: UInt8, rest: [UInt8] = [0, 0, 0, 0], payload: [UInt8] = []) -> Segment {
        Segment(proto: 58, bytes: [type, code, 0, 0] + rest + payload, pseudoHeaderChecksumOffset: 2)
    }

    /// An ICMPv6 error (unreachable 1, too big 2, time exceeded 3, parameter problem 4) quoting
    /// `packet`, all of it unless `quoteLength` says less.
    public static func icmpv6Error(type: UInt8 = 1, code: UInt8 = 4, quoting packet: Network, quoteLength: Int? = nil) -> Segment {
        icmpv6(type: type, code: code, payload: Array(packet.bytes.prefix(quoteLength ?? packet.bytes.count)))
    }
}
