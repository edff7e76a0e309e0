import Synchronization

/// A lock-free single-producer/single-consumer ring of fixed-size packet slots.
///
/// One slab is allocated at creation; pushing and popping allocate nothing. The capture
/// thread copies each packet into a slot through `PacketProducer`; the detection thread
/// reads slots in place through `PacketConsumer`. Head and tail are atomics on separate
/// 128-byte lines, each side caches the other's index and re-reads it only when the ring
/// looks full (producer) or empty (consumer), with acquire loads and release stores.
public enum PacketRing {
    /// Default pushes per publish and reads per release: amortises the shared-line traffic.
    public static let defaultBatch = 32

    /// Creates a ring and hands out its only two ends.
    ///
    /// - Parameters:
    ///   - capacity: slots wanted, rounded up to a power of two (at least 1).
    ///   - slotSize: most packet bytes a slot keeps; longer packets are cut to this.
    ///   - publishEvery: the producer makes pushes visible every this many (and on `flush()`,
    ///     when full, and on close). Clamped to 1...max(1, capacity / 4).
    ///   - releaseEvery: the consumer hands read slots back every this many (and whenever the
    ///     ring looks empty). Clamped the same way.
    public static func make(
        capacity: Int,
        slotSize: Int,
        publishEvery: Int = defaultBatch,
        releaseEvery: Int = defaultBatch
    ) -> PacketRingEnds {
        let storage = RingStorage(
            capacity: capacity, slotSize: slotSize,
            publishEvery: publishEvery, releaseEvery: releaseEvery)
        return PacketRingEnds(
            producer: PacketProducer(storage: storage), consumer: PacketConsumer(storage: storage))
    }
}

/// The two ends of a new ring. Take each out by moving it: `let producer = ends.producer`.
///
/// A struct rather than a tuple because Swift tuples cannot hold noncopyable values yet.
@frozen
public struct PacketRingEnds: ~Copyable, Sendable {
    /// The writing end, for the capture thread.
    public var producer: PacketProducer
    /// The reading end, for the detection thread.
    public var consumer: PacketConsumer
}

/// Reads a ring's counters from any thread (a stats reporter), without owning either end.
///
/// Values are read with relaxed ordering: each is exact as of some recent moment, but two
/// of them are not a consistent snapshot.
public struct PacketRingMonitor: Sendable {
    private let storage: RingStorage

    init(storage: RingStorage) { self.storage = storage }

    /// Number of slots.
    public var capacity: Int { storage.capacity }
    /// Most packet bytes one slot holds.
    public var slotSize: Int { storage.slotSize }
    /// Packets the producer has published.
    public var published: Int { storage.head.pointee.load(ordering: .relaxed) }
    /// Packets the consumer has read and handed back.
    public var released: Int { storage.tail.pointee.load(ordering: .relaxed) }
    /// Packets dropped because the ring was full (`push`).
    public var drops: Int { storage.drops.pointee.load(ordering: .relaxed) }
    /// Times the producer had to wait for room (`pushWaiting`).
    public var producerWaits: Int { storage.waits.pointee.load(ordering: .relaxed) }
    /// Times the consumer had to wait for packets (`waitForPackets`).
    public var consumerWaits: Int { storage.consumerWaits.pointee.load(ordering: .relaxed) }
    /// True once the producer closed (or was dropped).
    public var isClosed: Bool { storage.closed.pointee.load(ordering: .relaxed) != 0 }
}
