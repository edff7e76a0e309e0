import Platform
import Ring
import Synchronization
import TrafficGen

#if canImport(Glibc)
import Glibc
#endif

// MARK: ring

/// What the two threads saw.
struct RingFigures: Sendable {
    var received = 0
    var checksum = 0
    var consumerWaits = 0
    var producerWaits = 0
    /// Push-to-pop latencies in nanoseconds, sorted: every `latencyEvery`-th packet.
    var latencies: [UInt64] = []
}

/// State the two threads and the caller share. Fields other than the atomics are written by
/// one thread and read by the caller only after `join()`.
final class RingRun: @unchecked Sendable {
    let started = Atomic<Int>(0)
    let go = Atomic<Bool>(false)
    /// Allocated before the run, so the consumer's recording allocates nothing.
    let latencies: UnsafeMutableBufferPointer<UInt64>
    var recorded = 0
    var figures = RingFigures()

    init(samples: Int) { latencies = .allocate(capacity: samples) }
    deinit { latencies.deallocate() }
}

/// Pushes `total` packets of `packetSize` bytes from one thread and pops them on another.
/// With `gapNanoseconds` > 0 the producer paces itself (a live link's rate, not a flood) and
/// publishes each packet at once, so the latency is the consumer's wake-up, not queueing; from
/// a millisecond up it sleeps between packets (a quiet link), else it spins.
func runRing(total: Int, packetSize: Int, gapNanoseconds: UInt64 = 0, latencyEvery: Int = 16) -> (Double, RingFigures, Mallocs.Count) {
    let ends = PacketRing.make(capacity: 2048, slotSize: max(packetSize, 64))
    let producerEnd = Handoff(ends.producer)
    let consumerEnd = Handoff(ends.consumer)
    let samples = total / latencyEvery + 1
    let run = RingRun(samples: samples)

    let producerThread = JoinableThread {
        var producer = producerEnd.take()
        // One capture buffer reused, as libpcap's is: the ring copies out of it.
        let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: packetSize, alignment: 8)
        defer { packet.deallocate() }
        for offset in 0..<packetSize { packet[offset] = UInt8(truncatingIfNeeded: offset) }
        let bytes = UnsafeRawBufferPointer(packet)
        run.started.add(1, ordering: .releasing)
        while !run.go.load(ordering: .acquiring) {}
        var next = monotonicNanoseconds()
        for sequence in 1...UInt64(total) {
            if gapNanoseconds > 0 {
                next &+= gapNanoseconds
                if gapNanoseconds >= 1_000_000 {
                    let left = next &- min(next, monotonicNanoseconds())
                    var request = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
                    _ = nanosleep(&request, nil)
                }
                while monotonicNanoseconds() < next {}
            }
            // The push time rides in the packet: the consumer subtracts it from its pop time.
            packet.storeBytes(of: monotonicNanoseconds(), toByteOffset: 8, as: UInt64.self)
            packet.storeBytes(of: sequence, as: UInt64.self)
            let header = SlotHeader(
                timestampSeconds: 1_700_000_000, timestampNanoseconds: UInt32(truncatingIfNeeded: sequence),
                originalLength: UInt32(packetSize), capturedLength: UInt32(packetSize),
                linkType: 1, sourceIndex: 0, sequence: sequence)
            producer.pushWaiting(header: header, bytes: bytes)
            if gapNanoseconds > 0 { producer.flush() }
        }
        run.figures.producerWaits = producer.waits
        producer.close()
    }
    let consumerThread = JoinableThread {
        var consumer = consumerEnd.take()
        let latencies = run.latencies
        var recorded = 0
        var checksum = 0
        run.started.add(1, ordering: .releasing)
        // Touch the header and the packet's first and last bytes, as a decoder would.
        let received = consumer.consumeUntilClosed { header, bytes in
            let sequence = Int(header.sequence)
            checksum &+= sequence &+ Int(bytes.load(as: UInt64.self)) &+ Int(bytes[bytes.count - 1])
            if sequence % latencyEvery == 0, recorded < samples {
                latencies[recorded] = monotonicNanoseconds() &- bytes.load(fromByteOffset: 8, as: UInt64.self)
                recorded += 1
            }
        }
        run.recorded = recorded
        run.figures.received = received
        run.figures.checksum = checksum
        run.figures.consumerWaits = consumer.waits
    }
    while run.started.load(ordering: .acquiring) < 2 {}
    let clock = ContinuousClock()
    var elapsed = Duration.zero
    // Counted from the start signal to the joins: both threads' allocations, none of their setup's.
    let mallocs = Mallocs.count {
        let start = clock.now
        run.go.store(true, ordering: .releasing)
        producerThread.join()
        consumerThread.join()
        elapsed = clock.now - start
    }
    var result = run.figures
    result.latencies = Array(run.latencies[0..<run.recorded]).sorted()
    precondition(result.received == total, "ring lost packets: \(result.received) of \(total)")
    return (seconds(elapsed), result, mallocs)
}

func percentile(_ sorted: [UInt64], _ fraction: Double) -> UInt64 {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func benchRing() {
    let total = option("--packets", 10_000_000)
    print("ring: capacity 2048, one producer thread and one consumer thread; flood: \(total) packets as fast as they go (best of 3);")
    print("      paced: 200,000 packets at one per 5 us, each published at once (the latency a live packet sees)")
    let widths = [16, 8, 13, 10, 10, 10, 10, 14, 17]
    row(["run", "bytes", "M packets/s", "p50 ns", "p99 ns", "max ns", "waits p/c", "mallocs", "mallocs/packet"], widths)
    for packetSize in [64, 128, 512] {
        var best: (Double, RingFigures, Mallocs.Count)?
        for _ in 0..<3 {
            let run = runRing(total: total, packetSize: packetSize)
            if best == nil || run.0 < best!.0 { best = run }
        }
        let (time, figures, mallocs) = best!
        row(["flood", "\(packetSize)", format(Double(total) / time / 1e6, 2), "\(percentile(figures.latencies, 0.5))",
             "\(percentile(figures.latencies, 0.99))", "\(figures.latencies.last ?? 0)",
             "\(figures.producerWaits)/\(figures.consumerWaits)", "\(mallocs.mallocs)", perOperation(mallocs.mallocs, total)],
            widths)
    }
    let paced = 200_000
    let (time, figures, mallocs) = runRing(total: paced, packetSize: 128, gapNanoseconds: 5_000, latencyEvery: 1)
    row(["paced 200k pps", "128", format(Double(paced) / time / 1e6, 3), "\(percentile(figures.latencies, 0.5))",
         "\(percentile(figures.latencies, 0.99))", "\(figures.latencies.last ?? 0)",
         "\(figures.producerWaits)/\(figures.consumerWaits)", "\(mallocs.mallocs)", perOperation(mallocs.mallocs, paced)],
        widths)
    let quiet = option("--quiet-packets", 100)
    let (_, quietFigures, _) = runRing(total: quiet, packetSize: 128, gapNanoseconds: 20_000_000, latencyEvery: 1)
    row(["quiet, 1 per 20 ms", "128", "-", "\(percentile(quietFigures.latencies, 0.5))",
         "\(percentile(quietFigures.latencies, 0.99))", "\(quietFigures.latencies.last ?? 0)",
         "\(quietFigures.producerWaits)/\(quietFigures.consumerWaits)", "-", "-"], widths)
    print("(flood latency is mostly queueing: a full ring holds 2048 packets; mallocs include the threads' exit)")
}
