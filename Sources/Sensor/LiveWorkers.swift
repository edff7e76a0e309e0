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

/// The live sensor on several cores (`run --workers N`, N > 1): N capture sockets on the
/// interface in one `PACKET_FANOUT` group (hash mode: the kernel's symmetric flow hash, so both
/// directions of a flow reach the same socket), each with its capture thread, ring and engine on
/// a thread of its own, as `LiveSensor` has one. What must be one per sensor is: the scans, the
/// alert limits and the flood budgets (`SensorWide`, shared by the engines), the evidence
/// directory (one writer, locked), and the output: each engine's records go, whole lines, into
/// one EVE output under `sinkLock` (its file, rotation, Redis and the stats record are this
/// thread's). This thread answers signals, pings systemd, writes the stats (the workers' counts
/// added, and each worker's share) and hands reloaded rules to every worker; SIGTERM drains every
/// capture and ring, then the flows, and the last stats record is written when all are done.
public final class LiveWorkers {
    /// One worker: its engine (made with the sensor's `SensorWide`), the records it writes
    /// (their output has no descriptor: `run` sends its lines to the shared sink), its capture.
    public struct Worker {
        public let engine: Engine
        public let records: EVERecords
        public let capture: LiveCapture

        public init(engine: Engine, records: EVERecords, capture: LiveCapture) {
            self.engine = engine
            self.records = records
            self.capture = capture
        }
    }

    private let workers: [Worker]
    private let records: EVERecords
    private let sinkLock: Monitor
    private let sensorWide: SensorWide
    private let settings: LiveSensor.Settings
    private let signals: SignalWatcher
    private let notifier: SystemdNotifier
    private let hooks: LiveSensor.Hooks
    private let log: @Sendable (LogLevel, String) -> Void

    /// `records` write to the shared output (`records.output`), used under `sinkLock` only.
    /// Each worker's records output hands its lines to it.
    public init(workers: [Worker], records: EVERecords, sinkLock: Monitor, sensorWide: SensorWide, settings: LiveSensor.Settings,
                signals: SignalWatcher, notifier: SystemdNotifier, hooks: LiveSensor.Hooks,
                log: @escaping @Sendable (LogLevel, String) -> Void) {
        precondition(workers.count > 1, "one worker is LiveSensor")
        self.workers = workers
        self.records = records
        self.sinkLock = sinkLock
        self.sensorWide = sensorWide
        self.settings = settings
        self.signals = signals
        self.notifier = notifier
        self.hooks = hooks
        self.log = log
        let sink = records.output
        for worker in workers {
            worker.records.output.tap = { lines in sinkLock.locked { sink.append(lines: lines) } }
        }
    }

    /// A worker's thread and what it shares with this one.
    final class Run: @unchecked Sendable {
        // @unchecked: `engine` and `records` are the worker thread's until `done` is set, then
        // this thread's; the rest is Sendable.
        let engine: Engine
        let records: EVERecords
        let consumer: Handoff<PacketConsumer>
        let ringMonitor: PacketRingMonitor
        let shared: LiveShared
        /// Rules a reload built, for the worker to take between batches.
        let pendingRules = Mutex<(Engine.CompiledRules, Int64)?>(nil)
        /// The worker's counts, published every quarter second and at its end.
        let snapshot = Mutex(SensorStats())
        /// When the worker last went round its loop (milliseconds on the monotonic clock).
        let heartbeat = Atomic<Int64>(0)
        let done = Atomic<Bool>(false)

        init(engine: Engine, records: EVERecords, consumer: consuming PacketConsumer, ringMonitor: PacketRingMonitor,
             shared: LiveShared) {
            self.engine = engine
            self.records = records
            self.consumer = Handoff(consumer)
            self.ringMonitor = ringMonitor
            self.shared = shared
        }
    }

    static func milliseconds() -> Int64 { Int64(Monitor.now() * 1000) }

    static func describe(_ fanout: Fanout?) -> String {
        guard let fanout else { return "no fanout group" }
        return fanout.program == nil
            ? "PACKET_FANOUT group \(fanout.group), the kernel's flow hash"
            : "PACKET_FANOUT group \(fanout.group), by address pair"
    }

    public func run() {
        let clock = ContinuousClock()
        let started = clock.now
        var runs: [Run] = []
        var captureThreads: [pthread_t] = []
        var reloadFilter: KernelFilterInstaller?
        for (index, worker) in workers.enumerated() {
            let capture = worker.capture
            let ends = PacketRing.make(capacity: settings.ringCapacity, slotSize: settings.slotSize)
            let engine = worker.engine
            let kernelFilter = KernelFilterInstaller(
                mode: settings.kernelFilter, anomalies: engine.configuration.anomalies,
                tunnels: engine.configuration.tunnelPorts, linkType: capture.linkType, snaplen: settings.capture.snaplen,
                user: settings.capture.filter.flatMap { $0.isEmpty ? nil : try? capture.compile($0) })
            let kernelPlan = kernelFilter.plan(rules: engine.rules)
            let installed = kernelFilter.install(kernelPlan, on: capture)
            log(index == 0 ? .info : .debug, "worker \(index): \(installed)")
            if index == 0 && kernelFilter.mode == .auto { reloadFilter = kernelFilter }
            let shared = LiveShared(prefilter: engine.makePrefilter(), kernelPlan: kernelPlan)
            let ringMonitor = ends.consumer.monitor
            runs.append(Run(engine: engine, records: worker.records, consumer: ends.consumer, ringMonitor: ringMonitor, shared: shared))
            let reader = CaptureThread(capture: Handoff(CaptureBox(capture)), options: settings.capture, kernelFilter: kernelFilter,
                                       producer: Handoff(ends.producer), shared: shared, signals: signals, log: log)
            var thread = pthread_t()
            let context = Unmanaged.passRetained(reader)
            pthread_create(&thread, nil, { raw in
                Unmanaged<CaptureThread>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, context.toOpaque())
            captureThreads.append(thread)
        }
        let flushInterval = settings.flushInterval, log = self.log
        // Read before the workers start: from then on their engines are theirs.
        let interface = workers[0].capture.interface, engine = workers[0].engine
        var rulesInUse = engine.rules.count
        let startLine = "capturing on \(interface) (\(workers[0].capture.linkTypeName)), \(rulesInUse) rules, "
            + "\(engine.watchlist.count) watched ports, \(workers.count) workers (\(Self.describe(settings.capture.fanout)))"
        let workerThreads = runs.map { run in
            JoinableThread { Self.work(run, started: started, flushInterval: flushInterval, log: log) }
        }
        let reloads = RuleReloads(load: hooks.reloadRules, kernelFilter: reloadFilter)
        notifier.send("READY=1\nSTATUS=capturing on \(interface) with \(workers.count) workers")
        log(.notice, startLine)

        var nextStats = settings.statsInterval > 0 ? started + .seconds(settings.statsInterval) : nil
        var nextFlush = started + flushInterval
        var nextWatchdog = notifier.watchdogInterval.map { started + .nanoseconds($0 / 2) }
        var nextStatus = started + .seconds(5)
        var nextSecond = started + .seconds(1)
        var draining = false
        var outputFailing = false

        func writeStats() {
            let total = total(runs.map { $0.snapshot.withLock { $0 } }, uptime: clock.now - started)
            sinkLock.locked {
                records.stats(total, timestamp: LiveSensor.wallClock())
                records.flush()
            }
            hooks.afterStats(total)
        }

        while !runs.allSatisfy({ $0.done.load(ordering: .acquiring) }) {
            var nap = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            nanosleep(&nap, nil)
            let now = clock.now
            if now >= nextFlush {
                nextFlush = now + flushInterval
                let sink = records.output
                let health: (LogLevel, String)? = sinkLock.locked {
                    sink.flush()
                    return LiveSensor.outputHealth(sink, check: hooks.checkOutput, failing: &outputFailing)
                }
                if let (level, message) = health { log(level, message) }
            }
            if let due = nextWatchdog, now >= due, let interval = notifier.watchdogInterval {
                // Pinged only while every worker goes round its loop: a wedged one stops the pings.
                let limit = Self.milliseconds() - Int64(interval / 2_000_000)
                if runs.allSatisfy({ $0.heartbeat.load(ordering: .relaxed) >= limit || $0.done.load(ordering: .relaxed) }) {
                    notifier.send("WATCHDOG=1")
                }
                nextWatchdog = now + .nanoseconds(interval / 2)
            }
            if signals.takeHangups() > 0 {
                notifier.send("RELOADING=1")
                for message in sinkLock.locked({ hooks.reopenOutputs() }) { log(.notice, message) }
                for message in hooks.rereadFiles() { log(.notice, message) }
                reloads.request()
            }
            for outcome in reloads.take() { install(outcome, runs: runs, rulesInUse: &rulesInUse) }
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
                let total = total(runs.map { $0.snapshot.withLock { $0 } }, uptime: now - started)
                notifier.send("STATUS=capturing on \(interface) with \(workers.count) workers: \(total.engine.packets) packets, "
                              + "\(total.engine.alerts) alerts, \((total.capture.kernelDrops ?? 0) + total.capture.ringDrops) dropped")
                nextStatus = now + .seconds(5)
            }
            if signals.stopRequested && !draining {
                draining = true
                notifier.send("STOPPING=1")
                log(.notice, "stopping: draining \(workers.count) rings")
            }
        }
        for thread in captureThreads { pthread_join(thread, nil) }
        for thread in workerThreads { thread.join() }
        if !draining { notifier.send("STOPPING=1") }
        // Every worker's flows have ended: the sensor's flood aggregates and alert limits end once.
        let end = LiveSensor.wallClock()
        engine.finishDetections(at: end)
        let final = total(runs.map { run in
            var stats = run.engine.statistics
            stats.uptimeSeconds = UInt64((clock.now - started).components.seconds)
            return stats
        }, uptime: clock.now - started)
        sinkLock.locked {
            records.stats(final, timestamp: end)
            records.flush()
        }
        hooks.afterStats(final)
        log(.notice, "stopped: \(final.engine.packets) packets, \(final.engine.alerts) alerts, kernel drops "
            + "\(final.capture.kernelDrops ?? 0), ring drops \(final.capture.ringDrops) (\(workers.count) workers: "
            + (final.workers ?? []).map { "\($0.packets)" }.joined(separator: " + ") + " packets)")
    }

    /// A worker's loop: packets from its ring through its engine, its records to the shared
    /// output, a reload's rules taken between batches; at the ring's end (its capture drained
    /// after a stop) its flows end and its counts are published a last time.
    private static func work(_ run: Run, started: ContinuousClock.Instant, flushInterval: Duration,
                             log: @Sendable (LogLevel, String) -> Void) {
        let engine = run.engine, records = run.records
        var consumer = run.consumer.take()
        let clock = ContinuousClock()
        var nextFlush = clock.now + flushInterval
        var nextSnapshot = clock.now
        func publish() {
            LiveSensor.refresh(engine, from: run.shared, ring: run.ringMonitor, uptime: clock.now - started)
            let stats = engine.statistics
            run.snapshot.withLock { $0 = stats }
        }
        while true {
            let count = consumer.pop(maxBatch: 4096, lookahead: Engine.lookahead, ahead: { engine.prefetch(flow: $0.flow, source: $0.source) }) {
                header, bytes in engine.consume(header, bytes, source: -1)
            }
            let now = clock.now
            if count == 0 || now >= nextFlush {
                engine.flushOutput()
                nextFlush = now + flushInterval
                if let transition = records.syslog?.takeTransition() { log(.warning, transition.description) }
            }
            if let (compiled, loadedAt) = run.pendingRules.withLock({ pending in defer { pending = nil }; return pending }) {
                engine.replaceRules(compiled, loadedAt: loadedAt)
            }
            if now >= nextSnapshot {
                publish()
                nextSnapshot = now + .milliseconds(250)
            }
            run.heartbeat.store(Self.milliseconds(), ordering: .relaxed)
            if count == 0 && consumer.waitForPackets(timeout: .milliseconds(100)) == .closedAndDrained { break }
        }
        LiveSensor.refresh(engine, from: run.shared, ring: run.ringMonitor, uptime: clock.now - started)
        engine.finish(reason: "shutdown", at: LiveSensor.wallClock(), writesStats: false)
        publish()
        run.done.store(true, ordering: .releasing)
    }

    /// A reload's outcome: the rules to every worker's engine (each takes them between batches),
    /// their interest and kernel filter to every capture thread.
    private func install(_ outcome: RuleReloads.Outcome, runs: [Run], rulesInUse: inout Int) {
        for (level, line) in outcome.logLines(rulesInUse: rulesInUse, engines: runs.count) { log(level, line) }
        if case .loaded(let compiled, let kernelPlan, _) = outcome {
            rulesInUse = compiled.rules.count
            let loadedAt = LiveSensor.wallClock()
            for run in runs {
                run.pendingRules.withLock { $0 = (compiled, loadedAt) }
                run.shared.publish(interest: compiled.interest, kernelPlan: kernelPlan)
            }
        }
        notifier.send("READY=1")
    }

    /// The workers' counts added up, with each worker's share, the shared output's counts and
    /// the sensor-wide ones.
    private func total(_ each: [SensorStats], uptime: Duration) -> SensorStats {
        var total = SensorStats()
        for stats in each { total.add(stats) }
        total.uptimeSeconds = UInt64(max(0, uptime.components.seconds))
        total.workers = each.map(WorkerCounts.init)
        // The outputs: the shared one's counts (its file, Redis, the evidence directory), the
        // workers' syslog senders added.
        let syslogDropped = each.compactMap(\.output.syslogDropped)
        total.output = sinkLock.locked { records.counters }
        if !syslogDropped.isEmpty { total.output.syslogDropped = syslogDropped.reduce(0, &+) }
        total.engine.alertSourcesEvicted = sensorWide.alertSourcesEvicted
        return total
    }
}
