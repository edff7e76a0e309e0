/// What the decoder learned about one frame. One value is reused for every packet: `reset()`
/// clears it, and nothing in it lives on the heap.
public struct DecodedPacket: Sendable {
    public var linkType = LinkType.ethernet
    /// Captured bytes of the frame.
    public var capturedLength = 0

    /// 802.1Q/802.1ad tags, outermost first; `vlanCount` of them are valid.
    public var vlanCount = 0
    public var vlanIDs: (UInt16, UInt16, UInt16) = (0, 0, 0)

    /// E-Tags and VN-Tags seen; with the VLAN tags at most `Decoder.maxVLANTags`.
    public var extenderTags = 0

    /// Set once a Cisco FabricPath header was unwrapped: one is all a frame may carry.
    public var insideFabricPath = false

    /// The EtherType (or equivalent) that carried the network layer; 0 when there was none.
    public var etherType: UInt16 = 0

    /// The outermost IP layer. `ipVersion` is 0 when the frame has none.
    public var ipVersion: UInt8 = 0
    public var src = IPAddress.zero
    public var dst = IPAddress.zero
    /// Bytes of the IP packet on the wire (IPv4 total length, IPv6 40 + payload length).
    public var ipLength = 0
    /// Offset of the IP header in the frame.
    public var l3Offset = 0
    /// The protocol after IPv4, or after IPv6's extension-header chain.
    public var proto: UInt8 = 0
    /// Offset of that protocol's header in the frame, and the bytes of it and its payload captured.
    public var l4Offset = 0
    public var l4Length = 0

    /// Set for any IPv4 or IPv6 fragment; `isLaterFragment` when the offset is not 0 (no ports).
    public var isFragment = false
    public var isLaterFragment = false

    /// TCP, UDP and SCTP ports; valid when `hasPorts`.
    public var hasPorts = false
    public var sport: UInt16 = 0
    public var dport: UInt16 = 0
    /// TCP flags, the 12 bits after the data offset (NS and the reserved bits included).
    public var hasTCPFlags = false
    public var tcpFlags: UInt16 = 0
    /// Bytes after the transport header, for TCP and UDP.
    public var payloadLength = 0

    /// ICMP and ICMPv6 type and code; valid when `hasICMP`.
    public var hasICMP = false
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    /// For ICMP errors, the packet they quote (the one that was refused or lost).
    public var quoted = QuotedPacket()

    public var events = DecodeEvents()

    /// The tunnels the packet came through: the fields above are then the innermost packet's.
    public var tunnel = TunnelInfo()
    /// Which UDP ports carry tunnels, and whether to decode them: the decoder's setting, kept
    /// across `reset`.
    public var tunnelPorts = TunnelPorts()

    public init() {}

    public var hasIP: Bool { ipVersion != 0 }

    /// The capture stopped before the end of the IP packet (a snap length, not a malformation).
    public var isSnapped: Bool { ipLength > capturedLength - l3Offset }

    public var vlanID0: UInt16? { vlanCount > 0 ? vlanIDs.0 : nil }

    public func vlanID(at index: Int) -> UInt16 {
        switch index {
        case 0: vlanIDs.0
        case 1: vlanIDs.1
        default: vlanIDs.2
        }
    }

    @inline(__always)
    public mutating func reset(linkType: LinkType, capturedLength: Int) {
        let ports = tunnelPorts
        self = DecodedPacket()
        self.linkType = linkType
        self.capturedLength = capturedLength
        tunnelPorts = ports
    }
}

/// The packet an ICMP error quotes: its addresses, protocol and, when present, ports.
public struct QuotedPacket: Sendable, Equatable {
    public var ipVersion: UInt8 = 0
    public var src = IPAddress.zero
    public var dst = IPAddress.zero
    public var proto: UInt8 = 0
    public var hasPorts = false
    public var sport: UInt16 = 0
    public var dport: UInt16 = 0

    public init() {}

    public var isPresent: Bool { ipVersion != 0 }
}
