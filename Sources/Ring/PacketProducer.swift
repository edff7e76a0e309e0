import Synchronization

/// The writing end of a `PacketRing`: the capture thread owns it, alone.
///
/// Noncopyable, so there is exactly one writer; `Sendable`, so it can move into its thread
/// (see `Handoff`). Pushes are published in batches of `publishEvery`; call `flush()` when the
/// source goes idle (a read timeout, the end of a `pcap_dispatch` batch) so no packet waits
/// for the next one. Closing (or dropping the producer) publishes everything and ends the stream.
public struct PacketProducer: ~Copyable, @unchecked Sendable {
    // @unchecked: the pointers point into `storage`, which this end keeps alive; being
    // noncopyable, only one thread at a time can hold this end.
    private let storage: RingStorage
    private let head: UnsafeMutablePointer<Atomic<Int>>
    private let tail: UnsafeMutablePointer<Atomic<Int>>
    /// Number of slots: the requested capacity rounded up to a power of two.
    public let capacity: Int
    /// Most packet bytes one slot holds.
    public let slotSize: Int
    private let publishEvery: Int

    /// Next slot to write.
    private var writeIndex = 0
    /// What the consumer last saw in `head`.
    private var publishedIndex = 0
    /// The consumer's `tail` as last read: re-read only when the ring looks full.
    private var cachedTail = 0

    /// Packets `push` could not store because the ring was full (live capture's losses).
    public private(set) var drops = 0
    /// How many `pushWaiting` calls found the ring full and had to wait (offline back-pressure).
    public private(set) var waits = 0

    init(storage: RingStorage) {
        self.storage = storage
        head = storage.head
        tail = storage.tail
        capacity = storage.capacity
        slotSize = storage.slotSize
        publishEvery = storage.publishEvery
    }

    deinit {
        if publishedIndex != writeIndex { head.pointee.store(writeIndex, ordering: .releasing) }
        storage.closed.pointee.store(1, ordering: .releasing)
        storage.wakeConsumerIfParked()
    }

    /// Packets stored so far (published or not).
    public var pushed: Int { writeIndex }
    /// A handle for reading the ring's counters from any thread.
    public var monitor: PacketRingMonitor { PacketRingMonitor(storage: storage) }

    /// Copies `bytes` (at most `slotSize` of them) and `header` into the next slot; false
    /// when the ring is full, which counts a drop. Never blocks: for live capture.
    ///
    /// `header.storedLength` is set to the number of bytes stored. `bytes` may be shorter
    /// than `header.capturedLength` when the capture side chooses to keep less.
    @inline(__always)
    @discardableResult
    public mutating func push(header: SlotHeader, bytes: UnsafeRawBufferPointer) -> Bool {
        if hasRoom() {
            store(header: header, bytes: bytes)
            return true
        }
        // The consumer might be waiting on what we have not published yet.
        publish()
        drops += 1
        storage.drops.pointee.store(drops, ordering: .relaxed)
        return false
    }

    /// Like `push`, but waits (spin, yield, then short sleeps) until a slot frees: for offline
    /// reading, where nothing may be lost. False only when the consumer is gone, so the
    /// packet can never be read.
    @inline(__always)
    @discardableResult
    public mutating func pushWaiting(header: SlotHeader, bytes: UnsafeRawBufferPointer) -> Bool {
        if hasRoom() {
            store(header: header, bytes: bytes)
            return true
        }
        return pushAfterWaiting(header: header, bytes: bytes)
    }

    /// Makes every stored packet visible to the consumer now.
    public mutating func flush() {
        publish()
    }

    /// Publishes everything and tells the consumer no more packets will come.
    /// The consumer then drains what is left and sees `.closedAndDrained`.
    public consuming func close() {
        // deinit does the work, so dropping a producer without closing ends the stream too.
    }

    @inline(never)
    private mutating func pushAfterWaiting(header: SlotHeader, bytes: UnsafeRawBufferPointer) -> Bool {
        publish()
        waits += 1
        storage.waits.pointee.store(waits, ordering: .relaxed)
        var backoff = Backoff()
        while true {
            backoff.pause()
            if hasRoom() {
                store(header: header, bytes: bytes)
                return true
            }
            if backoff.isPastSpinning && storage.consumerGone.pointee.load(ordering: .acquiring) != 0 {
                return false
            }
        }
    }

    @inline(__always)
    private mutating func hasRoom() -> Bool {
        if writeIndex &- cachedTail < capacity { return true }
        // Acquire: the consumer finished reading those slots before releasing them.
        cachedTail = tail.pointee.load(ordering: .acquiring)
        return writeIndex &- cachedTail < capacity
    }

    @inline(__always)
    private mutating func store(header: SlotHeader, bytes: UnsafeRawBufferPointer) {
        let slot = storage.slot(writeIndex)
        let stored = min(bytes.count, slotSize)
        SlotField.write(header, storedLength: UInt32(truncatingIfNeeded: stored), to: slot)
        if stored > 0, let source = bytes.baseAddress {
            (slot + SlotField.data).copyMemory(from: source, byteCount: stored)
        }
        writeIndex &+= 1
        if writeIndex &- publishedIndex >= publishEvery { publish() }
    }

    @inline(__always)
    private mutating func publish() {
        guard publishedIndex != writeIndex else { return }
        publishedIndex = writeIndex
        // Release: the slots' contents are written before the consumer can see the index.
        head.pointee.store(writeIndex, ordering: .releasing)
        storage.wakeConsumerIfParked()
    }
}
