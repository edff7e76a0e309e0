import Capture
import Detect
import KernelFilter
import Output
import Platform
import Ring
import Rules
import Synchronization
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The live sensor: a capture thread reads the interface, decodes and prefilters in place and
/// pushes candidates into the ring, waiting for room when it is full (the packets behind wait in
/// the kernel's capture buffer, 64 MiB by default, and only a full kernel buffer drops them,
/// counted as kernel drops: the engine's stalls, a reload or an index doubling of the flow
/// table, cost no packet); the calling
/// thread runs the engine, writes records, answers signals, pings systemd and reports stats.
public final class LiveSensor {
    /// What the operator configured.
    public struct Settings: Sendable {
        public var capture = LiveOptions()
        /// Seconds between stats records (0: only at the end and on SIGUSR1).
        public var statsInterval = 30
        /// Longest a record waits in the buffer before it is written.
        public var flushInterval: Duration = .milliseconds(200)
        public var ringCapacity = 4096
        public var slotSize = 2048
        /// Whether to install the rules' own kernel filter (after `capture.filter`).
        public var kernelFilter = KernelFilterMode.auto

        public init() {}
    }

    /// What the sensor asks of its owner on SIGHUP: reopen the outputs, reload the rules.
    public struct Hooks {
        /// Reopens log files (rotation). Returns messages to log.
        public var reopenOutputs: () -> [String]
        /// Parses and compiles the rules again: the new ruleset, or the errors that keep the old one.
        /// Called on a thread of its own (`RuleReloads`), while the engine goes on.
        public var reloadRules: @Sendable () -> Result<RuleSet, ReloadFailure>
        /// Called after each stats record (the Prometheus textfile).
        public var afterStats: (SensorStats) -> Void
        /// Judges the EVE sink's health after a flush: a message when it changed (the EVE file's
        /// `check`, which also reopens a file whose descriptor went bad). Nil: the sensor says
        /// itself when writing starts and stops failing.
        public var checkOutput: ((EVEOutput) -> String?)?
        /// Rereads other files on SIGHUP (the listener baseline). Returns messages to log.
        public var rereadFiles: () -> [String] = { [] }
        /// Called about once a second (the listener baseline's flush).
        public var everySecond: () -> Void = {}

        public init(reopenOutputs: @escaping () -> [String], reloadRules: @escaping @Sendable () -> Result<RuleSet, ReloadFailure>,
                    afterStats: @escaping (SensorStats) -> Void, checkOutput: ((EVEOutput) -> String?)? = nil) {
            self.reopenOutputs = reopenOutputs
            self.reloadRules = reloadRules
            self.afterStats = afterStats
            self.checkOutput = checkOutput
        }
    }

    public struct ReloadFailure: Error, Sendable {
        public var messages: [String]
        public init(messages: [String]) { self.messages = messages }
    }

    private let engine: Engine
    private let records: EVERecords
    private let settings: Settings
    private let signals: SignalWatcher
    private let notifier: SystemdNotifier
    private let log: @Sendable (LogLevel, String) -> Void
    private let hooks: Hooks
    private var capture: LiveCapture?

    /// `capture` was opened by the caller (before dropping privileges).
    /// `records` is the engine's sink: the sensor watches its health and flushes it.
    public init(engine: Engine, records: EVERecords, capture: LiveCapture, settings: Settings, signals: SignalWatcher,
                notifier: SystemdNotifier, hooks: Hooks, log: @escaping @Sendable (LogLevel, String) -> Void) {
        self.engine = engine
        self.records = records
        self.capture = capture
        self.settings = settings
        self.signals = signals
        self.notifier = notifier
        self.hooks = hooks
        self.log = log
    }

    /// Runs until SIGTERM/SIGINT; returns when every packet captured is processed, flows are
    /// flushed as records and the final stats are written.
    public func run() {
        guard let capture else { return }
        self.capture = nil
        let interface = capture.interface
        let ends = PacketRing.make(capacity: settings.ringCapacity, slotSize: settings.slotSize)
        let producer = Handoff(ends.producer)
        var consumer = ends.consumer
        let ringMonitor = consumer.monitor
        let kernelFilter = KernelFilterInstaller(
            mode: settings.kernelFilter, anomalies: engine.configuration.anomalies,
            tunnels: engine.configuration.tunnelPorts, linkType: capture.linkType,
            snaplen: settings.capture.snaplen,
            user: settings.capture.filter.flatMap { $0.isEmpty ? nil : try? capture.compile($0) })
        let kernelPlan = kernelFilter.plan(rules: engine.rules)
        log(.info, kernelFilter.install(kernelPlan, on: capture))
        let shared = LiveShared(prefilter: engine.makePrefilter(), kernelPlan: kernelPlan)
        let reloads = RuleReloads(load: hooks.reloadRules, kernelFilter: kernelFilter.mode == .auto ? kernelFilter : nil)
        let reader = CaptureThread(capture: Handoff(CaptureBox(capture)), options: settings.capture,
                                   kernelFilter: kernelFilter, producer: producer, shared: shared, signals: signals,
                                   log: log)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(reader)
        pthread_create(&thread, nil, { raw in
            Unmanaged<CaptureThread>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context.toOpaque())

        let clock = ContinuousClock()
        let started = clock.now
        var nextStats = settings.statsInterval > 0 ? started + .seconds(settings.statsInterval) : nil
        var nextFlush = started + settings.flushInterval
        var nextWatchdog = notifier.watchdogInterval.map { started + .nanoseconds($0 / 2) }
        var nextStatus = started + .seconds(5)
        var nextSecond = started + .seconds(1)
        notifier.send("READY=1\nSTATUS=capturing on \(interface)")
        log(.notice, "capturing on \(interface) (\(capture.linkTypeName)), \(engine.rules.count) rules, \(engine.watchlist.count) watched ports")

        func refreshExtra() {
            Self.refresh(engine, from: shared, ring: ringMonitor, uptime: clock.now - started)
        }
        func writeStats() {
            refreshExtra()
            engine.emitStats(timestamp: Self.wallClock())
            engine.flushOutput()
            hooks.afterStats(engine.statistics)
        }

        var draining = false
        var outputFailing = false
        while true {
            let count = consumer.pop(maxBatch: 4096, lookahead: Engine.lookahead, ahead: { engine.prefetch(flow: $0.flow, source: $0.source) }) {
                header, bytes in engine.consume(header, bytes, source: -1)
            }
            let now = clock.now
            if count == 0 || now >= nextFlush {
                engine.flushOutput()
                nextFlush = now + settings.flushInterval
                if let (level, message) = Self.outputHealth(records.output, check: hooks.checkOutput, failing: &outputFailing) {
                    log(level, message)
                }
                if let transition = records.syslog?.takeTransition() { log(.warning, transition.description) }
            }
            if let due = nextWatchdog, now >= due, let interval = notifier.watchdogInterval {
                // Pinged from this thread: a wedged engine stops the pings and systemd restarts it.
                notifier.send("WATCHDOG=1")
                nextWatchdog = now + .nanoseconds(interval / 2)
            }
            if signals.takeHangups() > 0 { hangup(reloads) }
            for outcome in reloads.take() { install(outcome, shared: shared) }
            if signals.takeStatsRequests() > 0 { writeStats() }
            if now >= nextSecond {
                hooks.everySecond()
                nextSecond = now + .seconds(1)
            }
            if let due = nextStats, now >= due {
                writeStats()
                nextStats = now + .seconds(settings.statsInterval)
            }
            if now >= nextStatus {
                refreshExtra()
                let totals = engine.totals
                notifier.send("STATUS=capturing on \(interface): \(totals.packets) packets, \(totals.alerts) alerts, "
                              + "\((engine.capture.kernelDrops ?? 0) + engine.capture.ringDrops) dropped")
                nextStatus = now + .seconds(5)
            }
            if signals.stopRequested && !draining {
                draining = true
                notifier.send("STOPPING=1")
                log(.notice, "stopping: draining the ring")
            }
            if count == 0 {
                if consumer.waitForPackets(timeout: .milliseconds(100)) == .closedAndDrained { break }
            }
        }
        pthread_join(thread, nil)
        if !draining { notifier.send("STOPPING=1") }
        refreshExtra()
        engine.finish(reason: "shutdown", at: Self.wallClock())
        hooks.afterStats(engine.statistics)
        let totals = engine.totals
        log(.notice, "stopped: \(totals.packets) packets, \(totals.alerts) alerts, kernel drops \(engine.capture.kernelDrops ?? 0), ring drops \(engine.capture.ringDrops)")
    }

    /// SIGHUP: reopen the outputs (log rotation) here, and reload the rules beside the running
    /// ones (`RuleReloads`); `install` swaps them in when they are built.
    private func hangup(_ reloads: RuleReloads) {
        notifier.send("RELOADING=1")
        for message in hooks.reopenOutputs() { log(.notice, message) }
        for message in hooks.rereadFiles() { log(.notice, message) }
        reloads.request()
    }

    /// A reload's outcome, between packets: the new rules for the engine, their interest for the
    /// capture thread's prefilter and their kernel filter for it to install (the handle being
    /// its own); a ruleset that failed to load leaves the old one in place.
    private func install(_ outcome: RuleReloads.Outcome, shared: LiveShared) {
        let rulesInUse = engine.rules.count
        if case .loaded(let compiled, let kernelPlan, _) = outcome {
            engine.replaceRules(compiled, loadedAt: Self.wallClock())
            shared.publish(interest: engine.interest, kernelPlan: kernelPlan)
        }
        for (level, line) in outcome.logLines(rulesInUse: rulesInUse, engines: 1) { log(level, line) }
        notifier.send("READY=1")
    }

    /// Says once when writing `sink` starts failing and once when it works again (`failing`: what
    /// was said last), or what `check` (the EVE file's) finds.
    static func outputHealth(_ sink: EVEOutput, check: ((EVEOutput) -> String?)?, failing: inout Bool) -> (LogLevel, String)? {
        if let check { return check(sink).map { (.warning, $0) } }
        guard sink.failing != failing else { return nil }
        failing = sink.failing
        return failing
            ? (.error, "EVE output: write failed (\(sink.lastError.map { "\($0)" } ?? "unknown error")); counting lost records until it works again")
            : (.notice, "EVE output: writing again; \(sink.lost) records lost in all")
    }

    /// Gives `engine` the counts kept outside it: its capture thread's (the prefilter's, the
    /// kernel's), its ring's, and the uptime.
    static func refresh(_ engine: Engine, from shared: LiveShared, ring: PacketRingMonitor, uptime: Duration) {
        let counters = shared.snapshot()
        engine.turnedAway = counters.turnedAway
        engine.capture.kernelPackets = counters.kernelPackets
        engine.capture.kernelDrops = counters.kernelDrops
        engine.capture.kernelInterfaceDrops = counters.kernelInterfaceDrops
        engine.capture.ringDrops = UInt64(ring.drops)
        engine.capture.ringWaits = UInt64(ring.producerWaits)
        engine.uptimeSeconds = UInt64(uptime.components.seconds)
    }

    public static func wallClock() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// Carries a `LiveCapture` (a class libpcap's handle lives in) to the capture thread.
final class CaptureBox: @unchecked Sendable {
    // @unchecked: handed over once; only the capture thread uses it afterwards.
    let capture: LiveCapture
    init(_ capture: LiveCapture) { self.capture = capture }
}

/// Counters and requests crossing between the capture thread and the engine's thread.
final class LiveShared: Sendable {
    struct Counters: Sendable {
        var turnedAway = PrefilterCounters()
        var kernelPackets: UInt64?
        var kernelDrops: UInt64?
        var kernelInterfaceDrops: UInt64?
    }

    private let counters = Mutex(Counters())
    private let pending = Mutex<(interest: Interest?, kernelPlan: KernelFilterPlan?)>((nil, nil))
    /// Bumped by every publish; the capture thread looks for news when it changes.
    let interestGeneration = Atomic<Int>(0)
    let initialPrefilter: Prefilter
    let initialKernelPlan: KernelFilterPlan

    init(prefilter: Prefilter, kernelPlan: KernelFilterPlan) {
        initialPrefilter = prefilter
        initialKernelPlan = kernelPlan
    }

    func snapshot() -> Counters { counters.withLock { $0 } }
    func store(_ value: Counters) { counters.withLock { $0 = value } }

    /// A reload's new interest, for the capture side's prefilter, and its kernel filter plan when
    /// the sensor installs its own. Reloads come one at a time (`RuleReloads`), so a later one
    /// replaces what an earlier one left untaken.
    func publish(interest: Interest, kernelPlan: KernelFilterPlan?) {
        pending.withLock { pending in
            pending.interest = interest
            if let kernelPlan { pending.kernelPlan = kernelPlan }
        }
        interestGeneration.add(1, ordering: .releasing)
    }

    func takeInterest() -> Interest? { pending.withLock { pending in defer { pending.interest = nil }; return pending.interest } }

    func takeKernelPlan() -> KernelFilterPlan? {
        pending.withLock { pending in defer { pending.kernelPlan = nil }; return pending.kernelPlan }
    }
}

/// The capture thread: read, prefilter, push; reopen the interface when it goes away.
final class CaptureThread: Sendable {
    private let captureBox: Handoff<CaptureBox>
    private let options: LiveOptions
    private let kernelFilter: KernelFilterInstaller
    private let producerBox: Handoff<PacketProducer>
    private let shared: LiveShared
    private let signals: SignalWatcher
    private let log: @Sendable (LogLevel, String) -> Void

    init(capture: Handoff<CaptureBox>, options: LiveOptions, kernelFilter: KernelFilterInstaller,
         producer: Handoff<PacketProducer>, shared: LiveShared, signals: SignalWatcher,
         log: @escaping @Sendable (LogLevel, String) -> Void) {
        self.captureBox = capture
        self.options = options
        self.kernelFilter = kernelFilter
        self.producerBox = producer
        self.shared = shared
        self.signals = signals
        self.log = log
    }

    func run() {
        var producer = producerBox.take()
        var capture: LiveCapture? = captureBox.take().capture
        var prefilter = shared.initialPrefilter
        var kernelPlan = shared.initialKernelPlan
        var generation = 0
        var counters = LiveShared.Counters()
        var received = WidenedCounter(), dropped = WidenedCounter(), interfaceDropped = WidenedCounter()
        let interface = capture?.interface ?? options.interface ?? "?"
        var reopenOptions = options
        reopenOptions.interface = interface
        var lastSent: Int64 = 0  // not Int64.min: the first difference must not wrap
        var sequence: UInt64 = 0
        var sincePublish = 0

        func publish(_ capture: LiveCapture?) {
            if let raw = capture?.rawStats() {
                received.update(raw.received)
                dropped.update(raw.dropped)
                interfaceDropped.update(raw.interfaceDropped)
            }
            counters.turnedAway = prefilter.counters
            counters.kernelPackets = received.total
            counters.kernelDrops = dropped.total
            counters.kernelInterfaceDrops = interfaceDropped.total
            shared.store(counters)
            sincePublish = 0
        }
        func take(_ record: CaptureRecord, from current: LiveCapture, into producer: inout PacketProducer) {
            sequence &+= 1
            sincePublish &+= 1
            let timestamp = record.timestamp
            if prefilter.admits(record.bytes, linkType: current.linkType, originalLength: record.originalLength) {
                lastSent = timestamp
                let header = SlotHeader(
                    timestampSeconds: record.seconds, timestampNanoseconds: record.nanoseconds,
                    originalLength: UInt32(truncatingIfNeeded: record.originalLength),
                    capturedLength: UInt32(truncatingIfNeeded: record.bytes.count),
                    linkType: current.linkType.rawValue, sourceIndex: 0, sequence: sequence,
                    flowHint: prefilter.flowHint, sourceHint: prefilter.sourceHint)
                // Waiting holds the capture here while the kernel keeps queueing into its buffer:
                // 4,096 slots are 40 ms at 100,000 packets/s, the kernel's 64 MiB some seconds.
                producer.pushWaiting(header: header, bytes: record.bytes)
            } else if timestamp &- lastSent >= 1_000_000_000 {
                lastSent = timestamp
                Self.tick(timestamp, sequence: sequence, into: &producer)
            }
        }
        while !signals.stopRequested {
            guard let current = capture else {
                capture = reopen(reopenOptions)
                if let capture {
                    if kernelFilter.mode == .auto {
                        _ = kernelFilter.install(kernelPlan, on: capture)
                    }
                    received.restart()
                    dropped.restart()
                    interfaceDropped.restart()
                    log(.notice, "capture on \(interface) recovered")
                }
                continue
            }
            if shared.interestGeneration.load(ordering: .acquiring) != generation {
                generation = shared.interestGeneration.load(ordering: .acquiring)
                if let interest = shared.takeInterest() {
                    prefilter = prefilter.reloaded(interest: interest)
                }
                if let plan = shared.takeKernelPlan() {
                    if kernelFilter.installsSameProgram(plan, as: kernelPlan) {
                        log(.info, "reload: kernel filter unchanged")
                    } else {
                        log(.info, "reload: " + kernelFilter.install(plan, on: current))
                    }
                    kernelPlan = plan
                }
            }
            switch current.next(beforeWaiting: { producer.flush() }) {
            case .packet(let record):
                take(record, from: current, into: &producer)
                if sincePublish >= 65_536 { publish(current) }
            case .timeout:
                producer.flush()
                let now = LiveSensor.wallClock()
                if now &- lastSent >= 1_000_000_000 {
                    lastSent = now
                    Self.tick(now, sequence: sequence, into: &producer)
                }
                producer.flush()
                publish(current)
            case .failed(let reason):
                publish(current)
                log(.error, "capture on \(interface) failed: \(reason); retrying")
                capture = nil
            }
        }
        // A stop still takes what the kernel has already captured: read until it has nothing
        // more to give, and at least one read timeout long (a TPACKET_V3 block is handed over
        // up to one timeout late), for at most 2 s, so a stop stays prompt under any load.
        if let current = capture {
            let started = LiveSensor.wallClock()
            let quietAfter = started + Int64(options.readTimeoutMilliseconds + 50) * 1_000_000
            drain: while LiveSensor.wallClock() < started + 2_000_000_000 {
                switch current.next() {
                case .packet(let record):
                    take(record, from: current, into: &producer)
                case .timeout:
                    if LiveSensor.wallClock() >= quietAfter { break drain }
                case .failed:
                    break drain
                }
            }
        }
        publish(capture)
        producer.flush()
        producer.close()
    }

    /// Tells the engine that time moved on, so idle flows time out while nothing it wants arrives.
    private static func tick(_ timestamp: Int64, sequence: UInt64, into producer: inout PacketProducer) {
        let header = SlotHeader.clockTick(seconds: timestamp / 1_000_000_000,
                                          nanoseconds: UInt32(truncatingIfNeeded: timestamp % 1_000_000_000),
                                          sourceIndex: 0, sequence: sequence)
        producer.pushWaiting(header: header, bytes: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// Tries to open the interface again, waiting 0.5 s, then longer up to 5 s, between tries.
    private func reopen(_ options: LiveOptions) -> LiveCapture? {
        var delay = 500_000_000
        var lastReason = ""
        while !signals.stopRequested {
            // Sleep in short steps so a SIGTERM while the interface is gone is seen at once.
            var slept = 0
            while slept < delay && !signals.stopRequested {
                var request = timespec(tv_sec: 0, tv_nsec: 100_000_000)
                nanosleep(&request, nil)
                slept += 100_000_000
            }
            if signals.stopRequested { break }
            do {
                return try LiveCapture(options: options)
            } catch {
                if error.description != lastReason {
                    lastReason = error.description
                    log(.error, "capture: \(error.description); retrying")
                }
                delay = min(delay * 2, 5_000_000_000)
            }
        }
        return nil
    }
}
