/// What a matching rule does. Suricata's default action order runs `pass` before `alert`.
/// The IPS actions (`drop`, `reject` and its variants) alert here, as Suricata's do in IDS
/// mode: a passive sensor drops and rejects nothing. They keep their name, so the load report
/// counts them.
public enum RuleAction: String, Sendable, Hashable, CaseIterable {
    case alert
    case pass
    case drop
    case reject
    case rejectsrc
    case rejectdst
    case rejectboth

    /// Whether a match writes an alert: every action but `pass`.
    public var alerts: Bool { self != .pass }
}

/// The header protocol. `ip` matches every packet; `icmp` matches ICMPv4 and ICMPv6.
public enum RuleProtocol: String, Sendable, Hashable, CaseIterable {
    case tcp
    case udp
    case sctp
    case icmp
    case ip

    /// Rules of these protocols may name ports.
    public var hasPorts: Bool {
        switch self {
        case .tcp, .udp, .sctp: true
        case .icmp, .ip: false
        }
    }

    /// The IP protocol number, for the protocols that have exactly one.
    public var number: UInt8? {
        switch self {
        case .tcp: 6
        case .udp: 17
        case .sctp: 132
        case .icmp, .ip: nil
        }
    }
}

public enum RuleDirection: String, Sendable, Hashable {
    /// `->`: source to destination only.
    case toDestination = "->"
    /// `<>`: either way.
    case both = "<>"
}

/// A port set; `any` is the full 0...65535.
public typealias PortSet = IntervalSet<UInt16>

/// `flags` / `tcp.flags`, with Suricata's matching semantics.
public struct TCPFlagsMatch: Sendable, Hashable, BitwiseCopyable {
    public enum Modifier: Sendable, Hashable, BitwiseCopyable {
        /// No modifier: exactly these flags (after the ignored ones).
        case exact
        /// `+`: these flags and any others.
        case all
        /// `*`: any of these flags.
        case any
        /// `!`: not all of these flags.
        case not
    }

    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
    public static let urg: UInt8 = 0x20
    public static let ece: UInt8 = 0x40
    public static let cwr: UInt8 = 0x80

    public var flags: UInt8
    public var modifier: Modifier
    /// Flags masked out of the packet before comparing (the `,mask` form).
    public var ignored: UInt8

    public init(flags: UInt8, modifier: Modifier = .exact, ignored: UInt8 = 0) {
        self.flags = flags
        self.modifier = modifier
        self.ignored = ignored
    }

    @inlinable
    public func matches(_ packetFlags: UInt8) -> Bool {
        // Suricata checks `flags:0` against the unmasked flags.
        if flags == 0 && packetFlags != 0 { return modifier == .not }
        let seen = packetFlags & ~ignored
        switch modifier {
        case .exact: return seen == flags
        case .all: return seen & flags == flags
        case .any: return seen & flags != 0
        case .not: return seen & flags != flags
        }
    }
}

/// `flow`: which side sent the packet and the flow's state, as the engine tracks them.
public struct FlowMatch: Sendable, Hashable, BitwiseCopyable {
    public enum Direction: Sendable, Hashable, BitwiseCopyable {
        case toServer
        case toClient
    }

    public enum State: Sendable, Hashable, BitwiseCopyable {
        case established
        case notEstablished
    }

    public var direction: Direction?
    public var state: State?
    /// `stateless`: match whether or not the engine tracks the flow.
    public var stateless: Bool

    public init(direction: Direction? = nil, state: State? = nil, stateless: Bool = false) {
        self.direction = direction
        self.state = state
        self.stateless = stateless
    }

    @inlinable
    public func matches(_ flow: FlowFacts) -> Bool {
        if let direction {
            switch direction {
            case .toServer: if flow.direction != .toServer { return false }
            case .toClient: if flow.direction != .toClient { return false }
            }
        }
        if let state {
            switch state {
            case .established: if !flow.established { return false }
            case .notEstablished: if flow.established { return false }
            }
        }
        return true
    }
}

/// What the engine knows of a packet's flow when matching.
public struct FlowFacts: Sendable, Hashable {
    public enum Direction: Sendable, Hashable {
        case toServer
        case toClient
        /// No flow tracked, or the direction is not known yet.
        case unknown
    }

    public var direction: Direction
    public var established: Bool
    /// Packets the client and the server have sent, this one included (`flow.pkts`).
    public var packetsToServer: UInt32
    public var packetsToClient: UInt32

    public init(direction: Direction = .unknown, established: Bool = false,
                packetsToServer: UInt32 = 0, packetsToClient: UInt32 = 0) {
        self.direction = direction
        self.established = established
        self.packetsToServer = packetsToServer
        self.packetsToClient = packetsToClient
    }

    public static let unknown = FlowFacts()
}

public enum ThresholdTrack: String, Sendable, Hashable, CaseIterable {
    case bySource = "by_src"
    case byDestination = "by_dst"
    case byRule = "by_rule"
    case byBoth = "by_both"
}

/// `threshold: type T, track K, count N, seconds S`; the engine keeps the counters.
public struct Threshold: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// At most `count` alerts per `seconds`.
        case limit
        /// One alert every `count`th match within `seconds`.
        case threshold
        /// One alert per `seconds` once `count` matches were seen.
        case both
    }

    public var kind: Kind
    public var track: ThresholdTrack
    public var count: UInt32
    public var seconds: UInt32

    public init(kind: Kind, track: ThresholdTrack, count: UInt32, seconds: UInt32) {
        self.kind = kind
        self.track = track
        self.count = count
        self.seconds = seconds
    }
}

/// `detection_filter: track K, count N, seconds S`: alert on every match after the Nth in S.
public struct DetectionFilter: Sendable, Hashable {
    public var track: ThresholdTrack
    public var count: UInt32
    public var seconds: UInt32

    public init(track: ThresholdTrack, count: UInt32, seconds: UInt32) {
        self.track = track
        self.count = count
        self.seconds = seconds
    }
}

/// `reference: system, id`.
public struct RuleReference: Sendable, Hashable {
    public var system: String
    public var id: String

    public init(system: String, id: String) {
        self.system = system
        self.id = id
    }
}

/// Where a rule came from, for messages and `rules list`.
public struct RuleLocation: Sendable, Hashable {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
}

/// One parsed rule: the header compiled to sets, the options typed.
public struct Rule: Sendable, Hashable {
    public var action: RuleAction
    public var proto: RuleProtocol
    public var source: AddressSet
    public var sourcePorts: PortSet
    public var direction: RuleDirection
    public var destination: AddressSet
    public var destinationPorts: PortSet

    public var sid: UInt32
    public var gid: UInt32
    public var rev: UInt32
    public var msg: String
    public var classtype: String?
    /// The classtype's description (EVE's `alert.category`); empty without a classtype.
    public var category = ""
    /// From `priority`, else the classtype's, else Suricata's default 3.
    public var priority: Int
    public var metadata: [String: [String]]
    public var references: [RuleReference]
    public var flags: TCPFlagsMatch?
    public var flow: FlowMatch?
    /// `dsize`: the payload length.
    public var dsize: IntegerMatch?
    /// `flow.pkts` (and `flow.pkts_toserver`/`flow.pkts_toclient`), all of which must hold.
    public var flowPackets = FlowPacketsMatches()
    public var threshold: Threshold?
    public var detectionFilter: DetectionFilter?
    /// From `threshold.config`'s `suppress` entries (`ThresholdConfig`); empty for most rules.
    public var suppressions: [Suppression] = []

    public var location: RuleLocation
    /// The rule as written, continuation lines joined.
    public var text: String

    public init(
        action: RuleAction, proto: RuleProtocol,
        source: AddressSet = .any, sourcePorts: PortSet = .all,
        direction: RuleDirection = .toDestination,
        destination: AddressSet = .any, destinationPorts: PortSet = .all,
        sid: UInt32, gid: UInt32 = 1, rev: UInt32 = 0, msg: String = "",
        classtype: String? = nil, priority: Int = Rule.defaultPriority,
        metadata: [String: [String]] = [:], references: [RuleReference] = [],
        flags: TCPFlagsMatch? = nil, flow: FlowMatch? = nil,
        threshold: Threshold? = nil, detectionFilter: DetectionFilter? = nil,
        location: RuleLocation = RuleLocation(file: "", line: 0), text: String = ""
    ) {
        self.action = action
        self.proto = proto
        self.source = source
        self.sourcePorts = sourcePorts
        self.direction = direction
        self.destination = destination
        self.destinationPorts = destinationPorts
        self.sid = sid
        self.gid = gid
        self.rev = rev
        self.msg = msg
        self.classtype = classtype
        self.priority = priority
        self.metadata = metadata
        self.references = references
        self.flags = flags
        self.flow = flow
        self.threshold = threshold
        self.detectionFilter = detectionFilter
        self.location = location
        self.text = text
    }

    /// Suricata's priority when neither `priority` nor a classtype sets one.
    public static let defaultPriority = 3
}

extension Rule {
    /// The ports a packet of a TCP/UDP/SCTP rule must have on one side or the other to match
    /// it: the narrower side is enough, since a packet must match both. Nil when the rule takes
    /// any port on both sides (or has no ports).
    public var watchedPorts: PortSet? {
        Self.watchedPorts(proto: proto, source: sourcePorts, destination: destinationPorts)
    }

    /// `watchedPorts` from a rule's fields (a caller going through many rules by index reads
    /// these three rather than copy each rule).
    public static func watchedPorts(proto: RuleProtocol, source: PortSet, destination: PortSet) -> PortSet? {
        guard proto.hasPorts, !(source.isFull && destination.isFull) else { return nil }
        return source.isFull || (!destination.isFull && destination.count <= source.count) ? destination : source
    }
}
