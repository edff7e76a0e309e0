import Detect
import KernelFilter
import Platform
import Rules
import Synchronization

/// Rule reloads built on a thread of their own while the engine goes on matching with the rules
/// it has: reading, parsing and compiling the rules (and fitting their kernel filter) takes from
/// milliseconds to seconds, and under a flood every one of them is packets queueing in the
/// kernel. The engine's thread only swaps the result in (`take`) between packets.
///
/// One reload runs at a time; hangups that come while it runs make one more when it ends, which
/// reads the files as they are then. Outcomes are taken in the order they were built.
final class RuleReloads: Sendable {
    enum Outcome: Sendable {
        /// The new rules with their tables, their kernel filter when the sensor installs its own,
        /// and how long building them took.
        case loaded(Engine.CompiledRules, KernelFilterPlan?, took: Duration)
        case failed(LiveSensor.ReloadFailure)

        /// What the sensor logs of it: `rulesInUse` the rules running before (kept on a failure),
        /// `engines` how many engines take the new ones.
        func logLines(rulesInUse: Int, engines: Int) -> [(LogLevel, String)] {
            switch self {
            case .loaded(let compiled, _, let took):
                let milliseconds = took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000
                let beside = engines == 1 ? "beside the engine)" : "beside the engines), for \(engines) workers"
                return [(.notice, "rules reloaded: \(compiled.rules.count) rules, \(compiled.watchlist.count) watched ports "
                         + "(read and compiled in \(milliseconds) ms \(beside)")]
            case .failed(let failure):
                // One line for one problem (a file gone or unreadable); a broken file's errors each on theirs.
                if failure.messages.count == 1 {
                    return [(.error, "rules not reloaded: \(failure.messages[0]); keeping the \(rulesInUse) rules already loaded")]
                }
                return failure.messages.map { (.error, $0) }
                    + [(.error, "rules not reloaded: keeping the \(rulesInUse) rules already loaded")]
            }
        }
    }

    private struct State {
        var running = false
        var again = false
        var finished: [Outcome] = []
    }

    private let state = Mutex(State())
    /// Set when an outcome waits: the engine's thread looks at it every loop without a lock.
    private let waiting = Atomic<Bool>(false)
    private let build: @Sendable () -> Outcome

    /// `load` reads and compiles the rules; `kernelFilter`, when given, fits their kernel filter.
    init(load: @escaping @Sendable () -> Result<RuleSet, LiveSensor.ReloadFailure>,
         kernelFilter: KernelFilterInstaller?) {
        build = {
            let started = ContinuousClock.now
            switch load() {
            case .success(let rules):
                let compiled = Engine.CompiledRules(rules), plan = kernelFilter?.plan(rules: rules)
                return .loaded(compiled, plan, took: ContinuousClock.now - started)
            case .failure(let failure):
                return .failed(failure)
            }
        }
    }

    /// Starts a reload, or asks for one more after the one running.
    func request() {
        let start = state.withLock { state in
            if state.running {
                state.again = true
                return false
            }
            state.running = true
            return true
        }
        guard start else { return }
        detachThread { [self] in
            var more = true
            while more {
                let outcome = build()
                more = state.withLock { state in
                    state.finished.append(outcome)
                    state.running = state.again
                    state.again = false
                    return state.running
                }
                waiting.store(true, ordering: .releasing)
            }
        }
    }

    /// The reloads finished since the last call, oldest first (usually none: one atomic load).
    func take() -> [Outcome] {
        guard waiting.load(ordering: .acquiring) else { return [] }
        return state.withLock { state in
            waiting.store(false, ordering: .relaxed)
            defer { state.finished.removeAll() }
            return state.finished
        }
    }
}
