import Platform
import Flow
import Wire

/// The flow-record budget past which flows that carried nothing are summarised, not logged one
/// by one (`detect.flood` in the config, `--flood-*` on the command line).
///
/// Per window of `seconds` (packet time, windows aligned to the epoch), a watched port and
/// protocol gets `perPort` flow records and the sensor `sensorWide`. Past either, a watched
/// flow that carried nothing (see `FloodKind`) and wrote no alert of its own is folded into
/// its port's aggregate record for the window instead. Flows that were answered or rejected,
/// carried data, or wrote an alert keep their own record, always, budget or not.
public struct FloodLimits: Sendable, Equatable {
    public var perPort = 1_000
    public var sensorWide = 10_000
    public var seconds = 60
    /// The top sources an aggregate record names.
    public var topSources = 10

    public init() {}

    /// Every flow keeps its own record (`--flood-per-port 0`).
    public static var unlimited: FloodLimits {
        var limits = FloodLimits()
        limits.perPort = .max
        limits.sensorWide = .max
        return limits
    }

    public var isUnlimited: Bool { perPort == .max && sensorWide == .max }
}

/// What a folded flow was.
public enum FloodKind: UInt8, Sendable, CaseIterable {
    /// Sent to a watched port, one-sided, no payload, not answered or rejected: a probe among
    /// many (a spoofed SYN flood looks like this).
    case flood = 0
    /// Sent from a watched port to an address of ours that sent nothing to it first: SYN-ACKs
    /// and RSTs replying to a spoofed attack elsewhere that used our address (`Verdict.backscatter`).
    case backscatter = 1

    public var name: StaticString {
        switch self {
        case .flood: "flood"
        case .backscatter: "backscatter"
        }
    }

    /// The alert naming a flood's start and end (ghostport's own sids, beside `ScanAlert.sid`).
    public var sid: UInt32 { self == .flood ? 8_999_002 : 8_999_003 }
}

/// One window's folded flows of one kind on one watched port.
public struct FloodAggregate: Sendable {
    public var kind: FloodKind
    public var port: UInt16
    public var proto: UInt8
    public var windowStart: Int64
    /// How many top sources and destinations the record names.
    public var topCount = 10
    public var flows: UInt64 = 0
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Who sent the flows' packets (flood: the clients; backscatter: the watched side) and who received them.
    public var sources = DistinctCount()
    public var destinations = DistinctCount()
    public var topSources = TopAddresses()
    public var topDestinations = TopAddresses()
    /// Flows by the TCP flags their sender set (OR of its packets), empty for UDP and SCTP.
    public var tcpFlags: [UInt8: UInt64] = [:]
    public var firstSeen = Int64.max
    public var lastSeen = Int64.min
    /// The window's end, or the input's when it ended first.
    public var closedAt: Int64 = 0

    init(kind: FloodKind, port: UInt16, proto: UInt8, windowStart: Int64, topCount: Int) {
        self.topCount = topCount
        self.kind = kind
        self.port = port
        self.proto = proto
        self.windowStart = windowStart
    }
}

/// A flood beginning or ending on a port: the figures so far, or over its whole span.
public struct FloodAlert: Sendable {
    public enum State: Sendable {
        case began
        /// A window closed with nothing folded on the port.
        case ended
        /// The input ended (shutdown, or the end of a read) while the flood went on.
        case endedAtShutdown
    }

    public var state: State
    /// When the sensor saw it begin or end (packet time).
    public var at: Int64
    public var kind: FloodKind
    public var port: UInt16
    public var proto: UInt8
    public var began: Int64
    public var lastSeen: Int64
    /// Folded so far (began: the first).
    public var flows: UInt64
    public var packets: UInt64
    public var bytes: UInt64
    public var sources: UInt64
    public var destinations: UInt64
    public var topSources: [(address: IPAddress, count: UInt64)]
    public var topDestinations: [(address: IPAddress, count: UInt64)]
    /// Flow records the port had written in the window when folding began.
    public var recordsInWindow: Int
    /// The sender and receiver of the flood's first folded flow.
    public var firstSource: IPAddress
    public var firstDestination: IPAddress
    public var limits: FloodLimits
}

/// Keeps the flow-record budget and the aggregates of folded flows (see `FloodLimits`). The
/// engine asks it at each flow end whether the flow keeps its record, and at each second of
/// packet time whether a window closed. Bounded: at most `maxKeys` (kind, port, protocol)
/// aggregates at once; past that, flows keep their own records.
///
/// A fold is on the flood's hot path (every flow of a spoofed flood ends in one): it updates the
/// window's aggregate in place (two sketch registers, two Space-Saving counters, a few sums);
/// the flood's running figures take each window's aggregate when the window closes.
public struct FloodFolder {
    public let limits: FloodLimits
    let seed: UInt64
    private var windowStart = Int64.min
    /// Flow records written this window, by watched port << 8 | protocol, and in all.
    private var recordsByPort: [UInt32: Int] = [:]
    private var records = 0
    /// This window's aggregates, found by `key(kind:port:proto:)`, and the floods under way.
    private var aggregates: [FloodAggregate] = []
    private var aggregateIndex: [UInt32: Int] = [:]
    private var episodes: [UInt32: Episode] = [:]
    static let maxKeys = 1_024

    struct Episode {
        var began: Int64
        var lastSeen: Int64
        var flows: UInt64 = 0
        var packets: UInt64 = 0
        var bytes: UInt64 = 0
        var sources = DistinctCount()
        var destinations = DistinctCount()
        var topSources = TopAddresses()
        var topDestinations = TopAddresses()
        var recordsInWindow: Int
        var firstSource: IPAddress
        var firstDestination: IPAddress

        mutating func add(_ aggregate: FloodAggregate) {
            flows &+= aggregate.flows
            packets &+= aggregate.packets
            bytes &+= aggregate.bytes
            began = min(began, aggregate.firstSeen)
            lastSeen = max(lastSeen, aggregate.lastSeen)
            sources.merge(aggregate.sources)
            destinations.merge(aggregate.destinations)
            topSources.merge(aggregate.topSources)
            topDestinations.merge(aggregate.topDestinations)
        }
    }

    public init(limits: FloodLimits, seed: UInt64) {
        self.limits = limits
        self.seed = seed
    }

    private var windowNanoseconds: Int64 { Int64(max(1, limits.seconds)) * 1_000_000_000 }

    private static func key(kind: FloodKind, port: UInt16, proto: UInt8) -> UInt32 {
        UInt32(kind.rawValue) << 24 | UInt32(port) << 8 | UInt32(proto)
    }

    /// The kind a watched flow that wrote no alert would be folded as, or nil: it keeps its record.
    static func kind(of flow: borrowing Flow, verdict: Verdict, carriedData: Bool) -> FloodKind? {
        guard !carriedData else { return nil }
        switch verdict {
        case .unanswered where !flow.spokeToClient: return .flood
        case .backscatter: return .backscatter
        default: return nil
        }
    }

    /// Whether an ending flow keeps its own record (true) or is folded (false). `kind` is nil for
    /// a flow that must keep its record. A fold that starts a flood on its port returns its alert.
    mutating func admit(_ flow: borrowing Flow, kind: FloodKind?, time: Int64,
                        closed: (FloodAggregate) -> Void, ended: (FloodAlert) -> Void) -> (keep: Bool, began: FloodAlert?) {
        roll(to: time, closed: closed, ended: ended)
        let portKey = UInt32(flow.watchedPort) << 8 | UInt32(flow.key.proto)
        let written = recordsByPort[portKey, default: 0]
        if let kind, written >= limits.perPort || records >= limits.sensorWide {
            let key = Self.key(kind: kind, port: flow.watchedPort, proto: flow.key.proto)
            if let index = aggregateIndex[key] {
                fold(flow, kind: kind, into: index)
                return (false, nil)
            }
            if aggregates.count < Self.maxKeys {
                aggregateIndex[key] = aggregates.count
                aggregates.append(FloodAggregate(kind: kind, port: flow.watchedPort, proto: flow.key.proto, windowStart: windowStart,
                                                 topCount: limits.topSources))
                let (sender, receiver) = fold(flow, kind: kind, into: aggregates.count - 1)
                guard episodes[key] == nil else { return (false, nil) }
                // A flood begins: its first figures are this flow's. Its running figures take
                // each window's aggregate as the window closes.
                let episode = Episode(began: flow.start, lastSeen: flow.last, recordsInWindow: written,
                                      firstSource: sender, firstDestination: receiver)
                episodes[key] = episode
                var first = episode
                first.add(aggregates[aggregates.count - 1])
                return (false, alert(.began, at: time, key: key, episode: first))
            }
        }
        recordsByPort[portKey] = written + 1
        records += 1
        return (true, nil)
    }

    /// Adds a flow to an aggregate in place; returns its sender and receiver.
    @discardableResult
    private mutating func fold(_ flow: borrowing Flow, kind: FloodKind, into index: Int) -> (IPAddress, IPAddress) {
        // The flood's sender is the client; backscatter's, the watched side.
        let sender = kind == .flood ? flow.client.address : flow.server.address
        let receiver = kind == .flood ? flow.server.address : flow.client.address
        let senderHash = DistinctCount.hash(sender, seed: seed), receiverHash = DistinctCount.hash(receiver, seed: seed)
        let packets = flow.packetsToServer &+ flow.packetsToClient, bytes = flow.bytesToServer &+ flow.bytesToClient
        let start = flow.start, last = flow.last, isTCP = flow.key.proto == IPProtocol.tcp
        let flags = kind == .flood ? flow.tcpFlagsToServer : flow.tcpFlagsToClient
        aggregates.withUnsafeMutableBufferPointer { all in
            all[index].flows &+= 1
            all[index].packets &+= packets
            all[index].bytes &+= bytes
            all[index].sources.insert(hash: senderHash)
            all[index].destinations.insert(hash: receiverHash)
            all[index].topSources.insert(sender)
            all[index].topDestinations.insert(receiver)
            if isTCP { all[index].tcpFlags[flags, default: 0] &+= 1 }
            if start < all[index].firstSeen { all[index].firstSeen = start }
            if last > all[index].lastSeen { all[index].lastSeen = last }
        }
        return (sender, receiver)
    }

    /// The alert of the flood of aggregate `key` (`key(kind:port:proto:)`).
    private func alert(_ state: FloodAlert.State, at time: Int64, key: UInt32, episode: Episode) -> FloodAlert {
        FloodAlert(state: state, at: time, kind: FloodKind(rawValue: UInt8(key >> 24))!, port: UInt16(truncatingIfNeeded: key >> 8),
                   proto: UInt8(truncatingIfNeeded: key), began: episode.began, lastSeen: episode.lastSeen,
                   flows: episode.flows, packets: episode.packets, bytes: episode.bytes,
                   sources: episode.sources.estimate, destinations: episode.destinations.estimate,
                   topSources: episode.topSources.top(limits.topSources),
                   topDestinations: episode.topDestinations.top(limits.topSources),
                   recordsInWindow: episode.recordsInWindow,
                   firstSource: episode.firstSource, firstDestination: episode.firstDestination, limits: limits)
    }

    /// Closes the window when packet time `now` has passed its end: hands each aggregate to
    /// `closed`, and ends the floods that folded nothing in it.
    mutating func roll(to now: Int64, closed: (FloodAggregate) -> Void, ended: (FloodAlert) -> Void) {
        let start = now.floorDivided(by: windowNanoseconds) * windowNanoseconds
        if windowStart == .min {
            windowStart = start
            return
        }
        guard start > windowStart else { return }
        closeWindow(at: windowStart + windowNanoseconds, closed: closed, ended: ended)
        windowStart = start
    }

    /// `end`: the window's end, or the input's when it ended first.
    private mutating func closeWindow(at end: Int64, closed: (FloodAggregate) -> Void, ended: (FloodAlert) -> Void) {
        var folded = Set<UInt32>()
        for key in aggregateIndex.keys.sorted() {
            let index = aggregateIndex[key]!
            aggregates[index].closedAt = end
            closed(aggregates[index])
            episodes[key]?.add(aggregates[index])
            folded.insert(key)
        }
        for key in episodes.keys.sorted() where !folded.contains(key) {
            let episode = episodes.removeValue(forKey: key)!
            ended(alert(.ended, at: end, key: key, episode: episode))
        }
        aggregates.removeAll(keepingCapacity: true)
        aggregateIndex.removeAll(keepingCapacity: true)
        recordsByPort.removeAll(keepingCapacity: true)
        records = 0
    }

    /// The end of input: the open window's aggregates, then every flood under way ends.
    mutating func finish(at time: Int64, closed: (FloodAggregate) -> Void, ended: (FloodAlert) -> Void) {
        guard windowStart != .min else { return }
        closeWindow(at: max(windowStart, min(time, windowStart + windowNanoseconds)), closed: closed, ended: ended)
        for key in episodes.keys.sorted() {
            ended(alert(.endedAtShutdown, at: time, key: key, episode: episodes[key]!))
        }
        episodes.removeAll()
    }
}
