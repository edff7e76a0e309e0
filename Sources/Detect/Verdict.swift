/// What became of a flow to a watched port.
public enum Verdict: UInt8, Sendable, CaseIterable {
    /// Not a flow to a watched port.
    case none = 0
    /// Nothing came back before the flow ended or timed out.
    case unanswered = 1
    /// A TCP RST from the port, or an ICMP port-unreachable/admin-prohibited quoting the flow.
    case rejected = 2
    /// The watched side replied: something listens on an abandoned port.
    case answered = 3
    /// The watched side sent the flow's first packets, a SYN-ACK or a RST with no data, to an
    /// address that sent it nothing: replies to a spoofed attack elsewhere that used our address,
    /// not a listener answering us. Out of order: any answer from the client's side turns it
    /// into a session (`answered`).
    case backscatter = 4

    /// Static text: records append it without a reference count.
    public var name: StaticString {
        switch self {
        case .none: "none"
        case .unanswered: "unanswered"
        case .rejected: "rejected"
        case .answered: "answered"
        case .backscatter: "backscatter"
        }
    }

    /// The verdict while the flow is still open, as alerts report it: a probe not yet answered.
    public var liveName: StaticString { self == .unanswered ? "probe" : name }
}

/// ICMP errors that mean "refused": port unreachable and administratively prohibited.
enum Refusal {
    static func isRefusal(icmpType: UInt8, code: UInt8, ipVersion: UInt8) -> Bool {
        if ipVersion == 4 {
            // Destination unreachable: port (3), net/host/communication administratively prohibited (9, 10, 13).
            return icmpType == 3 && (code == 3 || code == 9 || code == 10 || code == 13)
        }
        // ICMPv6 destination unreachable: administratively prohibited (1), port unreachable (4),
        // source address failed ingress/egress policy (5), reject route (6).
        return icmpType == 1 && (code == 1 || code == 4 || code == 5 || code == 6)
    }
}
