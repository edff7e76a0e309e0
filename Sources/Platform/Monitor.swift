#if canImport(Glibc)
import Glibc
#endif

/// A mutex and its condition variable (pthreads, the condition on the monotonic clock): the
/// Redis output's queue (its producer waits for room, its writer for records or a deadline),
/// `read`'s chains (the writer waits for the next chain's end).
/// (`Synchronization.Mutex` has no condition to wait on.)
public final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    public func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// With the lock held: releases it until `broadcast` or the monotonic time `until` (seconds),
    /// then holds it again. Callers loop on their own condition (wake-ups may be spurious).
    public func wait(until deadline: Double? = nil) {
        guard let deadline else {
            pthread_cond_wait(condition, mutex)
            return
        }
        var time = timespec(tv_sec: Int(deadline), tv_nsec: Int((deadline - deadline.rounded(.down)) * 1e9))
        _ = pthread_cond_timedwait(condition, mutex, &time)
    }

    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Seconds on the monotonic clock.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
