import Rules
import Wire

/// A listener on a watched port: the server's address, the port and the transport protocol.
public struct ListenerKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    /// IP protocol number: 6 TCP, 17 UDP, 132 SCTP.
    public var proto: UInt8

    public init(address: IPAddress, port: UInt16, proto: UInt8) {
        self.address = address
        self.port = port
        self.proto = proto
    }

    public static func < (a: ListenerKey, b: ListenerKey) -> Bool {
        (a.address, a.port, a.proto) < (b.address, b.port, b.proto)
    }

    /// `192.0.2.7 104/tcp`, as the baseline file writes it.
    public var description: String { "\(address) \(port)/\(Self.protocolName(proto) ?? String(proto))" }

    public static func protocolName(_ proto: UInt8) -> String? {
        switch proto {
        case 6: "tcp"
        case 17: "udp"
        case 132: "sctp"
        default: nil
        }
    }

    public static func protocolNumber(_ name: some StringProtocol) -> UInt8? {
        switch name {
        case "tcp": 6
        case "udp": 17
        case "sctp": 132
        default: nil
        }
    }

    /// An address in the baseline file's text: a dotted quad or IPv6 text.
    public static func parseAddress(_ text: some StringProtocol) -> IPAddress? {
        if let v4 = IPAddressText.parseIPv4(text) { return IPAddress(ipv4: v4) }
        guard let v6 = IPAddressText.parseIPv6(text) else { return nil }
        return IPAddress(high: UInt64(truncatingIfNeeded: v6 >> 64), low: UInt64(truncatingIfNeeded: v6), isIPv6: true)
    }
}

/// What the baseline knows of a listener. Times are seconds since the epoch; nil when a
/// hand-written line leaves them out.
public struct ListenerEntry: Equatable, Sendable {
    public var firstSeen: Int64?
    public var lastSeen: Int64?
    /// Answered flows seen.
    public var flows: UInt64
    /// Distinct client addresses: counted exactly within one learning run; across runs the
    /// larger of the runs' figures (the clients themselves are not kept).
    public var clients: UInt64
    /// The operator's note (`# ...` at the end of the line), kept when the file is rewritten.
    public var comment: String?

    public init(firstSeen: Int64? = nil, lastSeen: Int64? = nil, flows: UInt64 = 0, clients: UInt64 = 0, comment: String? = nil) {
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.flows = flows
        self.clients = clients
        self.comment = comment
    }
}
