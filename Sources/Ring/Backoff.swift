#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a side waits for the other: spin a little, then yield the core, then sleep briefly.
///
/// Spinning first keeps latency low when the other side is about to move; sleeping last
/// keeps an idle ring from burning a core (the sensor shares its machine).
struct Backoff {
    static let spinSteps = 64
    static let yieldSteps = 16
    static let firstSleepNanoseconds = 20_000
    static let longestSleepNanoseconds = 50_000

    private var step = 0
    private var sleepNanoseconds = Backoff.firstSleepNanoseconds

    /// True once pausing is past the spinning stage (worth reading a clock from here on).
    var isPastSpinning: Bool { step >= Self.spinSteps }

    mutating func pause() {
        if step < Self.spinSteps {
            step += 1
            return
        }
        if step < Self.spinSteps + Self.yieldSteps {
            step += 1
            sched_yield()
            return
        }
        var request = timespec(tv_sec: 0, tv_nsec: sleepNanoseconds)
        _ = nanosleep(&request, nil)
        sleepNanoseconds = min(sleepNanoseconds * 2, Self.longestSleepNanoseconds)
    }
}
