import Baseline
import Config
import Detect
import Platform
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A live sensor's baseline file: what the engine learned written to it every `flushSeconds`
/// (when something changed) and at exit, and the file reread on SIGHUP. All but the writing
/// runs on the engine's thread, which owns the baseline: the listeners are snapshotted there
/// (a copy-on-write dictionary: no copy until the engine changes it) and formatted and written
/// on a thread of their own, so a 100,000-listener flush does not hold up packets.
///
/// An operator's edit is never overwritten: before a flush, a file changed since the sensor
/// last wrote it is reread first (its lines win, as on SIGHUP).
final class BaselineKeeper {
    let path: String
    let baseline: ListenerBaseline
    private let settings: SensorConfig.BaselineSettings
    private let policy: BaselinePolicy
    private let clock = ContinuousClock()
    private var nextFlush: ContinuousClock.Instant
    /// A write in flight on its own thread, and the file's stamp it left (taken on the engine's thread).
    private final class InFlight: Sendable {
        let writing = Atomic<Bool>(false)
        let lastWrite = Mutex<Stamp?>(nil)
        /// The last write did not happen (the file changed while it was being written, or the
        /// write failed): the next flush writes everything again.
        let abandoned = Atomic<Bool>(false)
    }
    private let inFlight = InFlight()
    /// The file as this sensor last wrote it (modification time, size), to notice an edit.
    private var written: Stamp?
    private let log: @Sendable (LogLevel, String) -> Void

    init(path: String, baseline: ListenerBaseline, settings: SensorConfig.BaselineSettings, policy: BaselinePolicy,
         log: @escaping @Sendable (LogLevel, String) -> Void) {
        self.path = path
        self.baseline = baseline
        self.settings = settings
        self.policy = policy
        self.log = log
        nextFlush = clock.now + .seconds(settings.flushSeconds)
        written = Self.stamp(path)
    }

    /// Loads the configured baseline for `run`: a missing file is an empty baseline when a
    /// learning period is set (its `since` then now); the engine's policy from the settings.
    static func open(_ settings: SensorConfig.BaselineSettings, path: String) throws -> (ListenerBaseline, BaselinePolicy) {
        let learns = settings.learnUntil != nil || settings.learnDays != nil
        let baseline = try loadBaseline(path, capacity: settings.maxListeners, missingIsEmpty: learns)
        let now = Int64(time(nil))
        if baseline.since == nil && learns { baseline.since = now }
        let policy = BaselinePolicy(known: settings.known, learnUntil: settings.learnUntil(since: baseline.since ?? now))
        return (baseline, policy)
    }

    /// Whether learning is still on at wall-clock time (live packets carry it).
    var learning: Bool { policy.learnUntil.map { Int64(time(nil)) * 1_000_000_000 < $0 } ?? false }

    /// Called from the engine's loop: flushes when due.
    func tick() {
        guard clock.now >= nextFlush else { return }
        nextFlush = clock.now + .seconds(settings.flushSeconds)
        flush(waiting: false)
    }

    /// SIGHUP: the file reread, its lines winning over what the sensor holds (see `ListenerBaseline.reload`).
    func reread() -> [String] {
        let learns = learning
        switch BaselineFile.load(path, capacity: settings.maxListeners, missingIsEmpty: true) {
        case .success(let file):
            baseline.reload(from: file, learning: learns)
            written = Self.stamp(path)  // taken in: not an edit to read again at the next flush
            return ["\(path): reread, \(baseline.count) listeners\(learns ? ", learning" : "")"]
        case .failure(let errors):
            return errors.messages + ["\(path): not reread; keeping the \(baseline.count) listeners held"]
        }
    }

    /// Writes what changed: on a thread of its own, or here and waiting for it (`waiting`, at
    /// exit, where a write the file changed under is tried again, up to `retries` times).
    func flush(waiting: Bool, retries: Int = 2) {
        if waiting {
            while inFlight.writing.load(ordering: .acquiring) { usleep(1_000) }
        } else if inFlight.writing.load(ordering: .acquiring) {
            return  // the last flush is still being written: the next one takes this one's changes
        }
        if let stamp = inFlight.lastWrite.withLock({ value in defer { value = nil }; return value }) { written = stamp }
        if inFlight.abandoned.exchange(false, ordering: .acquiring) { baseline.markUnsaved() }
        let current = Self.stamp(path)
        if current != nil, !Self.same(current, written) {
            // Edited (or replaced) since this sensor wrote it: read it in before writing over it.
            for message in reread() { log(.notice, message) }
        }
        guard !baseline.unsaved.isEmpty || current == nil else { return }
        let entries = baseline.entries, since = baseline.since, path = self.path, log = self.log
        baseline.markSaved(at: Int64(time(nil)))
        inFlight.writing.store(true, ordering: .releasing)
        let expected = current
        let write: @Sendable () -> Void = { [inFlight] in
            do {
                // Written over only if nobody changed it since it was looked at: an edit that
                // lands meanwhile is read in at the next flush instead of being lost.
                if try BaselineFile.write(text: BaselineFile.format(entries, since: since), to: path,
                                          stillWanted: { Self.same(Self.stamp(path), expected) }) {
                    inFlight.lastWrite.withLock { $0 = Self.stamp(path) }
                } else {
                    inFlight.abandoned.store(true, ordering: .releasing)
                }
            } catch {
                log(.error, "baseline not saved: \(error)")
                inFlight.abandoned.store(true, ordering: .releasing)
            }
            inFlight.writing.store(false, ordering: .releasing)
        }
        if waiting {
            write()
            if let stamp = inFlight.lastWrite.withLock({ value in defer { value = nil }; return value }) { written = stamp }
            if retries > 0 && inFlight.abandoned.load(ordering: .acquiring) { flush(waiting: true, retries: retries - 1) }
        } else {
            detachThread(write)
        }
    }

    /// Modification time and size of `path`; nil when it does not exist.
    typealias Stamp = (seconds: Int, nanoseconds: Int, size: Int)

    private static func same(_ a: Stamp?, _ b: Stamp?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?): a == b
        default: false
        }
    }

    private static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_mtim.tv_sec, info.st_mtim.tv_nsec, Int(info.st_size))
    }
}
