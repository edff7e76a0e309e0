// Timing, malloc counting and table printing shared by every mode.
import MallocInterposerSwift
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

func measure(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    body()
    return seconds(clock.now - start)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Best of `rounds`: the least disturbed by whatever else the machine runs.
func best(_ rounds: Int = 5, _ body: () -> Void) -> Double {
    (0..<rounds).map { _ in measure(body) }.min()!
}

/// Monotonic nanoseconds, for latencies measured across threads.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// Where results go so the optimizer cannot drop the work that made them: an atomic store stays.
let sink = Atomic<Int>(0)

@inline(__always)
func blackHole(_ value: Int) {
    sink.store(value, ordering: .relaxed)
}

/// Allocation counts from malloc-interposer. Linking `MallocInterposerSwift` puts its malloc
/// ahead of libc's; under a sanitizer (or with a preloaded allocator) it may not be the one
/// called, so `isActive` checks that a known allocation is seen before any count is trusted.
enum Mallocs {
    struct Count {
        var mallocs: Int
        var bytes: Int
        var frees: Int
    }

    /// Counts the allocations `body` makes (on every thread) while it runs.
    static func count(_ body: () -> Void) -> Count {
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        body()
        MallocInterposerSwift.unhook()
        let stats = MallocInterposerSwift.getStatistics()
        return Count(mallocs: stats.mallocCount, bytes: stats.mallocBytesCount, frees: stats.freeCount)
    }

    /// Mallocs counted for one 100-byte allocation: 1 when the interposer is in the path, 0 when not.
    static let probe: Int = {
        count {
            // The size comes from outside the compiler's view, so the pair cannot be folded away.
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: 100 + Int(getpid() % 2), alignment: 8)
            blackHole(Int(bitPattern: pointer))
            pointer.deallocate()
        }.mallocs
    }()

    static var isActive: Bool { probe > 0 }

    /// Prints the call stacks of the next `count` counted allocations to standard error
    /// (`allocs --trace`: to find what allocates; pipe through `swift demangle`).
    static func traceNext(_ count: Int) {
        // One call outside the hook first: backtrace() loads libgcc_s, which must not happen inside malloc.
        if let backtrace = dlsym(nil, "backtrace") {
            typealias Backtrace = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int32) -> Int32
            var frames = [UnsafeMutableRawPointer?](repeating: nil, count: 4)
            _ = unsafeBitCast(backtrace, to: Backtrace.self)(&frames, 4)
        }
        traceBudget.store(count, ordering: .relaxed)
        MallocInterposerSwift.setAllocationHook { _ in
            // backtrace() may allocate: the budget drops first, so nested calls return at once.
            guard Mallocs.traceBudget.subtract(1, ordering: .relaxed).newValue >= 0 else { return }
            typealias Backtrace = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int32) -> Int32
            typealias Symbols = @convention(c) (UnsafePointer<UnsafeMutableRawPointer?>, Int32, Int32) -> Void
            // execinfo.h is not in Glibc's module map.
            guard let backtrace = dlsym(nil, "backtrace"), let symbols = dlsym(nil, "backtrace_symbols_fd") else { return }
            withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: 24) { frames in
                let depth = unsafeBitCast(backtrace, to: Backtrace.self)(frames.baseAddress!, 24)
                let dash: StaticString = "---\n"
                _ = write(2, dash.utf8Start, dash.utf8CodeUnitCount)
                unsafeBitCast(symbols, to: Symbols.self)(frames.baseAddress!, depth, 2)
            }
        }
    }

    static let traceBudget = Atomic<Int>(0)

    /// The line every mode prints first, so a reader knows whether the counts mean anything.
    static var statusLine: String {
        isActive ? "mallocs: counted by malloc-interposer (a known allocation counted \(probe))"
            : "mallocs: interposer inactive (a known allocation was not counted; sanitizer or preloaded allocator?): counts below are meaningless"
    }
}

/// The figures of one measured operation: best time of several runs and the mallocs of one
/// more run, counted apart so counting costs nothing in the timings.
struct Sample {
    var seconds: Double
    var mallocs: Mallocs.Count
}

func sample(rounds: Int = 5, _ body: () -> Void) -> Sample {
    let time = best(rounds, body)
    let count = Mallocs.count(body)
    return Sample(seconds: time, mallocs: count)
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

func format(_ value: Double, _ digits: Int = 1) -> String {
    let scale = pow(10.0, Double(digits))
    return String((value * scale).rounded() / scale)
}

/// Mallocs per operation: 0 printed as 0, a few over many operations as their total, otherwise
/// to three decimals.
func perOperation(_ mallocs: Int, _ operations: Int) -> String {
    if mallocs == 0 { return "0" }
    let each = Double(mallocs) / Double(operations)
    return each < 0.001 ? "\(mallocs) in all" : format(each, 3)
}

/// Prints a row of columns padded to `widths`.
func row(_ columns: [String], _ widths: [Int]) {
    var line = ""
    for (i, column) in columns.enumerated() {
        line += i < widths.count ? pad(column, widths[i]) : column
    }
    while line.last == " " { line.removeLast() }
    print(line)
}

/// `--name VALUE` from the arguments, or `fallback`.
func option(_ name: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count,
          let value = Int(arguments[index + 1].replacingUnderscores()) else { return fallback }
    return value
}

extension String {
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
