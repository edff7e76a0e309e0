import Platform

#if canImport(Glibc)
import Glibc
#endif

/// What the Redis output is told: where, how, and how much it may hold while Redis is away.
public struct RedisSettings: Sendable, Equatable {
    public var target: RedisTarget
    public var mode = RedisMode.list
    /// The list's, channel's or stream's name (Suricata's default is `suricata`).
    public var key = "ghostport"
    /// Stream mode: `XADD key MAXLEN ~ N`; 0: no trimming. Suricata's default is 100,000.
    public var streamMaxLength = 100_000
    /// Bytes of records held while Redis is slow or down; records beyond it are lost and counted.
    public var queueBytes = 64 << 20
    /// Offline (`read`): a full queue makes the producer wait while Redis is connected, so a slow
    /// server slows the read and loses nothing. Live (`run`): never waits; beyond the bound is lost.
    public var waitsWhenFull = false
    /// Seconds a connect, a read or a write may take before the connection counts as lost.
    public var timeoutSeconds = 5.0
    /// At the end, seconds to deliver what is queued (reconnecting if need be) before it is lost.
    public var drainSeconds = 10.0

    public init(target: RedisTarget) { self.target = target }

    /// `list (LPUSH ghostport) to redis://127.0.0.1:6379/0`, the password hidden.
    public var description: String {
        let command = switch mode {
        case .list: "LPUSH"
        case .rpush: "RPUSH"
        case .channel: "PUBLISH"
        case .stream: "XADD"
        }
        return "\(command) \(key) on \(target)"
    }
}

/// The Redis output's counts. `produced = written + lost + queued` at every moment.
public struct RedisCounters: Sendable, Equatable {
    /// Records handed to the output.
    public var produced: UInt64 = 0
    /// Records Redis acknowledged.
    public var written: UInt64 = 0
    /// Records lost: beyond the queue's bound, refused by the server (`WRONGTYPE`, `OOM`), sent on a
    /// connection that failed before the server acknowledged them, or still queued at the end.
    public var lost: UInt64 = 0
    /// Records waiting (or in flight), and their bytes: at most the queue's bound (or one batch of
    /// lines larger than the bound, taken when nothing else waits).
    public var queued: UInt64 = 0
    public var queuedBytes: UInt64 = 0
    /// Connections lost (or refused) after the first.
    public var outages: UInt64 = 0
    /// Whether the output is delivering now.
    public var connected = false

    public init() {}
}

/// EVE records into Redis, off the detection thread: `send` copies whole lines into a bounded
/// queue, and a writer thread of its own pipelines them to the server (up to 1 MiB of records,
/// then their replies), reconnecting with backoff when the connection is lost. One log line when
/// delivery fails and one when it resumes, with the records lost in between.
///
/// Delivery is at most once: records sent on a connection that fails before their replies came
/// are counted lost, though the server may have stored them before it went away.
public final class RedisOutput: @unchecked Sendable {
    // @unchecked: everything below `monitor` is read and written with its lock held.
    public let settings: RedisSettings
    private let log: @Sendable (String) -> Void
    private let monitor = Monitor()
    private var counters = RedisCounters()
    private var chunks: [Chunk] = []
    private var head = 0
    /// Chunks from `head` the writer is sending: not to be appended to.
    private var inFlight = 0
    private var stopping = false
    private var deadline = Double.infinity
    /// A failure episode (from the first loss or failure to the next delivery): the records lost
    /// before it, and whether its failure and a full queue were logged (once each).
    private var lostBeforeEpisode: UInt64?
    private var episodeLoggedFailure = false
    private var episodeLoggedFullQueue = false
    private var connection: RedisConnection?
    private var thread: JoinableThread?

    private struct Chunk {
        var bytes: [UInt8]
        var lines: Int
    }

    /// Connects (so a wrong password or database is an error at start) and starts the writer.
    /// With `mustConnect` false a server that cannot be reached now is logged and retried,
    /// records queueing meanwhile; a refused login is an error either way.
    public init(settings: RedisSettings, mustConnect: Bool, log: @escaping @Sendable (String) -> Void) throws(RedisError) {
        self.settings = settings
        self.log = log
        do {
            connection = try RedisConnection(settings.target, timeout: settings.timeoutSeconds)
            counters.connected = true
        } catch where error.kind == .connect && !mustConnect {
            lostBeforeEpisode = 0
            episodeLoggedFailure = true
            log("redis: \(error); records wait in the queue (\(Self.mebibytes(settings.queueBytes))), retrying")
        }
        thread = JoinableThread { [self] in runWriter() }
    }

    /// Why the server cannot take records now (out of reach, login or database refused), or nil
    /// when it can: for `run --check-config`.
    public static func problem(_ settings: RedisSettings) -> String? {
        do {
            _ = try RedisConnection(settings.target, timeout: settings.timeoutSeconds)
            return nil
        } catch {
            return error.message
        }
    }

    /// Hands whole lines (each ending in a newline) to the output; never blocks live.
    public func send(_ lines: UnsafeRawBufferPointer) {
        guard !lines.isEmpty else { return }
        let count = lines.reduce(0) { $0 &+ ($1 == 0x0A ? 1 : 0) }
        monitor.locked {
            counters.produced &+= UInt64(count)
            while settings.waitsWhenFull && counters.queuedBytes > 0 && Int(counters.queuedBytes) + lines.count > settings.queueBytes
                    && counters.connected && !stopping {
                monitor.wait()
            }
            // A queue holding nothing takes any chunk, however large: the bound is on what waits.
            guard counters.queuedBytes == 0 || Int(counters.queuedBytes) + lines.count <= settings.queueBytes else {
                queueFull()
                counters.lost &+= UInt64(count)
                return
            }
            counters.queuedBytes &+= UInt64(lines.count)
            counters.queued &+= UInt64(count)
            // Live, each record comes alone: append to the last chunk unless it is being sent.
            if chunks.count > head + inFlight, chunks[chunks.count - 1].bytes.count < 1 << 18 {
                chunks[chunks.count - 1].bytes.append(contentsOf: lines)
                chunks[chunks.count - 1].lines += count
            } else {
                chunks.append(Chunk(bytes: Array(lines), lines: count))
            }
            monitor.broadcast()
        }
    }

    /// The counts now.
    public var current: RedisCounters { monitor.locked { counters } }

    /// Delivers what is queued (for at most `drainSeconds`, reconnecting if need be), counts the
    /// rest lost, stops the writer and returns the final counts. Call once, after the last `send`.
    public func finish() -> RedisCounters {
        monitor.locked {
            stopping = true
            deadline = Monitor.now() + settings.drainSeconds
            monitor.broadcast()
        }
        thread?.join()
        thread = nil
        return current
    }

    // MARK: The writer thread

    private func runWriter() {
        // A write to a connection the server closed raises SIGPIPE, which would end the process:
        // blocked on this thread, the write fails with EPIPE instead, as a lost connection.
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipe, nil)
        var backoff = 0.1
        var words = Words(settings)
        while true {
            // Connected, or retrying (with backoff) until the deadline.
            if connection == nil {
                if monitor.locked({ stopping && chunks.count == head }) { break }
                do {
                    let fresh = try RedisConnection(settings.target, timeout: settings.timeoutSeconds)
                    monitor.locked {
                        connection = fresh
                        counters.connected = true
                        monitor.broadcast()
                    }
                    backoff = 0.1
                } catch {
                    let done = monitor.locked { () -> Bool in
                        failed("\(error)")
                        let until = min(deadline, Monitor.now() + backoff)
                        if stopping && Monitor.now() >= deadline { return true }
                        // Records arriving wake the monitor: the retry still waits its turn.
                        while Monitor.now() < until { monitor.wait(until: until) }
                        return false
                    }
                    if done { break }
                    backoff = min(backoff * 2, 5)
                    continue
                }
            }
            // Records to send, or the end.
            // A copy of the chunks' references: a slice would share `chunks`' storage, and freeing
            // the sent chunks below would then copy the whole array.
            let batch = monitor.locked { () -> [Chunk]? in
                while chunks.count == head && !stopping { monitor.wait() }
                if chunks.count == head || Monitor.now() >= deadline { return nil }
                var end = head, bytes = 0
                while end < chunks.count && (end == head || bytes + chunks[end].bytes.count <= 1 << 20) {
                    bytes += chunks[end].bytes.count
                    end += 1
                }
                inFlight = end - head
                return Array(chunks[head..<end])
            }
            guard let batch, let connection else { break }
            let outcome = words.deliver(batch, over: connection)
            monitor.locked {
                let bytes = batch.reduce(0) { $0 + $1.bytes.count }
                let lines = batch.reduce(0) { $0 + $1.lines }
                // Sent: their memory goes now, their places when enough have gone.
                for index in head..<head + batch.count { chunks[index] = Chunk(bytes: [], lines: 0) }
                head += batch.count
                inFlight = 0
                // A failure opens its episode before its own loss is counted, so the line that ends
                // the episode counts every record lost in it.
                if let error = outcome.error {
                    self.connection = nil
                    counters.connected = false
                    failed("\(error)")
                } else if let refusal = outcome.refusal {
                    failed("\(settings.target): \(refusal)")
                }
                counters.queuedBytes &-= UInt64(bytes)
                counters.queued &-= UInt64(lines)
                counters.written &+= outcome.written
                counters.lost &+= UInt64(lines) - outcome.written
                if head > 1024 && head * 2 > chunks.count {
                    chunks.removeFirst(head)
                    head = 0
                }
                if outcome.error == nil && outcome.refusal == nil { recovered() }
                monitor.broadcast()
            }
        }
        // The end: whatever is still queued is lost.
        monitor.locked {
            counters.lost &+= counters.queued
            counters.queued = 0
            chunks = []
            head = 0
            counters.queuedBytes = 0
            connection = nil
            counters.connected = false
            monitor.broadcast()
        }
    }

    /// With the lock held: starts a failure episode unless one runs, before its first loss is counted.
    private func beginEpisode() {
        guard lostBeforeEpisode == nil else { return }
        lostBeforeEpisode = counters.lost
        episodeLoggedFailure = false
        episodeLoggedFullQueue = false
    }

    /// With the lock held: delivery failed (the connection, or a refusal); logged once per episode.
    private func failed(_ reason: String) {
        beginEpisode()
        guard !episodeLoggedFailure else { return }
        episodeLoggedFailure = true
        counters.outages &+= 1
        log("redis: \(reason); records wait in the queue (\(Self.mebibytes(settings.queueBytes))), beyond it they are lost and counted")
    }

    /// With the lock held: a record found the queue full (the server slow, or gone before the
    /// writer knows it); logged once per episode.
    private func queueFull() {
        beginEpisode()
        guard !episodeLoggedFullQueue else { return }
        episodeLoggedFullQueue = true
        log("redis: \(settings.description): the queue is full (\(Self.mebibytes(settings.queueBytes))); records beyond it are lost and counted")
    }

    /// With the lock held: records were delivered; ends a failure episode with one line.
    private func recovered() {
        guard let before = lostBeforeEpisode else { return }
        lostBeforeEpisode = nil
        let lost = counters.lost - before
        log("redis: \(settings.description): delivering again; \(lost) record\(lost == 1 ? " was" : "s were") lost meanwhile")
    }

    private static func mebibytes(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }

    /// The words of the commands: the fixed ones first (`LPUSH key`, `XADD key MAXLEN ~ N * eve`),
    /// then a record's line, or up to 1,024 of them for the list modes. Buffers kept between batches.
    private struct Words {
        let prefix: [UInt8]
        let prefixLengths: [Int]
        let linesPerCommand: Int
        var pointers: [UnsafePointer<CChar>?] = []
        var lengths: [Int] = []

        init(_ settings: RedisSettings) {
            var words: [String]
            switch settings.mode {
            case .list: words = ["LPUSH", settings.key]
            case .rpush: words = ["RPUSH", settings.key]
            case .channel: words = ["PUBLISH", settings.key]
            case .stream:
                words = ["XADD", settings.key]
                if settings.streamMaxLength > 0 { words += ["MAXLEN", "~", String(settings.streamMaxLength)] }
                words += ["*", "eve"]
            }
            prefix = words.flatMap { Array($0.utf8) }
            prefixLengths = words.map(\.utf8.count)
            linesPerCommand = settings.mode == .list || settings.mode == .rpush ? 1024 : 1
        }

        /// Sends `batch` in one pipeline and reads the replies: records acknowledged, an error reply
        /// (the last), or the connection's failure (the records without a reply are not written).
        mutating func deliver(_ batch: [Chunk], over connection: RedisConnection)
            -> (written: UInt64, refusal: String?, error: RedisError?) {
            var commands: [Int] = []
            var refusal: String?
            do {
                for chunk in batch {
                    try chunk.bytes.withUnsafeBufferPointer { bytes throws(RedisError) in
                        try appendCommands(bytes, to: connection, counting: &commands)
                    }
                }
                var written: UInt64 = 0
                for lines in commands {
                    do {
                        switch try connection.reply() {
                        case .success: written &+= UInt64(lines)
                        case .failure(let reply): refusal = "\(prefixWord) refused: \(reply.message)"
                        }
                    } catch {
                        return (written, refusal, error)
                    }
                }
                return (written, refusal, nil)
            } catch {
                // Nothing was sent: appending only fills hiredis's buffer.
                return (0, nil, error)
            }
        }

        private var prefixWord: String { String(decoding: prefix.prefix(prefixLengths[0]), as: UTF8.self) }

        /// Appends the commands for the lines of `bytes`, noting each one's line count.
        private mutating func appendCommands(_ bytes: UnsafeBufferPointer<UInt8>, to connection: RedisConnection,
                                             counting commands: inout [Int]) throws(RedisError) {
            guard let base = bytes.baseAddress else { return }
            try prefix.withUnsafeBufferPointer { fixed throws(RedisError) in
                let start = UnsafeRawPointer(fixed.baseAddress!).assumingMemoryBound(to: CChar.self)
                func beginCommand() {
                    pointers.removeAll(keepingCapacity: true)
                    lengths.removeAll(keepingCapacity: true)
                    var offset = 0
                    for length in prefixLengths {
                        pointers.append(start + offset)
                        lengths.append(length)
                        offset += length
                    }
                }
                beginCommand()
                var lineStart = 0, lines = 0
                for index in 0..<bytes.count where bytes[index] == 0x0A {
                    pointers.append(UnsafeRawPointer(base + lineStart).assumingMemoryBound(to: CChar.self))
                    lengths.append(index - lineStart)
                    lineStart = index + 1
                    lines += 1
                    if lines == linesPerCommand {
                        try send(to: connection)
                        commands.append(lines)
                        lines = 0
                        beginCommand()
                    }
                }
                if lines > 0 {
                    try send(to: connection)
                    commands.append(lines)
                }
            }
        }

        private mutating func send(to connection: RedisConnection) throws(RedisError) {
            try pointers.withUnsafeMutableBufferPointer { words throws(RedisError) in
                try lengths.withUnsafeBufferPointer { sizes throws(RedisError) in try connection.append(words, lengths: sizes) }
            }
        }
    }
}
