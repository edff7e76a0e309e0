import ArgumentParser
import Output
import Platform
import Redis

extension RedisMode: ExpressibleByArgument {}

/// The Redis output's options, shared by `read` and `run` (`run` also takes `outputs.redis`).
struct RedisOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Send the EVE records to Redis: redis://[user:password@]host[:port][/db], unix:///path[?db=N] or a socket path.",
        discussion: "Without a password in the URL, REDISCLI_AUTH's is used (as redis-cli does).",
        valueName: "url"))
    var redis: String?

    @Option(help: "list (LPUSH, Suricata's default: consumers RPOP the oldest), rpush, channel (PUBLISH) or stream (XADD, field eve).")
    var redisMode: RedisMode?

    @Option(help: "The list's, channel's or stream's name (default ghostport).")
    var redisKey: String?

    @Option(help: "Stream mode: trim the stream to about this many entries (XADD MAXLEN ~); 0: never (default 100000).")
    var redisStreamMaxlen: Int?

    @Option(help: "MiB of records held while Redis is slow or away; beyond it records are lost and counted (default 64).")
    var redisQueueMib: Int?

    func validate() throws {
        if redis == nil && (redisMode != nil || redisKey != nil || redisStreamMaxlen != nil || redisQueueMib != nil) {
            throw ValidationError("--redis-mode, --redis-key, --redis-stream-maxlen and --redis-queue-mib need --redis URL")
        }
        if let redisKey, redisKey.isEmpty { throw ValidationError("--redis-key cannot be empty") }
        if let redisStreamMaxlen, redisStreamMaxlen < 0 { throw ValidationError("--redis-stream-maxlen cannot be negative") }
        if let redisQueueMib, !(1...65_536).contains(redisQueueMib) {
            throw ValidationError("--redis-queue-mib must be between 1 and 65536")
        }
    }

    /// The settings: `base` (a config file's `outputs.redis`) with these options on top; nil
    /// without either. A malformed URL is one line and exit status 2.
    func settings(over base: RedisSettings? = nil) throws -> RedisSettings? {
        var settings = base
        if let redis {
            do {
                let target = try RedisTarget(url: redis)
                if settings == nil { settings = RedisSettings(target: target) } else { settings?.target = target }
            } catch {
                warn("--redis \(error)")
                throw ExitCode(2)
            }
        }
        guard var settings else { return nil }
        if let redisMode { settings.mode = redisMode }
        if let redisKey { settings.key = redisKey }
        if let redisStreamMaxlen { settings.streamMaxLength = redisStreamMaxlen }
        if let redisQueueMib { settings.queueBytes = redisQueueMib << 20 }
        return settings
    }

    /// Connects and starts the output, feeding it every batch of whole EVE lines `sink` writes
    /// (after any tap already set) and giving `records` its counts. A refused login, or (with
    /// `mustConnect`) a server out of reach, is one line and exit status 2.
    static func start(_ settings: RedisSettings, mustConnect: Bool, sink: EVEOutput, records: EVERecords,
                      log: @escaping @Sendable (String) -> Void) throws -> RedisOutput {
        let output: RedisOutput
        do {
            output = try RedisOutput(settings: settings, mustConnect: mustConnect, log: log)
        } catch {
            warn("\(error)")
            throw ExitCode(2)
        }
        let previous = sink.tap
        sink.tap = { lines in
            previous?(lines)
            output.send(lines)
        }
        records.redisCounts = {
            let counts = output.current
            return (counts.written, counts.lost, counts.queued)
        }
        return output
    }

    /// The line said when the output has finished: where the records went, how many, and the loss.
    static func summary(_ output: RedisOutput, _ counts: RedisCounters) -> String {
        let lost = counts.lost == 0 ? "none lost" : "\(counts.lost) lost"
        return "redis: \(counts.written) of \(counts.produced) records written (\(output.settings.description)), \(lost)"
            + (counts.outages == 0 ? "" : ", \(counts.outages) outage\(counts.outages == 1 ? "" : "s")")
    }
}
