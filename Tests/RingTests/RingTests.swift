import Ring
import Testing

/// Single-threaded behaviour of the ring: sizes, slots, batching, close and drain.
@Suite struct RingTests {
    @Test(arguments: [(1, 1), (2, 2), (3, 4), (5, 8), (1000, 1024), (1024, 1024), (1025, 2048)])
    func capacityIsRoundedUpToAPowerOfTwo(requested: Int, expected: Int) {
        let ends = PacketRing.make(capacity: requested, slotSize: 8)
        #expect(ends.producer.capacity == expected)
        #expect(ends.consumer.capacity == expected)
        #expect(ends.producer.monitor.capacity == expected)
    }

    @Test func aFullRingHoldsExactlyCapacityPackets() {
        let ends = PacketRing.make(capacity: 5, slotSize: 4)
        var producer = ends.producer
        var consumer = ends.consumer
        for sequence in 1...8 {
            do { let ok = producer.push(header: plainHeader(UInt64(sequence)), bytes: UnsafeRawBufferPointer(start: nil, count: 0)); #expect(ok) }
        }
        for sequence in 9...18 {
            do { let ok = producer.push(header: plainHeader(UInt64(sequence)), bytes: UnsafeRawBufferPointer(start: nil, count: 0)); #expect(!ok) }
        }
        #expect(producer.pushed == 8)
        #expect(producer.drops == 10)
        var seen: [UInt64] = []
        consumer.pop { header, _ in seen.append(header.sequence) }
        #expect(seen == Array(1...8))
        do { let ok = producer.push(header: plainHeader(19), bytes: UnsafeRawBufferPointer(start: nil, count: 0)); #expect(ok) }
    }

    @Test func longPacketsAreCutToTheSlot() {
        let ends = PacketRing.make(capacity: 4, slotSize: 16)
        var producer = ends.producer
        var consumer = ends.consumer
        let packet = (0..<100).map { UInt8($0) }
        packet.withUnsafeBytes { bytes in
            // Longer than a slot: 16 bytes kept.
            producer.push(header: plainHeader(1, capturedLength: 100), bytes: bytes)
            // The capture side chose to keep 10 of 100 captured bytes.
            producer.push(header: plainHeader(2, capturedLength: 100), bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<10]))
            // Exactly a slot.
            producer.push(header: plainHeader(3, capturedLength: 16), bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<16]))
            // A passed storedLength is ignored: the ring says what it stored.
            var lying = plainHeader(4, capturedLength: 3)
            lying.storedLength = 999
            producer.push(header: lying, bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<3]))
        }
        producer.close()
        var got: [(SlotHeader, [UInt8])] = []
        consumer.consumeUntilClosed { header, bytes in got.append((header, Array(bytes))) }
        #expect(got.count == 4)
        #expect(got.map(\.0.storedLength) == [16, 10, 16, 3])
        #expect(got.map(\.0.capturedLength) == [100, 100, 16, 3])
        #expect(got.map(\.0.isCutBySlot) == [true, true, false, false])
        #expect(got[0].1 == Array(packet[0..<16]))
        #expect(got[1].1 == Array(packet[0..<10]))
        #expect(got[2].1 == Array(packet[0..<16]))
        #expect(got[3].1 == Array(packet[0..<3]))
    }

    @Test func zeroSizedSlotsCarryHeadersOnly() {
        let ends = PacketRing.make(capacity: 2, slotSize: 0)
        var producer = ends.producer
        var consumer = ends.consumer
        [UInt8(7), 8].withUnsafeBytes { _ = producer.push(header: plainHeader(1, capturedLength: 2), bytes: $0) }
        producer.flush()
        let found = consumer.withNext { header, bytes in
            #expect(header.sequence == 1)
            #expect(header.storedLength == 0)
            #expect(bytes.isEmpty)
        }
        #expect(found)
    }

    @Test func headerFieldsSurviveTheSlot() {
        let ends = PacketRing.make(capacity: 2, slotSize: 8)
        var producer = ends.producer
        var consumer = ends.consumer
        let header = SlotHeader(
            timestampSeconds: -1_234_567_890_123, timestampNanoseconds: 999_999_999,
            originalLength: .max, capturedLength: 65_535, linkType: -7,
            sourceIndex: 0xDEAD_BEEF, sequence: .max, flowHint: 0x0123_4567_89AB_CDEF, sourceHint: 0xFEDC_BA98_7654_3210)
        producer.push(header: header, bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        producer.flush()
        var seen: SlotHeader?
        _ = consumer.withNext { header, _ in seen = header }
        #expect(seen == header)
        #expect(MemoryLayout<SlotHeader>.size == 56)
    }

    @Test("pop's look-ahead hands on the hints of the packet that many slots further on")
    func lookAheadHandsOnHints() {
        let ends = PacketRing.make(capacity: 64, slotSize: 8)
        var producer = ends.producer
        var consumer = ends.consumer
        for sequence in 1...20 {
            var header = plainHeader(UInt64(sequence))
            header.flowHint = UInt64(sequence) * 1_000
            header.sourceHint = UInt64(sequence) * 7
            producer.push(header: header, bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        producer.flush()
        var handed: [SlotHints] = []
        var order: [UInt64] = []
        #expect(consumer.pop(lookahead: 8, ahead: { handed.append($0) }) { header, _ in order.append(header.sequence) } == 20)
        #expect(order == Array(1...20))
        // Before packet n comes packet n + 8's hints; nothing for the last eight.
        let expected: [SlotHints] = (1...20).map { (n: Int) -> SlotHints in
            let ahead = UInt64(n + 8)
            return n + 8 <= 20 ? SlotHints(flow: ahead * 1_000, source: ahead * 7) : .none
        }
        #expect(handed == expected)
    }

    @Test func pushesStayUnseenUntilPublished() {
        let ends = PacketRing.make(capacity: 64, slotSize: 8, publishEvery: 8)
        var producer = ends.producer
        var consumer = ends.consumer
        for sequence in 1...3 {
            producer.push(header: plainHeader(UInt64(sequence)), bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        do { let ok = consumer.hasPackets(); #expect(!ok) }
        #expect(consumer.waitForPackets(timeout: .zero) == .timedOut)
        producer.flush()
        #expect(consumer.pop { _, _ in } == 3)
        // Reaching the batch size publishes without a flush.
        for sequence in 4...11 {
            producer.push(header: plainHeader(UInt64(sequence)), bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        #expect(consumer.pop { _, _ in } == 8)
        #expect(consumer.consumed == 11)
    }

    @Test func consumerReleasesSlotsWhenItLooksEmpty() {
        // releaseEvery larger than what is read: the producer must still get its room back.
        let ends = PacketRing.make(capacity: 4, slotSize: 8, publishEvery: 1, releaseEvery: 1000)
        var producer = ends.producer
        var consumer = ends.consumer
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        for sequence in 1...4 { do { let ok = producer.push(header: plainHeader(UInt64(sequence)), bytes: empty); #expect(ok) } }
        #expect(consumer.pop { _, _ in } == 4)
        do { let ok = consumer.hasPackets(); #expect(!ok) }
        for sequence in 5...8 { do { let ok = producer.push(header: plainHeader(UInt64(sequence)), bytes: empty); #expect(ok) } }
        #expect(producer.drops == 0)
    }

    @Test func popRespectsMaxBatch() {
        let ends = PacketRing.make(capacity: 16, slotSize: 8, publishEvery: 1)
        var producer = ends.producer
        var consumer = ends.consumer
        for sequence in 1...10 {
            producer.push(header: plainHeader(UInt64(sequence)), bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        var seen: [UInt64] = []
        #expect(consumer.pop(maxBatch: 4) { header, _ in seen.append(header.sequence) } == 4)
        #expect(consumer.pop(maxBatch: 0) { header, _ in seen.append(header.sequence) } == 0)
        #expect(consumer.pop(maxBatch: 100) { header, _ in seen.append(header.sequence) } == 6)
        #expect(consumer.pop { header, _ in seen.append(header.sequence) } == 0)
        #expect(seen == Array(1...10))
    }

    @Test func closeDrainsWhatIsLeftThenEnds() {
        let ends = PacketRing.make(capacity: 16, slotSize: 8, publishEvery: 8)
        var producer = ends.producer
        var consumer = ends.consumer
        for sequence in 1...3 {
            producer.push(header: plainHeader(UInt64(sequence)), bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        let monitor = producer.monitor
        #expect(!monitor.isClosed)
        do { let ok = consumer.isClosedAndDrained(); #expect(!ok) }
        // Unpublished pushes are published by close.
        producer.close()
        #expect(monitor.isClosed)
        do { let ok = consumer.isClosedAndDrained(); #expect(!ok) }
        #expect(consumer.waitForPackets() == .ready)
        var seen: [UInt64] = []
        while consumer.withNext({ header, _ in seen.append(header.sequence) }) {}
        #expect(seen == [1, 2, 3])
        do { let ok = consumer.isClosedAndDrained(); #expect(ok) }
        #expect(consumer.waitForPackets() == .closedAndDrained)
        #expect(consumer.waitForPackets(timeout: .seconds(5)) == .closedAndDrained)
        #expect(monitor.released == 3)
    }

    @Test func droppingTheProducerClosesTheStream() {
        let ends = PacketRing.make(capacity: 16, slotSize: 8)
        var consumer = ends.consumer
        do {
            var producer = ends.producer
            producer.push(header: plainHeader(1), bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        var seen: [UInt64] = []
        let count = consumer.consumeUntilClosed { header, _ in seen.append(header.sequence) }
        #expect(count == 1)
        #expect(seen == [1])
        #expect(consumer.waitForPackets() == .closedAndDrained)
    }

    @Test func waitingOnAnOpenEmptyRingTimesOut() {
        let ends = PacketRing.make(capacity: 16, slotSize: 8)
        let producer = ends.producer
        var consumer = ends.consumer
        let clock = ContinuousClock()
        let start = clock.now
        #expect(consumer.waitForPackets(timeout: .milliseconds(20)) == .timedOut)
        #expect(clock.now - start >= .milliseconds(20))
        #expect(consumer.waits == 1)
        #expect(consumer.monitor.consumerWaits == 1)
        producer.close()
    }

    @Test func aWaitingProducerGivesUpWhenTheConsumerIsGone() {
        let ends = PacketRing.make(capacity: 2, slotSize: 8)
        var producer = ends.producer
        let consumer = ends.consumer
        _ = consume consumer
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        do { let ok = producer.pushWaiting(header: plainHeader(1), bytes: empty); #expect(ok) }
        do { let ok = producer.pushWaiting(header: plainHeader(2), bytes: empty); #expect(ok) }
        do { let ok = producer.pushWaiting(header: plainHeader(3), bytes: empty); #expect(!ok) }
        #expect(producer.waits == 1)
    }

    @Test(arguments: [1, 2, 4, 8])
    func wrapsAroundManyTimes(capacity: Int) {
        let slotSize = 24
        let ends = PacketRing.make(capacity: capacity, slotSize: slotSize, publishEvery: 3, releaseEvery: 3)
        var producer = ends.producer
        var consumer = ends.consumer
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: slotSize, alignment: 8)
        defer { scratch.deallocate() }
        var next: UInt64 = 1
        var expected: UInt64 = 1
        var broken = 0
        // Uneven push and pop bursts so the indices meet at every offset of the ring.
        for round in 0..<20_000 {
            for _ in 0..<(round % (capacity + 2)) {
                let (header, bytes) = NumberedPacket.fill(next, slotSize: slotSize, into: scratch)
                if producer.push(header: header, bytes: bytes) { next += 1 } else { break }
            }
            if round % 3 == 0 { producer.flush() }
            consumer.pop(maxBatch: round % 5 + 1) { header, bytes in
                if !NumberedPacket.isIntact(expected, slotSize: slotSize, header: header, bytes: bytes) { broken += 1 }
                expected += 1
            }
        }
        producer.close()
        consumer.consumeUntilClosed { header, bytes in
            if !NumberedPacket.isIntact(expected, slotSize: slotSize, header: header, bytes: bytes) { broken += 1 }
            expected += 1
        }
        #expect(broken == 0)
        #expect(expected == next)
        #expect(next > UInt64(capacity) * 1000)
    }

    @Test func aThrowingBodyStillConsumesItsPacket() {
        struct Stop: Error {}
        let ends = PacketRing.make(capacity: 4, slotSize: 8, publishEvery: 1)
        var producer = ends.producer
        var consumer = ends.consumer
        for sequence in 1...3 {
            producer.push(header: plainHeader(UInt64(sequence)), bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        #expect(throws: Stop.self) {
            try consumer.pop { header, _ in if header.sequence == 2 { throw Stop() } }
        }
        var rest: [UInt64] = []
        consumer.pop { header, _ in rest.append(header.sequence) }
        #expect(rest == [3])
    }

    @Test func handoffGivesItsValueOnce() {
        let ends = PacketRing.make(capacity: 2, slotSize: 8)
        let handoff = Handoff(ends.producer)
        let producer = handoff.take()
        let capacity = producer.capacity
        #expect(capacity == 2)
    }
}
