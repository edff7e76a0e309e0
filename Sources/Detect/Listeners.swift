import Baseline
import Flow
import Wire

/// How the engine uses a listener baseline (`Engine.baseline`): what an answer from a known
/// listener becomes, and until when it learns new ones.
public struct BaselinePolicy: Sendable, Equatable {
    public enum Known: String, Sendable, CaseIterable {
        /// The rule's alert, at severity 3, marked `"listener":"known"`.
        case alert
        /// No alert; the flow record keeps its verdict (counted as `listeners_silenced`).
        case silent
    }

    public var known = Known.alert
    /// Packet time (nanoseconds) until which listeners not in the baseline are learned; nil:
    /// never (detection only, `read --baseline`); `.max`: always (`baseline learn`).
    public var learnUntil: Int64?

    public init(known: Known = .alert, learnUntil: Int64? = nil) {
        self.known = known
        self.learnUntil = learnUntil
    }

    func learns(at time: Int64) -> Bool { learnUntil.map { time < $0 } ?? false }
}

/// What the baseline says of the listener that answered.
public enum ListenerStatus: Sendable {
    /// In the baseline.
    case known
    /// Not in it, and the baseline learns no more: something started answering.
    case new
    /// Not in it yet, and the sensor is learning: it will be.
    case learning

    public var name: StaticString {
        switch self {
        case .known: "known"
        case .new: "new"
        case .learning: "learning"
        }
    }
}

/// A new listener's alert: ghostport's own sid, outside the registry's 9,000,000 block.
public enum NewListenerAlert {
    public static let sid: UInt32 = 8_999_004
    /// A known listener's answer is reported at this severity instead of the rule's.
    public static let knownSeverity = 3
    public static let newSeverity = 1
}

extension Flow {
    /// The listener of a watched flow: its server's address, the watched port, the protocol.
    var listener: ListenerKey { ListenerKey(address: server.address, port: watchedPort, proto: key.proto) }
}

/// A set that stops growing at `capacity`: past it, what it lacks stays out.
struct BoundedSet<Element: Hashable> {
    private var members = Set<Element>()
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ element: Element) -> Bool { members.contains(element) }

    mutating func insert(_ element: Element) {
        if members.count < capacity { members.insert(element) }
    }
}
