import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The signals the sensor acts on, turned into flags a loop can poll. The signals are blocked
/// in every thread and taken by one thread with `sigwait`, so no handler runs in the middle of
/// packet processing.
public final class SignalWatcher: Sendable {
    /// The signal that asked to stop; 0 while none has.
    private let stop = Atomic<Int32>(0)
    private let hangups = Atomic<Int>(0)
    private let statsRequests = Atomic<Int>(0)
    private let stopSignals: [Int32]
    private let watched: [Int32]

    /// What `run` answers: SIGHUP (reload), SIGINT and SIGTERM (stop), SIGUSR1 (stats).
    public static let sensorSignals: [Int32] = [SIGHUP, SIGINT, SIGTERM, SIGUSR1]

    /// Blocks `signals` in the calling thread. The first thing `main` does, so a signal sent while
    /// the process starts waits for the watcher instead of killing it half-way (with the EVE file
    /// open and nothing flushed). Threads started later inherit the mask.
    public static func block(_ signals: [Int32] = sensorSignals) {
        var set = signalSet(signals)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Unblocks `signals` in the calling thread: one that arrived meanwhile is delivered now,
    /// with its default action. For commands that watch no signals.
    public static func unblock(_ signals: [Int32] = sensorSignals) {
        var set = signalSet(signals)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Blocks the signals in this thread (call before starting any other thread, so they
    /// inherit the mask) and starts the thread that waits for them. `stopOn` stop; with
    /// `watchesHangups` SIGHUP is counted for a reload, with `watchesStatsRequests` SIGUSR1 for a
    /// stats record.
    public init(stopOn stopSignals: [Int32] = [SIGINT, SIGTERM], watchesHangups: Bool = true,
                watchesStatsRequests: Bool = true) {
        self.stopSignals = stopSignals
        watched = stopSignals + (watchesHangups ? [SIGHUP] : []) + (watchesStatsRequests ? [SIGUSR1] : [])
        Self.block(watched)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let watcher = Unmanaged<SignalWatcher>.fromOpaque(raw!).takeRetainedValue()
            watcher.wait()
            return nil
        }, context.toOpaque())
        pthread_detach(thread)
    }

    private static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }

    private func wait() {
        var set = Self.signalSet(watched)
        while true {
            var signal: Int32 = 0
            guard sigwait(&set, &signal) == 0 else { continue }
            if stopSignals.contains(signal) {
                // The first stop signal is the one reported.
                _ = stop.compareExchange(expected: 0, desired: signal, ordering: .acquiringAndReleasing)
            } else if signal == SIGHUP {
                hangups.add(1, ordering: .releasing)
            } else if signal == SIGUSR1 {
                statsRequests.add(1, ordering: .releasing)
            }
        }
    }

    /// SIGTERM or SIGINT (or another of `stopOn`) arrived.
    public var stopRequested: Bool { stop.load(ordering: .acquiring) != 0 }

    /// The signal that asked to stop, or nil (none did, or `requestStop()` did).
    public var stopSignal: Int32? {
        let signal = stop.load(ordering: .acquiring)
        return signal > 0 ? signal : nil
    }

    /// Asks the loops to stop, as SIGTERM would (tests, fatal errors).
    public func requestStop() { _ = stop.compareExchange(expected: 0, desired: -1, ordering: .acquiringAndReleasing) }

    /// SIGHUPs since the last call.
    public func takeHangups() -> Int { hangups.exchange(0, ordering: .acquiringAndReleasing) }

    /// SIGUSR1s since the last call.
    public func takeStatsRequests() -> Int { statsRequests.exchange(0, ordering: .acquiringAndReleasing) }
}
