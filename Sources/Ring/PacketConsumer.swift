import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What `PacketConsumer.waitForPackets` found.
public enum RingWaitResult: Equatable, Sendable {
    /// At least one packet can be read.
    case ready
    /// The producer closed and every packet has been read: the stream is over.
    case closedAndDrained
    /// The timeout passed with nothing to read (the ring is still open).
    case timedOut
}

/// The reading end of a `PacketRing`: the detection thread owns it, alone.
///
/// Noncopyable, so there is exactly one reader; `Sendable`, so it can move into its thread
/// (see `Handoff`). A slot's bytes are lent to the closure only: they are reused once it
/// returns. Read slots go back to the producer in batches of `releaseEvery`, and all at once
/// whenever the ring looks empty.
public struct PacketConsumer: ~Copyable, @unchecked Sendable {
    // @unchecked: the pointers point into `storage`, which this end keeps alive; being
    // noncopyable, only one thread at a time can hold this end.
    private let storage: RingStorage
    private let head: UnsafeMutablePointer<Atomic<Int>>
    private let tail: UnsafeMutablePointer<Atomic<Int>>
    /// Number of slots: the requested capacity rounded up to a power of two.
    public let capacity: Int
    /// Most packet bytes one slot holds.
    public let slotSize: Int
    private let releaseEvery: Int

    /// Next slot to read.
    private var readIndex = 0
    /// What the producer last saw in `tail`.
    private var releasedIndex = 0
    /// The producer's `head` as last read: re-read only when the ring looks empty.
    private var cachedHead = 0

    /// How many `waitForPackets` calls found the ring empty and had to wait.
    public private(set) var waits = 0
    /// The last wait ended with nothing to read: the ring is idle, and the next wait sleeps
    /// until woken at once rather than spin first.
    private var idle = false

    init(storage: RingStorage) {
        self.storage = storage
        head = storage.head
        tail = storage.tail
        capacity = storage.capacity
        slotSize = storage.slotSize
        releaseEvery = storage.releaseEvery
    }

    deinit {
        if releasedIndex != readIndex { tail.pointee.store(readIndex, ordering: .releasing) }
        storage.consumerGone.pointee.store(1, ordering: .releasing)
    }

    /// Packets read so far.
    public var consumed: Int { readIndex }
    /// A handle for reading the ring's counters from any thread.
    public var monitor: PacketRingMonitor { PacketRingMonitor(storage: storage) }

    /// Calls `body` with the next packet's header and stored bytes and returns true, or
    /// returns false at once when nothing is published. The bytes are valid only inside `body`.
    @inline(__always)
    public mutating func withNext<E: Error>(
        _ body: (SlotHeader, UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) -> Bool {
        guard hasPackets() else { return false }
        defer { advance(by: 1) }
        try read(readIndex, body)
        return true
    }

    /// Calls `body` for up to `maxBatch` published packets, in order; returns how many.
    /// Zero means nothing was published (see `waitForPackets` for whether more will come).
    ///
    /// With a `lookahead` distance, `ahead` gets, before each packet, the hints of the packet
    /// that many slots further on (`.none` when that one is not published yet), so the reader
    /// can fetch what it will need while it works on this one: one call per packet, in order.
    @inline(__always)
    @discardableResult
    public mutating func pop<E: Error>(
        maxBatch: Int = .max,
        lookahead: Int = 0,
        ahead: (SlotHints) -> Void = { _ in },
        _ body: (SlotHeader, UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) -> Int {
        guard hasPackets() else { return 0 }
        let count = min(cachedHead &- readIndex, max(0, maxBatch))
        var done = 0
        while done < count {
            done &+= 1
            if lookahead > 0 {
                // Acquired with `cachedHead`, like the slots this batch reads.
                ahead(cachedHead &- readIndex > lookahead
                      ? SlotField.readHints(from: UnsafeRawPointer(storage.slot(readIndex &+ lookahead))) : .none)
            }
            // Per packet, so a long batch hands slots back as it goes; a throwing body
            // still consumes the packet it was given.
            defer { advance(by: 1) }
            try read(readIndex, body)
        }
        return done
    }

    /// True when a packet can be read now.
    public mutating func hasPackets() -> Bool {
        if readIndex != cachedHead { return true }
        // Looks empty: hand back everything read before asking for more.
        release()
        // Acquire: the producer wrote those slots before publishing them.
        cachedHead = head.pointee.load(ordering: .acquiring)
        return readIndex != cachedHead
    }

    /// True once the producer closed and every packet has been read.
    public mutating func isClosedAndDrained() -> Bool {
        guard !hasPackets() else { return false }
        guard storage.closed.pointee.load(ordering: .acquiring) != 0 else { return false }
        // `head` is final once `closed` is seen: one last look for packets published before it.
        return !hasPackets()
    }

    /// Waits until a packet can be read, the stream ends, or `timeout` passes (nil: no limit).
    /// Spins briefly, then yields, then sleeps in short steps; after about a millisecond of
    /// those (or at once when the last wait found nothing either) it sleeps on the ring's
    /// eventfd until the producer publishes, so an idle ring costs nothing.
    public mutating func waitForPackets(timeout: Duration? = nil) -> RingWaitResult {
        if hasPackets() {
            idle = false
            return .ready
        }
        waits += 1
        storage.consumerWaits.pointee.store(waits, ordering: .relaxed)
        let clock = ContinuousClock()
        // One clock read per wait, and only on an empty ring.
        let deadline = timeout.map { clock.now.advanced(by: $0) }
        var backoff = Backoff()
        while true {
            if hasPackets() {
                idle = false
                return .ready
            }
            if storage.closed.pointee.load(ordering: .acquiring) != 0 {
                // `head` is final once `closed` is seen: one last look for packets published before it.
                return hasPackets() ? .ready : .closedAndDrained
            }
            if let deadline, let timeout, backoff.isPastSpinning || timeout <= .zero || idle, clock.now >= deadline {
                idle = true
                return .timedOut
            }
            if (idle || backoff.isIdle) && storage.wakeDescriptor >= 0 {
                idle = true
                park(until: deadline, clock: clock)
            } else {
                backoff.pause()
            }
        }
    }

    /// Sleeps until the producer publishes or closes, or `deadline` passes. The consumer's
    /// half of the protocol in `RingStorage.wakeConsumerIfParked`: say it sleeps, then look.
    private mutating func park(until deadline: ContinuousClock.Instant?, clock: ContinuousClock) {
        storage.consumerParked.pointee.store(1, ordering: .relaxed)
        defer { storage.consumerParked.pointee.store(0, ordering: .relaxed) }
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if hasPackets() || storage.closed.pointee.load(ordering: .acquiring) != 0 { return }
        var milliseconds: Int32 = -1
        if let deadline {
            let left = deadline - clock.now
            guard left > .zero else { return }
            let (seconds, attoseconds) = left.components
            milliseconds = Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        }
        var descriptor = pollfd(fd: storage.wakeDescriptor, events: Int16(POLLIN), revents: 0)
        if poll(&descriptor, 1, milliseconds) > 0 {
            var count: UInt64 = 0
            _ = Glibc.read(storage.wakeDescriptor, &count, 8)
        }
    }

    /// Reads every packet until the producer closes and the ring is drained, waiting while
    /// it is empty; returns how many packets `body` saw.
    @discardableResult
    public mutating func consumeUntilClosed<E: Error>(
        _ body: (SlotHeader, UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) -> Int {
        var total = 0
        while true {
            let count = try pop(body)
            total &+= count
            if count == 0, waitForPackets() == .closedAndDrained { return total }
        }
    }

    @inline(__always)
    private func read<E: Error>(
        _ index: Int, _ body: (SlotHeader, UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        let slot = UnsafeRawPointer(storage.slot(index))
        let header = SlotField.read(from: slot)
        // The producer never stores more than slotSize; the min keeps a bad header in bounds.
        let count = min(Int(header.storedLength), slotSize)
        try body(header, UnsafeRawBufferPointer(start: slot + SlotField.data, count: count))
    }

    @inline(__always)
    private mutating func advance(by count: Int) {
        readIndex &+= count
        if readIndex &- releasedIndex >= releaseEvery { release() }
    }

    @inline(__always)
    private mutating func release() {
        guard releasedIndex != readIndex else { return }
        releasedIndex = readIndex
        // Release: reading the slots is finished before the producer may overwrite them.
        tail.pointee.store(readIndex, ordering: .releasing)
    }
}
