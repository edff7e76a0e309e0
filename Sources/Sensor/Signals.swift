import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The signals the sensor acts on, turned into flags a loop can poll. The signals are blocked
/// in every thread and taken by one thread with `sigwait`, so no handler runs in the middle of
/// packet processing.
public final class SignalWatcher: Sendable {
    private let stop = Atomic<Bool>(false)
    private let hangups = Atomic<Int>(0)
    private let statsRequests = Atomic<Int>(0)

    /// Blocks SIGHUP, SIGINT, SIGTERM and SIGUSR1 in this thread (call before starting any
    /// other thread, so they inherit the mask) and starts the thread that waits for them.
    public init() {
        var set = Self.signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let watcher = Unmanaged<SignalWatcher>.fromOpaque(raw!).takeRetainedValue()
            watcher.wait()
            return nil
        }, context.toOpaque())
        pthread_detach(thread)
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGHUP, SIGINT, SIGTERM, SIGUSR1] { sigaddset(&set, signal) }
        return set
    }

    private func wait() {
        var set = Self.signalSet()
        while true {
            var signal: Int32 = 0
            guard sigwait(&set, &signal) == 0 else { continue }
            switch signal {
            case SIGHUP: hangups.add(1, ordering: .releasing)
            case SIGUSR1: statsRequests.add(1, ordering: .releasing)
            default: stop.store(true, ordering: .releasing)
            }
        }
    }

    /// SIGTERM or SIGINT arrived.
    public var stopRequested: Bool { stop.load(ordering: .acquiring) }

    /// Asks the loops to stop, as SIGTERM would (tests, fatal errors).
    public func requestStop() { stop.store(true, ordering: .releasing) }

    /// SIGHUPs since the last call.
    public func takeHangups() -> Int { hangups.exchange(0, ordering: .acquiringAndReleasing) }

    /// SIGUSR1s since the last call.
    public func takeStatsRequests() -> Int { statsRequests.exchange(0, ordering: .acquiringAndReleasing) }
}
