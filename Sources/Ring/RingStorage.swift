import CEventFD
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The memory both ends share: one slab of slots and one control block of padded atomics.
///
/// Allocated once by `PacketRing.make`; freed when the last end goes away.
final class RingStorage: @unchecked Sendable {
    // @unchecked: every field is immutable after init; the memory behind the pointers is
    // shared only through the atomics' acquire/release protocol (see PacketProducer/PacketConsumer).

    /// Bytes between two independently written atomics: two 64-byte lines, since adjacent-line
    /// prefetch on x86 pairs lines and would bring back false sharing.
    static let lineSize = 128
    /// Slots start on 64-byte boundaries so a small packet's header and bytes share one line.
    static let slotAlignment = 64

    let capacity: Int
    let mask: Int
    let slotSize: Int
    let slotStride: Int
    let slab: UnsafeMutableRawPointer
    let publishEvery: Int
    let releaseEvery: Int

    private let control: UnsafeMutableRawPointer

    /// Index one past the last slot the producer has published (written only by the producer).
    let head: UnsafeMutablePointer<Atomic<Int>>
    /// Index one past the last slot the consumer has released (written only by the consumer).
    let tail: UnsafeMutablePointer<Atomic<Int>>
    /// 1 once the producer closed; `head` is final from then on.
    let closed: UnsafeMutablePointer<Atomic<Int>>
    /// Producer counters mirrored for `PacketRingMonitor` (relaxed; statistics only).
    let drops: UnsafeMutablePointer<Atomic<Int>>
    let waits: UnsafeMutablePointer<Atomic<Int>>
    /// 1 once the consumer is gone, so a waiting producer does not wait forever.
    let consumerGone: UnsafeMutablePointer<Atomic<Int>>
    /// Consumer counter mirrored for `PacketRingMonitor`.
    let consumerWaits: UnsafeMutablePointer<Atomic<Int>>
    /// 1 while the consumer sleeps on `wakeDescriptor` (it found the ring empty a while).
    let consumerParked: UnsafeMutablePointer<Atomic<Int>>
    /// An eventfd the parked consumer polls and the producer writes to wake it; -1 where there
    /// is none (not Linux), and the consumer then sleeps in short steps instead.
    let wakeDescriptor: Int32

    init(capacity requested: Int, slotSize: Int, publishEvery: Int, releaseEvery: Int) {
        precondition(requested > 0, "PacketRing capacity must be at least 1")
        precondition(slotSize >= 0, "PacketRing slotSize must not be negative")
        precondition(requested <= 1 << 40, "PacketRing capacity is unreasonably large")
        precondition(SlotField.matchLayout, "SlotField offsets disagree with SlotHeader's layout")
        let capacity = requested <= 1 ? 1 : 1 << (Int.bitWidth - (requested - 1).leadingZeroBitCount)
        self.capacity = capacity
        self.mask = capacity - 1
        self.slotSize = slotSize
        let unaligned = SlotField.data + slotSize
        self.slotStride = (unaligned + Self.slotAlignment - 1) / Self.slotAlignment * Self.slotAlignment
        let (slabBytes, overflow) = capacity.multipliedReportingOverflow(by: slotStride)
        precondition(!overflow, "PacketRing capacity * slot size overflows")
        // A larger batch than a quarter of the ring would leave the other side idle too long.
        let largestBatch = max(1, capacity / 4)
        self.publishEvery = min(max(1, publishEvery), largestBatch)
        self.releaseEvery = min(max(1, releaseEvery), largestBatch)

        slab = UnsafeMutableRawPointer.allocate(byteCount: slabBytes, alignment: Self.lineSize)
        // Touching every page now moves page faults out of the packet path.
        slab.initializeMemory(as: UInt8.self, repeating: 0, count: slabBytes)

        let control = UnsafeMutableRawPointer.allocate(
            byteCount: Self.lineSize * 4, alignment: Self.lineSize)
        self.control = control
        func atomic(line: Int, slot: Int) -> UnsafeMutablePointer<Atomic<Int>> {
            let pointer = (control + line * Self.lineSize + slot * MemoryLayout<Atomic<Int>>.stride)
                .bindMemory(to: Atomic<Int>.self, capacity: 1)
            pointer.initialize(to: Atomic(0))
            return pointer
        }
        head = atomic(line: 0, slot: 0)
        tail = atomic(line: 1, slot: 0)
        // Read only when a side looks empty/full or by a monitor: off the hot lines.
        closed = atomic(line: 2, slot: 0)
        drops = atomic(line: 2, slot: 1)
        waits = atomic(line: 2, slot: 2)
        consumerGone = atomic(line: 3, slot: 0)
        consumerWaits = atomic(line: 3, slot: 1)
        // The producer reads it after each publish: a line the consumer writes only when idle.
        consumerParked = atomic(line: 3, slot: 2)
        wakeDescriptor = gp_eventfd()
    }

    deinit {
        for pointer in [head, tail, closed, drops, waits, consumerGone, consumerWaits, consumerParked] {
            pointer.deinitialize(count: 1)
        }
        if wakeDescriptor >= 0 { close(wakeDescriptor) }
        control.deallocate()
        slab.deallocate()
    }

    /// The producer's half of the sleep protocol, after it published (`head`) or closed: wakes
    /// a parked consumer. The fence orders that store before this load, as the consumer's
    /// orders its `consumerParked` store before its look at `head`: one of the two always
    /// sees the other, so a wake-up is never lost.
    @inline(__always)
    func wakeConsumerIfParked() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard consumerParked.pointee.load(ordering: .relaxed) != 0 else { return }
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    @inline(__always)
    func slot(_ index: Int) -> UnsafeMutableRawPointer {
        slab + (index & mask) &* slotStride
    }
}
