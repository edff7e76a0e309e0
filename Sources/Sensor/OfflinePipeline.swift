import Capture
import Detect
import Platform
import Ring
import Synchronization
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Offline analysis on two threads: a reader thread pulls packets from libpcap, decodes them in
/// place and copies the ones a rule could match into the ring, waiting when it is full (nothing
/// is ever dropped offline); the calling thread runs the engine on them in order, so the result
/// is the same as one thread's. Turned-away packets are counted on the reader's side.
public enum OfflinePipeline {
    /// What reading the inputs ran into; the packets that could be read were all processed.
    public struct Outcome: Sendable {
        /// One line each: unreadable inputs, unsupported link types, cut-off files.
        public var problems: [String] = []
        public var packets: UInt64 = 0
        public var ringWaits = 0
        public var filesRead = 0
        /// What the reader's prefilter counted and kept from the engine.
        public var turnedAway = PrefilterCounters()
        /// Reading stopped early because a stop was requested (SIGTERM, SIGINT).
        public var interrupted = false
    }

    /// Progress for a progress bar: every packet and byte the reader has read (turned away by
    /// the prefilter or not), the alerts written so far, and how long it has been.
    public struct Progress: Sendable, Equatable {
        public var bytesRead: Int64
        /// The files' total size; nil when an input is a pipe (then there is no end to estimate).
        public var bytesTotal: Int64?
        public var packets: UInt64
        public var alerts: UInt64
        public var elapsed: Duration

        public init(bytesRead: Int64, bytesTotal: Int64?, packets: UInt64, alerts: UInt64, elapsed: Duration) {
            self.bytesRead = bytesRead
            self.bytesTotal = bytesTotal
            self.packets = packets
            self.alerts = alerts
            self.elapsed = elapsed
        }
    }

    /// Slot size: whole packets up to a jumbo-free MTU and then some; longer ones keep their
    /// first 2 KiB, which holds every header the engine reads.
    public static let slotSize = 2048
    public static let ringCapacity = 2048

    /// Reads `inputs` through `engine`. When `signals` asks to stop, the reader stops between
    /// packets and what it read is processed to the end, so the caller can write the flows and
    /// the final stats of a shorter run. `progress`, when given, is called every
    /// `progressInterval` from a thread of its own, whatever the packets are doing (a quiet pipe
    /// included), and not after `run` returns.
    public static func run(inputs: [String], engine: Engine, signals: SignalWatcher? = nil, filter: String? = nil,
                           progressInterval: Duration = .milliseconds(250),
                           progress: (@Sendable (Progress) -> Void)? = nil) -> Outcome {
        let ends = PacketRing.make(capacity: ringCapacity, slotSize: slotSize)
        let producerBox = Handoff(ends.producer)
        var consumer = ends.consumer
        let sizes = inputs.map { fileSize($0) }
        let shared = Shared(totalBytes: sizes.contains(nil) ? nil : sizes.reduce(Int64(0)) { $0 + ($1 ?? 0) })
        let reporter = progress.map { ProgressReporter(shared: shared, interval: progressInterval, report: $0) }
        defer { reporter?.stop() }
        engine.sourceNames = inputs

        var thread = pthread_t()
        let context = Unmanaged.passRetained(ReaderContext(inputs: inputs, filter: filter, producer: producerBox, shared: shared,
                                                           prefilter: engine.makePrefilter(), signals: signals))
        let created = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<ReaderContext>.fromOpaque(raw!).takeRetainedValue()
            context.read()
            return nil
        }, context.toOpaque())
        precondition(created == 0, "pthread_create failed: \(created)")

        var stopSeen: ContinuousClock.Instant?
        var readerStuck = false
        while true {
            let count = consumer.pop(lookahead: Engine.lookahead, ahead: { engine.prefetch(flow: $0.flow, source: $0.source) }) { header, bytes in
                engine.consume(header, bytes, source: Int(header.sourceIndex))
            }
            guard count == 0 else {
                if reporter != nil { shared.alerts.store(engine.stats.alerts, ordering: .relaxed) }
                continue
            }
            guard let signals else {
                if consumer.waitForPackets() == .closedAndDrained { break }
                continue
            }
            if consumer.waitForPackets(timeout: .milliseconds(100)) == .closedAndDrained { break }
            if signals.stopRequested {
                // A reader blocked on a quiet pipe (standard input) never sees the request:
                // give it a second, then finish without it.
                let now = ContinuousClock.now
                if let seen = stopSeen {
                    if now - seen > .seconds(1) && !consumer.hasPackets() {
                        readerStuck = true
                        break
                    }
                } else {
                    stopSeen = now
                }
            }
        }
        if readerStuck {
            // It holds only its input and the ring's producer end; the process exits soon.
            pthread_detach(thread)
            var outcome = Outcome()
            outcome.interrupted = true
            outcome.problems = ["the reader was still waiting for input when asked to stop; it was left behind"]
            outcome.packets = engine.totals.packets
            return outcome
        }
        pthread_join(thread, nil)
        var outcome = shared.outcome.withLock { $0 }
        engine.turnedAway = outcome.turnedAway
        outcome.packets = engine.totals.packets
        engine.capture.ringWaits = UInt64(outcome.ringWaits)
        return outcome
    }

    static func fileSize(_ path: String) -> Int64? {
        guard path != "-" else { return nil }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    final class Shared: Sendable {
        let outcome = Mutex(Outcome())
        /// Published by the reader every 64 packets (every packet from a pipe) and at each file's end.
        let bytesRead = Atomic<Int64>(0)
        let packetsRead = Atomic<UInt64>(0)
        /// Published by the detection thread after each batch, when there is a progress reporter.
        let alerts = Atomic<UInt64>(0)
        let totalBytes: Int64?

        init(totalBytes: Int64?) { self.totalBytes = totalBytes }

        func publish(bytes: Int64, packets: UInt64) {
            bytesRead.store(bytes, ordering: .relaxed)
            packetsRead.store(packets, ordering: .relaxed)
        }
    }

    /// Calls `report` every `interval` on a thread of its own until stopped, so a progress bar
    /// moves on time (at least four times a second by default) however fast or slow the
    /// packets come, and counts every packet read.
    final class ProgressReporter: Sendable {
        private final class Flag: Sendable {
            let raised = Atomic<Bool>(false)
        }

        private let stopped: Flag
        private let thread: JoinableThread

        init(shared: Shared, interval: Duration, report: @escaping @Sendable (Progress) -> Void) {
            let stopped = Flag()
            self.stopped = stopped
            let start = ContinuousClock.now
            thread = JoinableThread {
                var next = start + interval
                while !stopped.raised.load(ordering: .acquiring) {
                    // Short naps, so stopping never waits a whole interval.
                    let now = ContinuousClock.now
                    if now < next {
                        let nap = min(next - now, .milliseconds(50))
                        usleep(UInt32(nap.components.seconds * 1_000_000 + nap.components.attoseconds / 1_000_000_000_000))
                        continue
                    }
                    next = now + interval
                    report(Progress(bytesRead: shared.bytesRead.load(ordering: .relaxed), bytesTotal: shared.totalBytes,
                                    packets: shared.packetsRead.load(ordering: .relaxed),
                                    alerts: shared.alerts.load(ordering: .relaxed), elapsed: now - start))
                }
            }
        }

        /// Ends the reports; none comes after this returns.
        func stop() {
            stopped.raised.store(true, ordering: .releasing)
            thread.join()
        }
    }

    /// The reader thread's work: every input in order, every packet into the ring.
    final class ReaderContext: Sendable {
        let inputs: [String]
        /// A BPF expression (tcpdump's syntax) packets must pass, as `tcpdump -r FILE EXPR`.
        let filter: String?
        let producer: Handoff<PacketProducer>
        let shared: Shared
        let prefilter: Prefilter
        let signals: SignalWatcher?

        init(inputs: [String], filter: String?, producer: Handoff<PacketProducer>, shared: Shared, prefilter: Prefilter,
             signals: SignalWatcher?) {
            self.signals = signals
            self.inputs = inputs
            self.filter = filter
            self.producer = producer
            self.shared = shared
            self.prefilter = prefilter
        }

        func read() {
            var producer = self.producer.take()
            var prefilter = self.prefilter
            var lastSent: Int64 = 0  // not Int64.min: the first difference must not wrap
            var problems: [String] = []
            var filesRead = 0
            var doneBytes: Int64 = 0
            var donePackets: UInt64 = 0
            var interrupted = false
            for (index, path) in inputs.enumerated() {
                if signals?.stopRequested == true {
                    interrupted = true
                    break
                }
                let capture: OfflineCapture
                do {
                    capture = try OfflineCapture(path: path)
                } catch {
                    problems.append(error.description)
                    continue
                }
                // Compiled for each file's link type, as tcpdump does; a packet it refuses is
                // read (and counted for progress) but goes no further.
                var program: BPFProgram?
                if let filter {
                    do {
                        program = try BPFProgram.compile(filter, linkType: capture.linkType)
                    } catch {
                        problems.append("\(path): \(error.reason)")
                        continue
                    }
                }
                filesRead += 1
                let linkType = capture.linkType.rawValue
                // A pipe can go quiet between packets: publish each at once, so none waits unseen
                // for the next (or is lost with a reader left blocked at a stop).
                let publishEach = capture.fileSize == nil
                var sequence: UInt64 = 0
                while let record = capture.next() {
                    sequence &+= 1
                    if sequence & 0xFF == 0, let signals, signals.stopRequested {
                        interrupted = true
                        break
                    }
                    // Progress counts every packet read, whatever becomes of it below.
                    if publishEach || sequence & 0x3F == 0 {
                        shared.publish(bytes: doneBytes + capture.bytesRead, packets: donePackets + sequence)
                    }
                    let timestamp = record.timestamp
                    if let program, !program.accepts(record.bytes, originalLength: record.originalLength) {
                        continue
                    }
                    guard prefilter.admits(record.bytes, linkType: capture.linkType, originalLength: record.originalLength) else {
                        // Once a second of packet time, tell the engine so idle flows time out.
                        if timestamp &- lastSent >= 1_000_000_000 {
                            lastSent = timestamp
                            let tick = SlotHeader.clockTick(seconds: record.seconds, nanoseconds: record.nanoseconds,
                                                            sourceIndex: UInt32(index), sequence: sequence)
                            producer.pushWaiting(header: tick, bytes: UnsafeRawBufferPointer(start: nil, count: 0))
                            if publishEach { producer.flush() }
                        }
                        continue
                    }
                    lastSent = timestamp
                    let header = SlotHeader(
                        timestampSeconds: record.seconds, timestampNanoseconds: record.nanoseconds,
                        originalLength: UInt32(truncatingIfNeeded: record.originalLength),
                        capturedLength: UInt32(truncatingIfNeeded: record.bytes.count), storedLength: 0,
                        linkType: linkType, sourceIndex: UInt32(index), sequence: sequence,
                        flowHint: prefilter.flowHint, sourceHint: prefilter.sourceHint)
                    producer.pushWaiting(header: header, bytes: record.bytes)
                    if publishEach { producer.flush() }
                }
                doneBytes += capture.bytesRead
                donePackets += UInt64(capture.packetsRead)
                shared.publish(bytes: doneBytes, packets: donePackets)
                switch capture.end {
                case .truncated(let offset, let reason):
                    let place = offset.map { "at byte offset \($0)" } ?? "after packet \(capture.packetsRead)"
                    problems.append("\(path): truncated \(place), \(capture.packetsRead) packets read before the cut (\(reason))")
                case .failed(let reason):
                    problems.append("\(path): read failed after packet \(capture.packetsRead): \(reason)")
                case .endOfFile, nil:
                    break
                }
                if interrupted { break }
            }
            let waits = producer.waits
            producer.close()
            let turnedAway = prefilter.counters
            shared.outcome.withLock {
                $0.turnedAway = turnedAway
                $0.problems = problems
                $0.filesRead = filesRead
                $0.ringWaits = waits
                $0.interrupted = interrupted
            }
        }
    }
}
