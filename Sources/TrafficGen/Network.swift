/// A network-layer packet and the EtherType that carries it: IPv4, IPv6, or PPPoE / MPLS wrapping one.
public struct Network: Sendable {
    public var etherType: UInt16
    public var bytes: [UInt8]

    public init(etherType: UInt16, bytes: [UInt8]) {
        self.etherType = etherType
        self.bytes = bytes
    }

    /// Anything under any EtherType (ARP, LLDP, an unknown one ...).
    public static func raw(etherType: UInt16, _ bytes: [UInt8] = []) -> Network {
        Network(etherType: etherType, bytes: bytes)
    }

    /// These bytes with the last `count` cut off: a packet the capture or the wire lost the end of.
    public func dropLast(_ count: Int) -> Network {
        Network(etherType: etherType, bytes: Array(bytes.dropLast(count)))
    }
}

extension Network {
    /// An IPv4 packet with a correct header checksum (and TCP/UDP checksum). `options` are padded
    /// with end-of-list to a 4-byte boundary. `fragmentOffset` is in 8-byte units. The overrides
    /// (`version`, `headerLength` in 32-bit words, `totalLength`, `proto`) build malformed headers.
    public static func ipv4(src: String, dst: String, ttl: UInt8 = 64, id: UInt16 = 0x1234, tos: UInt8 = 0,
                            dontFragment: Bool = false, moreFragments: Bool = false, fragmentOffset: UInt16 = 0,
                            options: [UInt8] = [], version: UInt8 = 4, headerLength: UInt8? = nil,
                            totalLength: UInt16? = nil, proto: UInt8? = nil, _ segment: Segment) -> Network {
        var optionBytes = options
        while optionBytes.count % 4 != 0 { optionBytes.append(0) }
        let words = headerLength ?? UInt8(5 + optionBytes.count / 4)
        let source = AddressText.bytes(src), destination = AddressText.bytes(dst)
        precondition(source.count == 4 && destination.count == 4, "IPv4 needs IPv4 addresses")
        var header: [UInt8] = [version << 4 | (words & 0x0F), tos]
        header.append16(totalLength ?? UInt16(20 + optionBytes.count + segment.bytes.count))
        header.append16(id)
        let flags: UInt16 = (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0)
        header.append16(flags | (fragmentOffset & 0x1FFF))
        header += [ttl, proto ?? segment.proto, 0, 0]
        header += source + destination + optionBytes
        header.set16(internetChecksum(header), at: 10)
        var pseudo = source + destination + [0, segment.proto]
        pseudo.append16(UInt16(truncatingIfNeeded: segment.bytes.count))
        return Network(etherType: 0x0800, bytes: header + checksummed(segment, pseudoHeader: pseudo))
    }

    /// An IPv6 packet; `extensionHeaders` come in order after the fixed header, their next-header
    /// fields chained to `segment`. `payloadLength` and `nextHeader` override the computed ones.
    public static func ipv6(src: String, dst: String, hopLimit: UInt8 = 64, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0,
                            extensionHeaders: [IPv6ExtensionHeader] = [], version: UInt8 = 6, payloadLength: UInt16? = nil,
                            nextHeader: UInt8? = nil, _ segment: Segment) -> Network {
        let source = AddressText.bytes(src), destination = AddressText.bytes(dst)
        precondition(source.count == 16 && destination.count == 16, "IPv6 needs IPv6 addresses")
        var chain: [UInt8] = []
        for (index, header) in extensionHeaders.enumerated() {
            let next = index + 1 < extensionHeaders.count ? extensionHeaders[index + 1].proto : segment.proto
            chain += header.bytes(next: next)
        }
        var pseudo = source + destination
        pseudo.append32(UInt32(segment.bytes.count))
        pseudo += [0, 0, 0, segment.proto]
        let payload = chain + checksummed(segment, pseudoHeader: pseudo)
        var header: [UInt8] = []
        header.append32(UInt32(version) << 28 | UInt32(trafficClass) << 20 | (flowLabel & 0xF_FFFF))
        header.append16(payloadLength ?? UInt16(payload.count))
        header += [nextHeader ?? extensionHeaders.first?.proto ?? segment.proto, hopLimit]
        return Network(etherType: 0x86DD, bytes: header + source + destination + payload)
    }

    private static func checksummed(_ segment: Segment, pseudoHeader: [UInt8]) -> [UInt8] {
        guard let offset = segment.pseudoHeaderChecksumOffset, segment.bytes.count >= offset + 2 else { return segment.bytes }
        var bytes = segment.bytes
        bytes.set16(internetChecksum(pseudoHeader + bytes), at: offset)
        return bytes
    }
}

/// An IPv6 extension header. Options are padded (Pad1/PadN) to an 8-byte multiple.
public enum IPv6ExtensionHeader: Sendable {
    case hopByHop(options: [UInt8] = [])
    case routing(type: UInt8 = 0, segmentsLeft: UInt8 = 0, data: [UInt8] = [])
    /// `offset` in 8-byte units; `more` is the M flag.
    case fragment(offset: UInt16 = 0, more: Bool = true, id: UInt32 = 0xCAFE)
    case destinationOptions(options: [UInt8] = [])
    /// Any header named `proto`: `bytes` follow the next-header byte as they are.
    case raw(proto: UInt8, bytes: [UInt8])

    public var proto: UInt8 {
        switch self {
        case .hopByHop: 0
        case .routing: 43
        case .fragment: 44
        case .destinationOptions: 60
        case .raw(let proto, _): proto
        }
    }

    func bytes(next: UInt8) -> [UInt8] {
        switch self {
        case .hopByHop(let options), .destinationOptions(let options):
            return Self.padded([next, 0] + options)
        case .routing(let type, let segmentsLeft, let data):
            return Self.padded([next, 0, type, segmentsLeft] + data)
        case .fragment(let offset, let more, let id):
            var out: [UInt8] = [next, 0]
            out.append16(offset << 3 | (more ? 1 : 0))
            out.append32(id)
            return out
        case .raw(_, let bytes):
            return [next] + bytes
        }
    }

    /// Pads to a multiple of 8 and writes the length byte (8-byte units, the first not counted).
    private static func padded(_ header: [UInt8]) -> [UInt8] {
        var out = header
        let missing = (8 - out.count % 8) % 8
        if missing == 1 {
            out.append(0)  // Pad1
        } else if missing >= 2 {
            out += [1, UInt8(missing - 2)] + [UInt8](repeating: 0, count: missing - 2)  // PadN
        }
        out[1] = UInt8(out.count / 8 - 1)
        return out
    }
}

extension Network {
    /// A PPPoE session frame (EtherType 0x8864) carrying IPv4 (PPP 0x0021) or IPv6 (0x0057);
    /// `pppProtocol` and `code` override to build others.
    public static func pppoe(session: UInt16 = 1, code: UInt8 = 0, pppProtocol: UInt16? = nil, _ inner: Network) -> Network {
        var header: [UInt8] = [0x11, code]
        header.append16(session)
        header.append16(UInt16(2 + inner.bytes.count))
        header.append16(pppProtocol ?? (inner.etherType == 0x86DD ? 0x0057 : 0x0021))
        return Network(etherType: 0x8864, bytes: header + inner.bytes)
    }

    /// An MPLS label stack (outermost first) over `inner`; the last label gets bottom-of-stack.
    public static func mpls(labels: [UInt32], ttl: UInt8 = 64, _ inner: Network) -> Network {
        var stack: [UInt8] = []
        for (index, label) in labels.enumerated() {
            let bottom: UInt32 = index == labels.count - 1 ? 0x100 : 0
            stack.append32(label << 12 | bottom | UInt32(ttl))
        }
        return Network(etherType: 0x8847, bytes: stack + inner.bytes)
    }
}
