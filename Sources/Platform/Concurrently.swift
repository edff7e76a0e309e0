#if canImport(Glibc)
import Glibc
#endif

/// Two pieces of work at once: one on this thread, one on a helper thread started for it.
public enum Concurrently {
    private final class Work: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `other` on a new thread while `body` runs on this one; returns when both are done.
    /// Without a thread (pthread_create failed), runs both here, `body` first. `stackSize`
    /// sets the new thread's stack (the system's default otherwise).
    public static func run(_ body: () -> Void, alongside other: () -> Void, stackSize: Int? = nil) {
        withoutActuallyEscaping(other) { other in
            let work = Unmanaged.passRetained(Work(other))
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
            var thread = pthread_t()
            let started = pthread_create(&thread, &attributes, { raw in
                Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            }, work.toOpaque())
            body()
            if started == 0 {
                pthread_join(thread, nil)
            } else {
                work.takeRetainedValue().body()
            }
        }
    }
}

/// Runs `body` on a new thread of its own that nobody joins.
public func detachThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Box(body))
    guard pthread_create(&thread, nil, { raw in
        Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, context.toOpaque()) == 0 else {
        context.release()
        body()
        return
    }
    pthread_detach(thread)
}
