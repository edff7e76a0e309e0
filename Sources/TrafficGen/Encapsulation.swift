// Tunnels as segments: GRE (with ERSPAN), VXLAN, GENEVE, Teredo and IP in IP, each wrapping a
// frame or a network packet, to go inside `Network.ipv4`/`ipv6`. The overrides build the
// malformed headers the decoder must name.

extension Segment {
    /// GRE version 0 (RFC 2784/2890, RFC 1701's routing) carrying `payload` under `protocolType`.
    /// `checksum`, `key`, `sequence` and `routing` (source route entries, each `family, payload`;
    /// the null entry that ends the list is added) set their bits and fields. `flags` replaces
    /// the computed flags-and-version word.
    public static func gre(protocolType: UInt16, checksum: Bool = false, key: UInt32? = nil, sequence: UInt32? = nil,
                           routing: [(family: UInt16, bytes: [UInt8])]? = nil, flags: UInt16? = nil,
                           _ payload: [UInt8]) -> Segment {
        var word: UInt16 = 0
        if checksum { word |= 0x8000 }
        if routing != nil { word |= 0x4000 }
        if key != nil { word |= 0x2000 }
        if sequence != nil { word |= 0x1000 }
        var bytes: [UInt8] = []
        bytes.append16(flags ?? word)
        bytes.append16(protocolType)
        if checksum || routing != nil { bytes += [0, 0, 0, 0] }  // checksum (left 0), offset
        if let key { bytes.append32(key) }
        if let sequence { bytes.append32(sequence) }
        if let routing {
            for entry in routing {
                bytes.append16(entry.family)
                bytes += [0, UInt8(entry.bytes.count)]
                bytes += entry.bytes
            }
            bytes += [0, 0, 0, 0]
        }
        return Segment(proto: 47, bytes: bytes + payload)
    }

    /// GRE carrying an IP packet (EtherType 0x0800 or 0x86DD).
    public static func gre(key: UInt32? = nil, sequence: UInt32? = nil, checksum: Bool = false, _ inner: Network) -> Segment {
        gre(protocolType: inner.etherType, checksum: checksum, key: key, sequence: sequence, inner.bytes)
    }

    /// GRE carrying an Ethernet frame (transparent Ethernet bridging, 0x6558).
    public static func greEthernet(key: UInt32? = nil, _ frame: [UInt8]) -> Segment {
        gre(protocolType: 0x6558, key: key, frame)
    }

    /// ERSPAN type I: GRE 0x88BE without a sequence number, the mirrored frame right after.
    public static func erspan1(_ frame: [UInt8]) -> Segment {
        gre(protocolType: 0x88BE, frame)
    }

    /// ERSPAN type II (header version 1) with session `session` (10 bits) over GRE with a
    /// sequence number. `version` overrides the header's version nibble.
    public static func erspan2(session: UInt16, vlan: UInt16 = 0, sequence: UInt32 = 1, version: UInt8 = 1,
                               _ frame: [UInt8]) -> Segment {
        var header: [UInt8] = []
        header.append16(UInt16(version & 0x0F) << 12 | (vlan & 0x0FFF))
        header.append16(session & 0x03FF)
        header.append32(0)  // reserved, index
        return gre(protocolType: 0x88BE, sequence: sequence, header + frame)
    }

    /// ERSPAN type III (header version 2) with session `session`; `platform` adds the 8-byte
    /// platform-specific subheader (the O bit).
    public static func erspan3(session: UInt16, platform: Bool = false, sequence: UInt32 = 1, version: UInt8 = 2,
                               _ frame: [UInt8]) -> Segment {
        var header: [UInt8] = []
        header.append16(UInt16(version & 0x0F) << 12)
        header.append16(session & 0x03FF)
        header.append32(0x1234_5678)  // timestamp
        header.append16(0)  // security group tag
        header += [0, platform ? 1 : 0]  // P, FT, HW ID, D, Gra, O
        if platform { header += [UInt8](repeating: 0, count: 8) }
        return gre(protocolType: 0x22EB, sequence: sequence, header + frame)
    }

    /// A VXLAN datagram (RFC 7348) to `dport` carrying `frame` in VNI `vni`; `flags` overrides
    /// the flags byte (0x08, the I bit).
    public static func vxlan(sport: UInt16 = 49152, dport: UInt16 = 4789, vni: UInt32, flags: UInt8 = 0x08,
                             _ frame: [UInt8]) -> Segment {
        var header: [UInt8] = [flags, 0, 0, 0]
        header.append32(vni << 8)
        return .udp(sport: sport, dport: dport, payload: header + frame)
    }

    /// A GENEVE datagram (RFC 8926) with `optionWords` 4-byte words of options (zeros) and
    /// `protocolType` (0x6558 for an Ethernet frame, or an EtherType). `version` overrides the
    /// 2-bit version.
    public static func geneve(sport: UInt16 = 49152, dport: UInt16 = 6081, vni: UInt32, optionWords: UInt8 = 0,
                              protocolType: UInt16 = 0x6558, version: UInt8 = 0, _ payload: [UInt8]) -> Segment {
        var header: [UInt8] = [version << 6 | (optionWords & 0x3F), 0]
        header.append16(protocolType)
        header.append32(vni << 8)
        header += [UInt8](repeating: 0, count: Int(optionWords) * 4)
        return .udp(sport: sport, dport: dport, payload: header + payload)
    }

    /// A Teredo datagram (RFC 4380) carrying an IPv6 packet; `origin` adds the origin indication
    /// header, `authentication` an authentication header with no id or value.
    public static func teredo(sport: UInt16 = 3544, dport: UInt16 = 3544, origin: Bool = false, authentication: Bool = false,
                              _ inner: Network) -> Segment {
        var header: [UInt8] = []
        if authentication { header += [0, 1, 0, 0] + [UInt8](repeating: 0, count: 9) }
        if origin { header += [0, 0, 0xF0, 0x0F, 0x3F, 0x57, 0xFE, 0xFE] }
        return .udp(sport: sport, dport: dport, payload: header + inner.bytes)
    }

    /// IP in IP: an IPv4 packet under protocol 4, an IPv6 one under 41.
    public static func ipInIP(_ inner: Network) -> Segment {
        .raw(proto: inner.etherType == 0x86DD ? 41 : 4, inner.bytes)
    }
}
