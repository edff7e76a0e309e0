import Wire

/// Community ID v1 (corelight/community-id-spec): `"1:" + base64(sha1(seed . saddr . daddr .
/// proto . 0 . sport . dport))`, all fields in network byte order, the endpoints ordered so the
/// smaller address (then port) comes first.
///
/// - ICMP and ICMPv6: pass the type as `sport` and the code as `dport`. A type with a
///   counterpart (echo, …) hashes type and counterpart and is ordered like ports; a type
///   without one hashes the code in place of `dport` and is never reordered (one-way).
/// - Protocols other than TCP, UDP, SCTP, ICMP and ICMPv6 hash no ports.
public enum CommunityID {
    /// "1:" and 28 base64 characters.
    public static let encodedLength = 30

    /// Whether the spec hashes ports (or ICMP type/code) for this protocol.
    @inline(__always)
    public static func hasPorts(proto: UInt8) -> Bool {
        switch proto {
        case IPProtocol.tcp, IPProtocol.udp, IPProtocol.sctp, IPProtocol.icmp, IPProtocol.icmpv6: true
        default: false
        }
    }

    public static func compute(seed: UInt16 = 0, src: IPAddress, dst: IPAddress, proto: UInt8,
                               sport: UInt16, dport: UInt16) -> String {
        String(unsafeUninitializedCapacity: encodedLength) { buffer in
            write(seed: seed, src: src, dst: dst, proto: proto, sport: sport, dport: dport,
                  into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Writes the 30 ASCII bytes of the ID at the start of `output` (which must hold them) and
    /// returns 30. No allocation.
    @discardableResult
    public static func write(seed: UInt16 = 0, src: IPAddress, dst: IPAddress, proto: UInt8,
                             sport: UInt16, dport: UInt16, into output: UnsafeMutableRawBufferPointer) -> Int {
        let digest = digest(seed: seed, src: src, dst: dst, proto: proto, sport: sport, dport: dport,
                            includePorts: hasPorts(proto: proto))
        return render(digest, into: output)
    }

    /// The ID of a packet's flow, or nil without an IP layer. A TCP/UDP/SCTP packet whose ports
    /// the decoder could not read (a later fragment, a truncated header) hashes no ports: the
    /// spec has no answer for it, and no ports is the honest tuple.
    public static func compute(seed: UInt16 = 0, packet: borrowing DecodedPacket) -> String? {
        guard let digest = digest(seed: seed, packet: packet) else { return nil }
        return String(unsafeUninitializedCapacity: encodedLength) { buffer in
            render(digest, into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Writes the ID of a packet's flow (see `compute(seed:packet:)`) at the start of `output`,
    /// which must hold 30 bytes, and returns 30; 0 without an IP layer. No allocation.
    public static func write(seed: UInt16 = 0, packet: borrowing DecodedPacket, into output: UnsafeMutableRawBufferPointer) -> Int {
        guard let digest = digest(seed: seed, packet: packet) else { return 0 }
        return render(digest, into: output)
    }

    private static func digest(seed: UInt16, packet: borrowing DecodedPacket) -> SHA1.Digest? {
        guard packet.ipVersion != 0 else { return nil }
        var sport: UInt16 = 0
        var dport: UInt16 = 0
        var includePorts = false
        if packet.hasPorts {
            (sport, dport, includePorts) = (packet.sport, packet.dport, true)
        } else if packet.hasICMP {
            (sport, dport, includePorts) = (UInt16(packet.icmpType), UInt16(packet.icmpCode), true)
        }
        let proto = packet.proto
        if !hasPorts(proto: proto) { includePorts = false }
        return digest(seed: seed, src: packet.src, dst: packet.dst, proto: proto,
                      sport: sport, dport: dport, includePorts: includePorts)
    }

    /// Writes the ID of a tracked flow (see `compute(seed:flow:)`) at the start of `output`,
    /// which must hold 30 bytes, and returns 30. No allocation.
    @discardableResult
    public static func write(seed: UInt16 = 0, flow: Flow, into output: UnsafeMutableRawBufferPointer) -> Int {
        let client = flow.client
        let server = flow.server
        return write(seed: seed, src: client.address, dst: server.address, proto: flow.key.proto,
                     sport: client.port, dport: server.port, into: output)
    }

    /// The ID of a tracked flow, seen from its client. Equal to the ID of any of its packets
    /// (for a later-fragment flow, which keys with ports 0, it hashes ports 0).
    public static func compute(seed: UInt16 = 0, flow: Flow) -> String {
        let client = flow.client
        let server = flow.server
        return compute(seed: seed, src: client.address, dst: server.address, proto: flow.key.proto,
                       sport: client.port, dport: server.port)
    }

    /// The SHA-1 of the ordered tuple, before rendering.
    public static func digest(seed: UInt16, src: IPAddress, dst: IPAddress, proto: UInt8,
                              sport: UInt16, dport: UInt16, includePorts: Bool) -> SHA1.Digest {
        var (src, dst, sport, dport) = (src, dst, sport, dport)
        var isOneWay = false
        if includePorts && ICMPMessage.isICMP(proto) {
            let ports = ICMPMessage.portEquivalents(type: UInt8(truncatingIfNeeded: sport),
                                                    code: UInt8(truncatingIfNeeded: dport),
                                                    isICMPv6: proto == IPProtocol.icmpv6)
            (sport, dport, isOneWay) = ports
        }
        let ordered = isOneWay || src < dst || (src == dst && includePorts && sport < dport)
        if !ordered {
            swap(&src, &dst)
            swap(&sport, &dport)
        }
        // At most 2 + 16 + 16 + 2 + 4 = 40 bytes: five words on the stack.
        var message: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &message) { raw in
            var at = 0
            raw.storeBytes(of: seed.bigEndian, toByteOffset: at, as: UInt16.self)
            at += 2
            at += store(src, into: raw, at: at)
            at += store(dst, into: raw, at: at)
            raw[at] = proto
            raw[at + 1] = 0
            at += 2
            if includePorts {
                raw.storeBytes(of: sport.bigEndian, toByteOffset: at, as: UInt16.self)
                raw.storeBytes(of: dport.bigEndian, toByteOffset: at + 2, as: UInt16.self)
                at += 4
            }
            return SHA1.hash(UnsafeRawBufferPointer(rebasing: raw[0..<at]))
        }
    }

    @inline(__always)
    private static func store(_ address: IPAddress, into raw: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        if address.isIPv6 {
            raw.storeBytes(of: address.high.bigEndian, toByteOffset: offset, as: UInt64.self)
            raw.storeBytes(of: address.low.bigEndian, toByteOffset: offset + 8, as: UInt64.self)
            return 16
        }
        raw.storeBytes(of: address.ipv4Value.bigEndian, toByteOffset: offset, as: UInt32.self)
        return 4
    }

    @inline(__always)
    private static func render(_ digest: SHA1.Digest, into output: UnsafeMutableRawBufferPointer) -> Int {
        precondition(output.count >= encodedLength, "Community ID output buffer too small")
        output[0] = UInt8(ascii: "1")
        output[1] = UInt8(ascii: ":")
        digest.withBytes { bytes in
            _ = Base64.encode(bytes, into: UnsafeMutableRawBufferPointer(rebasing: output[2...]))
        }
        return encodedLength
    }
}
