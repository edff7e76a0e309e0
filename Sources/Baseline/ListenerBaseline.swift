import Wire

/// The listeners seen answering on watched ports, as the engine learns and consults them.
///
/// Bounded: at most `capacity` listeners (default 100,000: a sensor that loaded that many from
/// a 7.3 MB file is 23 MB larger resident than one without); a listener seen when it is full is
/// not learned, only counted (`refused`), and alerts as new.
/// Distinct clients are counted exactly through a set of (listener, client) pairs of at most
/// `maxClientPairs`; past it, further clients of a listener are not counted.
public final class ListenerBaseline {
    public static let defaultCapacity = 100_000
    public static let maxClientPairs = 1_000_000

    public private(set) var entries: [ListenerKey: ListenerEntry]
    /// When learning began (seconds since the epoch): the file's `since`, else the first flow learned.
    public var since: Int64?
    public let capacity: Int
    /// Listeners seen but not learned because the baseline was full.
    public private(set) var refused: UInt64 = 0
    /// Listeners changed since `markSaved` (a live sensor's flush writes only when one did).
    public private(set) var unsaved = Set<ListenerKey>()
    private var lastSave: Int64?
    /// Clients counted in this run, per listener, as hashes of (listener, client).
    private var clientPairs = Set<UInt64>()
    private var clientsThisRun: [ListenerKey: UInt64] = [:]

    public init(entries: [ListenerKey: ListenerEntry] = [:], since: Int64? = nil, capacity: Int = ListenerBaseline.defaultCapacity) {
        self.entries = entries
        self.since = since
        self.capacity = capacity
    }

    public var count: Int { entries.count }
    public var isFull: Bool { entries.count >= capacity }

    public func contains(_ key: ListenerKey) -> Bool { entries[key] != nil }

    /// An answered flow of `key` from `client` (at its first answer), from `start` to `end`
    /// (seconds). A listener the
    /// baseline has gets its figures updated; a new one is added when `learning` and there is room.
    /// Returns whether the listener is (now) in the baseline.
    @discardableResult
    public func observe(_ key: ListenerKey, client: IPAddress, start: Int64, end: Int64, learning: Bool) -> Bool {
        if entries[key] == nil {
            guard learning else { return false }
            guard !isFull else {
                refused &+= 1
                return false
            }
            entries[key] = ListenerEntry(firstSeen: start, lastSeen: end)
            if since == nil || start < since! { since = start }
        }
        unsaved.insert(key)
        entries[key]!.flows &+= 1
        if entries[key]!.firstSeen.map({ start < $0 }) ?? true { entries[key]!.firstSeen = start }
        if entries[key]!.lastSeen.map({ end > $0 }) ?? true { entries[key]!.lastSeen = end }
        if clientPairs.count < Self.maxClientPairs {
            var hasher = Hasher()
            hasher.combine(key)
            hasher.combine(client)
            if clientPairs.insert(UInt64(bitPattern: Int64(hasher.finalize()))).inserted {
                let seen = clientsThisRun[key, default: 0] + 1
                clientsThisRun[key] = seen
                if seen > entries[key]!.clients { entries[key]!.clients = seen }
            }
        }
        return true
    }

    /// A known listener's answered flow ended at `end` (seconds): its last seen moves on.
    public func touch(_ key: ListenerKey, at end: Int64) {
        guard let entry = entries[key] else { return }
        if let last = entry.lastSeen, end <= last { return }
        entries[key]!.lastSeen = end
        unsaved.insert(key)
    }

    /// Replaces the listeners with `other`'s (the file reread on reload, which an operator may
    /// have edited: its lines win, a deleted line stays deleted), then brings in what this run
    /// saw since the last save: figures of listeners the file still has, and listeners learned
    /// since then when still `learning`.
    public func reload(from other: ListenerBaseline, learning: Bool) {
        var merged = other.entries
        for key in unsaved {
            guard let entry = entries[key] else { continue }
            if var kept = merged[key] {
                kept.flows = max(kept.flows, entry.flows)
                kept.firstSeen = [kept.firstSeen, entry.firstSeen].compactMap { $0 }.min()
                kept.lastSeen = [kept.lastSeen, entry.lastSeen].compactMap { $0 }.max()
                kept.clients = max(kept.clients, entry.clients)
                merged[key] = kept
            } else if learning, entry.firstSeen.map({ $0 >= (lastSave ?? .min) }) ?? false, merged.count < capacity {
                merged[key] = entry
            }
        }
        entries = merged
        since = other.since ?? since
    }

    /// A save that did not happen (the file changed under it): every listener counts as
    /// unsaved again, so the next `reload` keeps what this run saw.
    public func markUnsaved() { unsaved = Set(entries.keys) }

    /// The file now holds what the table does (`since`: the packet time of the save).
    public func markSaved(at time: Int64) {
        unsaved.removeAll()
        lastSave = time
    }
}
