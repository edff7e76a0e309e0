#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A joinable thread (pthreads), so a test or a benchmark can wait for its producer and consumer.
public final class JoinableThread: @unchecked Sendable {
    // @unchecked: `thread` is written once in init, before anything else can see it.
    private var thread = pthread_t()

    public init(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Closure(body)).toOpaque()
        let status = pthread_create(&thread, nil, { context in
            let closure = Unmanaged<Closure>.fromOpaque(context!).takeRetainedValue()
            closure.body()
            return nil
        }, context)
        precondition(status == 0, "pthread_create failed: \(status)")
    }

    /// Waits for the thread to finish; its writes are visible afterwards.
    public func join() {
        pthread_join(thread, nil)
    }

    private final class Closure {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
