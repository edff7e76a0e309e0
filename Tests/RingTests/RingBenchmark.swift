import Ring
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Throughput of the ring between two threads. Prints figures, asserts nothing about time.
/// Run with: RING_BENCH=1 swift test -c release --filter RingBenchmark
@Suite(.serialized, .enabled(if: getenv("RING_BENCH") != nil, "set RING_BENCH=1 (and use -c release)"))
struct RingBenchmark {
    struct Figures: Sendable {
        var consumerWaits = 0
        var checksum = 0
        var received = 0
    }

    @Test(arguments: [64, 128])
    func throughput(packetSize: Int) {
        let total = packetCount(default: 10_000_000)
        let ends = PacketRing.make(capacity: 4096, slotSize: packetSize)
        let producerEnd = Handoff(ends.producer)
        let consumerEnd = Handoff(ends.consumer)
        let producerWaits = Outcome(0)
        let figures = Outcome(Figures())
        let clock = ContinuousClock()
        let start = clock.now

        let producerThread = TestThread {
            var producer = producerEnd.take()
            // One capture buffer reused, as libpcap's is: the ring copies out of it.
            let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: packetSize, alignment: 8)
            defer { packet.deallocate() }
            for offset in 0..<packetSize { packet[offset] = UInt8(truncatingIfNeeded: offset) }
            let bytes = UnsafeRawBufferPointer(packet)
            for sequence in 1...UInt64(total) {
                packet.storeBytes(of: sequence, as: UInt64.self)
                let header = SlotHeader(
                    timestampSeconds: 1_700_000_000, timestampNanoseconds: Int32(truncatingIfNeeded: sequence),
                    originalLength: UInt32(packetSize), capturedLength: UInt32(packetSize),
                    linkType: 1, sourceIndex: 0, sequence: sequence)
                producer.pushWaiting(header: header, bytes: bytes)
            }
            producerWaits.value = producer.waits
            producer.close()
        }
        let consumerThread = TestThread {
            var consumer = consumerEnd.take()
            var checksum = 0
            // Touch the header and the packet's first and last bytes, as a decoder would.
            let received = consumer.consumeUntilClosed { header, bytes in
                checksum &+= Int(header.sequence) &+ Int(bytes.load(as: UInt64.self)) &+ Int(bytes[bytes.count - 1])
            }
            figures.value = Figures(consumerWaits: consumer.waits, checksum: checksum, received: received)
        }
        producerThread.join()
        consumerThread.join()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let result = figures.value
        #expect(result.received == total)
        let rate = Double(total) / seconds
        print("""
            ring throughput: \(total) packets of \(packetSize) bytes in \(format3(seconds)) s = \
            \(format3(rate / 1e6)) M packets/s, \(format3(rate * Double(packetSize) * 8 / 1e9)) Gbit/s payload; \
            producer waits \(producerWaits.value), consumer waits \(result.consumerWaits)
            """)
    }
}

/// Three decimals without Foundation.
private func format3(_ value: Double) -> String {
    let scaled = (value * 1000).rounded()
    let whole = Int(scaled / 1000)
    let fraction = Int(abs(scaled).truncatingRemainder(dividingBy: 1000))
    let padded = String(fraction)
    return "\(whole)." + String(repeating: "0", count: 3 - padded.count) + padded
}
