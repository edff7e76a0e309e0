import Platform
import Ring
import Testing
import TestSupport

/// A producer thread and a consumer thread on one ring, as capture and detection will run.
@Suite struct ThreadedRingTests {
    struct Received: Sendable {
        var count = 0
        var broken = 0
        var outOfOrder = 0
        var firstBad: UInt64?
    }

    /// Offline mode: every packet of a numbered sequence arrives, in order and intact.
    @Test(arguments: [(capacity: 256, slotSize: 200, publishEvery: 32), (capacity: 2, slotSize: 64, publishEvery: 1)])
    func waitingProducerLosesNothing(capacity: Int, slotSize: Int, publishEvery: Int) {
        let total = packetCount(default: 1_000_000) / (capacity < 16 ? 10 : 1)
        let ends = PacketRing.make(capacity: capacity, slotSize: slotSize, publishEvery: publishEvery)
        let producerEnd = Handoff(ends.producer)
        let consumerEnd = Handoff(ends.consumer)
        let waits = Outcome(0)
        let undelivered = Outcome(0)
        let received = Outcome(Received())

        let producerThread = JoinableThread {
            var producer = producerEnd.take()
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: slotSize, alignment: 8)
            defer { scratch.deallocate() }
            for sequence in 1...UInt64(total) {
                let (header, bytes) = NumberedPacket.fill(sequence, slotSize: slotSize, into: scratch)
                if !producer.pushWaiting(header: header, bytes: bytes) { undelivered.value += 1 }
            }
            waits.value = producer.waits
            producer.close()
        }
        let consumerThread = JoinableThread {
            var consumer = consumerEnd.take()
            var result = Received()
            var expected: UInt64 = 1
            consumer.consumeUntilClosed { header, bytes in
                if header.sequence != expected { result.outOfOrder += 1 }
                if !NumberedPacket.isIntact(expected, slotSize: slotSize, header: header, bytes: bytes) {
                    result.broken += 1
                    if result.firstBad == nil { result.firstBad = header.sequence }
                }
                expected = header.sequence + 1
                result.count += 1
            }
            received.value = result
        }
        producerThread.join()
        consumerThread.join()

        #expect(undelivered.value == 0)
        #expect(received.value.count == total)
        #expect(received.value.outOfOrder == 0)
        #expect(received.value.broken == 0, "first bad packet: \(String(describing: received.value.firstBad))")
        print("waitingProducerLosesNothing capacity \(capacity): \(total) packets, producer waited \(waits.value) times")
    }

    /// Live mode: a producer that never waits against a slow consumer counts drops; what
    /// arrives is in order and intact, and pushed + dropped == attempted.
    @Test func liveProducerCountsDrops() {
        let attempted = packetCount(default: 1_000_000) / 5
        let slotSize = 96
        let ends = PacketRing.make(capacity: 64, slotSize: slotSize)
        let monitor = ends.producer.monitor
        let producerEnd = Handoff(ends.producer)
        let consumerEnd = Handoff(ends.consumer)
        let counts = Outcome((pushed: 0, drops: 0, returnedFalse: 0))
        let received = Outcome(Received())

        let producerThread = JoinableThread {
            var producer = producerEnd.take()
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: slotSize, alignment: 8)
            defer { scratch.deallocate() }
            var returnedFalse = 0
            for sequence in 1...UInt64(attempted) {
                let (header, bytes) = NumberedPacket.fill(sequence, slotSize: slotSize, into: scratch)
                if !producer.push(header: header, bytes: bytes) { returnedFalse += 1 }
            }
            counts.value = (producer.pushed, producer.drops, returnedFalse)
            producer.close()
        }
        let consumerThread = JoinableThread {
            var consumer = consumerEnd.take()
            var result = Received()
            var last: UInt64 = 0
            var spent: UInt64 = 0
            consumer.consumeUntilClosed { header, bytes in
                if header.sequence <= last { result.outOfOrder += 1 }
                if !NumberedPacket.isIntact(header.sequence, slotSize: slotSize, header: header, bytes: bytes) {
                    result.broken += 1
                }
                last = header.sequence
                result.count += 1
                // A slow consumer: some useless work per packet so the ring fills.
                for step in 0..<UInt64(400) { spent = spent &* 31 &+ step ^ header.sequence }
            }
            result.firstBad = spent == 42 ? 0 : nil  // keeps the busy work from being optimised away
            received.value = result
        }
        producerThread.join()
        consumerThread.join()

        let (pushed, drops, returnedFalse) = counts.value
        #expect(pushed + drops == attempted)
        #expect(drops == returnedFalse)
        #expect(drops > 0, "the consumer was meant to be too slow")
        #expect(received.value.count == pushed)
        #expect(received.value.outOfOrder == 0)
        #expect(received.value.broken == 0)
        #expect(monitor.drops == drops)
        #expect(monitor.published == pushed)
        #expect(monitor.isClosed)
        print("liveProducerCountsDrops: attempted \(attempted), pushed \(pushed), dropped \(drops)")
    }
}
