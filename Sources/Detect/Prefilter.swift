import Wire

/// The capture side's half of detection: decode in place and keep only the packets some rule
/// could match (see `Interest`), so the ring carries candidates, not all traffic. What it
/// turns away it still counts, and the engine adds those counts to its own.
public struct Prefilter: Sendable {
    public let interest: Interest
    /// Decode events need their packets when anomaly records are on.
    public let keepsAnomalies: Bool
    public private(set) var counters = PrefilterCounters()
    private var packet = DecodedPacket()

    /// `counters` carries the counts on when a reload brings a new interest.
    public init(interest: Interest, keepsAnomalies: Bool, counters: PrefilterCounters = PrefilterCounters()) {
        self.interest = interest
        self.keepsAnomalies = keepsAnomalies
        self.counters = counters
    }

    /// True when the engine must see this packet; otherwise it is counted here and dropped.
    @inline(__always)
    public mutating func admits(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, originalLength: Int) -> Bool {
        Decoder.decode(bytes, linkType: linkType, into: &packet)
        if interest.wants(packet) || packet.quoted.isPresent || (keepsAnomalies && !packet.events.isEmpty) {
            return true
        }
        counters.packets &+= 1
        counters.bytes &+= UInt64(originalLength)
        if packet.hasIP { counters.uninspected &+= 1 }
        packet.events.count(into: &counters.decodeEvents)
        return false
    }
}

/// What the prefilter counted of the packets it kept from the engine.
public struct PrefilterCounters: Sendable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var uninspected: UInt64 = 0
    public var decodeEvents = [UInt64](repeating: 0, count: 64)

    public init() {}
}

extension Engine {
    /// A prefilter for the capture side, matching this engine's rules.
    public func makePrefilter() -> Prefilter {
        Prefilter(interest: interest, keepsAnomalies: configuration.anomalies)
    }

    /// Packet time moved on with nothing for the engine: let idle flows time out on schedule.
    public func advanceClock(to timestamp: Int64) {
        if timestamp > lastTimestamp { lastTimestamp = timestamp }
        guard timestamp >= nextExpiry else { return }
        expireFlows(now: timestamp)
        nextExpiry = timestamp + 1_000_000_000
    }
}
