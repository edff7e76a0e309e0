import Flow
import Wire

/// The capture side's half of detection: decode in place and keep only the packets some rule
/// could match (see `Interest`), so the ring carries candidates, not all traffic. What it
/// turns away it still counts, and the engine adds those counts to its own.
public struct Prefilter: Sendable {
    public let interest: Interest
    /// Decode events need their packets when anomaly records are on.
    public let keepsAnomalies: Bool
    /// The engine's flow table seed, for `flowHint`.
    public let flowSeed: UInt64
    public private(set) var counters = PrefilterCounters()
    private var packet = DecodedPacket()

    /// `counters` carries the counts on when a reload brings a new interest.
    public init(interest: Interest, keepsAnomalies: Bool, flowSeed: UInt64, tunnelPorts: TunnelPorts = TunnelPorts(),
                counters: PrefilterCounters = PrefilterCounters()) {
        self.interest = interest
        self.keepsAnomalies = keepsAnomalies
        self.flowSeed = flowSeed
        self.counters = counters
        packet.tunnelPorts = tunnelPorts
    }

    /// The same prefilter for a reloaded ruleset's interest, its counts carried on.
    public func reloaded(interest: Interest) -> Prefilter {
        Prefilter(interest: interest, keepsAnomalies: keepsAnomalies, flowSeed: flowSeed, tunnelPorts: packet.tunnelPorts,
                  counters: counters)
    }

    /// For the packet `admits` last let through: the hash of the flow the engine will look up
    /// first (the quoted one for an ICMP error), or 0. See `SlotHeader.flowHint`.
    @inline(__always)
    public var flowHint: UInt64 {
        let found = packet.quoted.isPresent ? FlowKey.quotedFlow(of: packet) ?? FlowKey.of(packet) : FlowKey.of(packet)
        return found?.key.hash(seed: flowSeed) ?? 0
    }

    /// For the packet `admits` last let through: its source address's `AddressTableHash`, or 0
    /// without IP. See `SlotHeader.sourceHint`.
    @inline(__always)
    public var sourceHint: UInt64 {
        packet.hasIP ? AddressTableHash.of(packet.src, seed: flowSeed) : 0
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
    public var decodeEvents = [UInt64](repeating: 0, count: DecodeEvents.capacity)

    public init() {}
}

extension Engine {
    /// A prefilter for the capture side, matching this engine's rules.
    public func makePrefilter() -> Prefilter {
        Prefilter(interest: interest, keepsAnomalies: configuration.anomalies, flowSeed: flows.seed,
                  tunnelPorts: configuration.tunnelPorts)
    }

    /// Packet time moved on with nothing for the engine: let idle flows time out on schedule.
    public func advanceClock(to timestamp: Int64) {
        if timestamp > lastTimestamp { lastTimestamp = timestamp }
        guard timestamp >= nextExpiry else { return }
        expireFlows(now: timestamp)
        nextExpiry = timestamp + 1_000_000_000
    }
}
