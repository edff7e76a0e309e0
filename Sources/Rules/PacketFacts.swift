/// The header facts rule matching needs from one decoded packet.
///
/// Addresses are 128-bit; an IPv4 address sits in the low 32 bits.
public struct PacketFacts: Sendable, Hashable {
    /// 4 or 6.
    public var ipVersion: UInt8
    public var src: UInt128
    public var dst: UInt128
    /// The IP protocol number (after IPv6 extension headers).
    public var proto: UInt8
    public var sport: UInt16
    public var dport: UInt16
    /// False when the transport header was not decoded (fragments, truncation, no ports).
    public var hasPorts: Bool
    /// The TCP flags byte; meaningful only for TCP with `hasPorts`.
    public var tcpFlags: UInt8
    /// The bytes after the transport header (`dsize`).
    public var payloadLength: UInt16

    public init(
        ipVersion: UInt8, src: UInt128, dst: UInt128, proto: UInt8,
        sport: UInt16 = 0, dport: UInt16 = 0, hasPorts: Bool = false, tcpFlags: UInt8 = 0,
        payloadLength: UInt16 = 0
    ) {
        self.ipVersion = ipVersion
        self.src = src
        self.dst = dst
        self.proto = proto
        self.sport = sport
        self.dport = dport
        self.hasPorts = hasPorts
        self.tcpFlags = tcpFlags
        self.payloadLength = payloadLength
    }

    /// An IPv4 packet; ports count as decoded for TCP, UDP and SCTP.
    public static func ipv4(
        src: UInt32, dst: UInt32, proto: UInt8, sport: UInt16 = 0, dport: UInt16 = 0, tcpFlags: UInt8 = 0,
        payloadLength: UInt16 = 0
    ) -> PacketFacts {
        PacketFacts(
            ipVersion: 4, src: UInt128(src), dst: UInt128(dst), proto: proto, sport: sport, dport: dport,
            hasPorts: carriesPorts(proto), tcpFlags: tcpFlags,
            payloadLength: payloadLength)
    }

    /// An IPv6 packet; ports count as decoded for TCP, UDP and SCTP.
    public static func ipv6(
        src: UInt128, dst: UInt128, proto: UInt8, sport: UInt16 = 0, dport: UInt16 = 0, tcpFlags: UInt8 = 0,
        payloadLength: UInt16 = 0
    ) -> PacketFacts {
        PacketFacts(
            ipVersion: 6, src: src, dst: dst, proto: proto, sport: sport, dport: dport,
            hasPorts: carriesPorts(proto), tcpFlags: tcpFlags,
            payloadLength: payloadLength)
    }

    /// TCP, UDP and SCTP carry ports.
    public static func carriesPorts(_ proto: UInt8) -> Bool {
        proto == 6 || proto == 17 || proto == 132
    }
}

/// A caller-owned buffer `RuleSet.match` fills; reuse one per thread so matching allocates nothing.
public struct RuleMatches: Sendable {
    /// Indices into `RuleSet.rules` of the alert rules that matched, ascending.
    public internal(set) var alerts: [Int]
    /// The pass rule that matched, if any; then `alerts` is empty, as pass runs before alert.
    public internal(set) var pass: Int?

    public init(capacity: Int = 64) {
        alerts = []
        alerts.reserveCapacity(capacity)
        pass = nil
    }

    public var isEmpty: Bool { alerts.isEmpty && pass == nil }

    mutating func reset() {
        // removeAll is not free even when empty, and most packets match nothing.
        if !alerts.isEmpty { alerts.removeAll(keepingCapacity: true) }
        pass = nil
    }
}
