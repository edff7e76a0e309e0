import Wire

/// The symmetric identity of a flow: both addresses, both ports, the protocol and the outermost
/// VLAN id. Endpoint A is the smaller (address, port) pair, so a packet and its reply give the
/// same key; `FlowKey.of(_:)` also says whether the packet went A → B (the canonical direction).
///
/// - Ports: TCP, UDP and SCTP ports. ICMP and ICMPv6 put the type in the port slot of the
///   sender and the counterpart type (echo request ↔ reply, …) in the other, as Suricata's
///   `icmp_s`/`icmp_d` and the Community ID spec do, so a request and its reply share a flow.
///   A one-way type (no counterpart) puts the code in the other slot: it is a flow of its own.
/// - ICMP errors quote another flow's packet: they are not a flow for verdict purposes;
///   `FlowKey.quotedFlow(of:)` gives the key of the flow the error is about.
/// - Later IPv4/IPv6 fragments carry no transport header: they key on addresses and protocol
///   with both ports 0, so all later fragments between two hosts share one port-less flow
///   (the first fragment, which has the ports, belongs to the real 5-tuple). Reassembly would
///   be needed to do better, and a passive sensor does not reassemble.
/// - The VLAN id is the outermost tag's 12 bits; an untagged frame and a priority tag (VID 0)
///   both key as 0.
/// - A tunneled packet keys on its innermost tuple and the tunnel's key (`TunnelInfo.key`: a
///   hash of the tunnels crossed), so the same inner tuple in two tunnels is two flows; 0 when
///   there is no tunnel.
///
/// Forty-eight bytes, no heap: four address words, one packed word of ports, VLAN and
/// protocol, and the tunnel's key.
public struct FlowKey: Hashable, Sendable {
    @usableFromInline var aHigh: UInt64
    @usableFromInline var aLow: UInt64
    @usableFromInline var bHigh: UInt64
    @usableFromInline var bLow: UInt64
    /// portA << 48 | portB << 32 | vlan << 16 | proto << 8 | isIPv6.
    @usableFromInline var packed: UInt64
    /// The tunnel the flow runs in (`TunnelInfo.key`), 0 for none.
    @usableFromInline var tunnel: UInt64

    public static let zero = FlowKey(aHigh: 0, aLow: 0, bHigh: 0, bLow: 0, packed: 0, tunnel: 0)

    @inlinable
    init(aHigh: UInt64, aLow: UInt64, bHigh: UInt64, bLow: UInt64, packed: UInt64, tunnel: UInt64) {
        self.aHigh = aHigh
        self.aLow = aLow
        self.bHigh = bHigh
        self.bLow = bLow
        self.packed = packed
        self.tunnel = tunnel
    }

    public var isIPv6: Bool { packed & 1 != 0 }
    /// The tunnel the flow runs in (`TunnelInfo.key`), 0 for none.
    public var tunnelKey: UInt64 { tunnel }
    public var proto: UInt8 { UInt8(truncatingIfNeeded: packed >> 8) }
    public var vlan: UInt16 { UInt16(truncatingIfNeeded: packed >> 16) }
    /// Endpoint A: the smaller (address, port).
    public var addressA: IPAddress { IPAddress(high: aHigh, low: aLow, isIPv6: isIPv6) }
    public var portA: UInt16 { UInt16(truncatingIfNeeded: packed >> 48) }
    public var addressB: IPAddress { IPAddress(high: bHigh, low: bLow, isIPv6: isIPv6) }
    public var portB: UInt16 { UInt16(truncatingIfNeeded: packed >> 32) }

    /// Orders the two endpoints. `isCanonical` is true when src was endpoint A (src < dst; on a
    /// tie, e.g. a host talking to itself on one port, the packet counts as canonical).
    @inlinable
    public static func make(src: IPAddress, dst: IPAddress, proto: UInt8, sport: UInt16, dport: UInt16,
                            vlan: UInt16 = 0, tunnel: UInt64 = 0) -> (key: FlowKey, isCanonical: Bool) {
        let canonical = (src.high, src.low, sport) <= (dst.high, dst.low, dport)
        let tail = UInt64(vlan & 0x0FFF) << 16 | UInt64(proto) << 8 | (src.isIPv6 ? 1 : 0)
        if canonical {
            return (FlowKey(aHigh: src.high, aLow: src.low, bHigh: dst.high, bLow: dst.low,
                            packed: UInt64(sport) << 48 | UInt64(dport) << 32 | tail, tunnel: tunnel), true)
        }
        return (FlowKey(aHigh: dst.high, aLow: dst.low, bHigh: src.high, bLow: src.low,
                        packed: UInt64(dport) << 48 | UInt64(sport) << 32 | tail, tunnel: tunnel), false)
    }

    /// The key of the flow a packet belongs to, or nil when it has no IP layer.
    /// An ICMP error gets a key of its own here; see `quotedFlow(of:)` for the flow it is about.
    @inlinable
    public static func of(_ packet: borrowing DecodedPacket) -> (key: FlowKey, isCanonical: Bool)? {
        guard packet.ipVersion != 0 else { return nil }
        var sport: UInt16 = 0
        var dport: UInt16 = 0
        if packet.hasPorts {
            sport = packet.sport
            dport = packet.dport
        } else if packet.hasICMP {
            let ports = ICMPMessage.portEquivalents(type: packet.icmpType, code: packet.icmpCode,
                                                    isICMPv6: packet.proto == IPProtocol.icmpv6)
            sport = ports.sport
            dport = ports.dport
        }
        return make(src: packet.src, dst: packet.dst, proto: packet.proto, sport: sport, dport: dport,
                    vlan: packet.vlanCount > 0 ? packet.vlanIDs.0 : 0, tunnel: packet.tunnel.key)
    }

    /// For an ICMP error, the key of the flow whose packet it quotes (the outer VLAN id is
    /// kept), so the engine finds the original TCP/UDP/SCTP flow. `isCanonical` is the
    /// direction of the *quoted* packet; the error itself travels the other way. Nil when the
    /// packet is not an ICMP error or the decoder found no quoted IP header. A quote without
    /// ports (another protocol, a later fragment) keys with ports 0; a quoted ICMP message is
    /// not decoded deeper, so it keys with ports 0 too and finds no echo flow.
    @inlinable
    public static func quotedFlow(of packet: borrowing DecodedPacket) -> (key: FlowKey, isCanonical: Bool)? {
        guard packet.hasICMP, packet.quoted.isPresent,
              ICMPMessage.isError(type: packet.icmpType, isICMPv6: packet.proto == IPProtocol.icmpv6)
        else { return nil }
        let quoted = packet.quoted
        return make(src: quoted.src, dst: quoted.dst, proto: quoted.proto,
                    sport: quoted.hasPorts ? quoted.sport : 0, dport: quoted.hasPorts ? quoted.dport : 0,
                    vlan: packet.vlanCount > 0 ? packet.vlanIDs.0 : 0, tunnel: packet.tunnel.key)
    }

    /// A keyed 64-bit hash: a multiply-xorshift chain over the five words (the tunnel's key folded into the packed one), started from the
    /// table's seed and finished with MurmurHash3's fmix64. Not cryptographic, but without the
    /// seed an attacker cannot aim packets at one bucket.
    @inlinable @inline(__always)
    public func hash(seed: UInt64) -> UInt64 {
        var h = seed ^ 0x9E37_79B9_7F4A_7C15
        h = FlowKey.round(h, aHigh)
        h = FlowKey.round(h, aLow)
        h = FlowKey.round(h, bHigh)
        h = FlowKey.round(h, bLow)
        // The tunnel's key (itself a hash) folds into the packed word: a flow outside any
        // tunnel hashes (and gets the flow id) as it did before tunnels were keyed.
        h = FlowKey.round(h, packed ^ tunnel)
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    @inlinable @inline(__always)
    static func round(_ h: UInt64, _ word: UInt64) -> UInt64 {
        var x = (h ^ word) &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 29
        return x &+ (word >> 32 | word << 32)
    }

    @inlinable @inline(__always)
    public static func == (a: FlowKey, b: FlowKey) -> Bool {
        // One branch for the common miss: compare the words as a batch.
        ((a.aHigh ^ b.aHigh) | (a.aLow ^ b.aLow) | (a.bHigh ^ b.bHigh) | (a.bLow ^ b.bLow) | (a.packed ^ b.packed)
            | (a.tunnel ^ b.tunnel)) == 0
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(aHigh)
        hasher.combine(aLow)
        hasher.combine(bHigh)
        hasher.combine(bLow)
        hasher.combine(packed)
        hasher.combine(tunnel)
    }
}

extension FlowKey: CustomStringConvertible {
    public var description: String {
        "\(addressA):\(portA) <-> \(addressB):\(portB) proto \(proto)" + (vlan != 0 ? " vlan \(vlan)" : "")
            + (tunnel != 0 ? " tunnel \(String(tunnel, radix: 16))" : "")
    }
}
