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

    /// Short sleeps before a side that can sleep until woken (the consumer) does: about a
    /// millisecond of them.
    static let sleepsBeforeParking = 24

    private var step = 0
    private var sleeps = 0
    private var sleepNanoseconds = Backoff.firstSleepNanoseconds

    /// True once pausing is past the spinning stage (worth reading a clock from here on).
    var isPastSpinning: Bool { step >= Self.spinSteps }

    /// True once the other side has been quiet for about a millisecond of short sleeps.
    var isIdle: Bool { sleeps >= Self.sleepsBeforeParking }

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
        sleeps += 1
        sleepNanoseconds = min(sleepNanoseconds * 2, Self.longestSleepNanoseconds)
    }
}
