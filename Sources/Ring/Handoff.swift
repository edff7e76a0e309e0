import Synchronization

/// Carries one noncopyable value (a ring end) into a thread's closure, to be taken once.
///
/// Escaping closures such as `Thread`'s or a pthread start routine cannot consume a
/// captured noncopyable value; they can capture this box and `take()` the value out.
public final class Handoff<Value: ~Copyable & Sendable>: @unchecked Sendable {
    // @unchecked: `value` is written at init and read once, by whichever thread wins `taken`.
    private var value: Value?
    private let taken = Atomic<Bool>(false)

    /// Boxes `value`; the caller gives it up.
    public init(_ value: consuming sending Value) {
        self.value = consume value
    }

    /// The boxed value. Traps if called a second time: there is only one value to hand over.
    public func take() -> Value {
        let (exchanged, _) = taken.compareExchange(
            expected: false, desired: true, ordering: .acquiringAndReleasing)
        precondition(exchanged, "Handoff.take() called twice")
        return value.take()!
    }
}
