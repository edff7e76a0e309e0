import Foundation
import Redis
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Redis URLs")
struct RedisTargetTests {
    @Test("the forms redis-cli and Suricata's users write", arguments: [
        ("redis://127.0.0.1:6390/2", RedisTarget(address: .tcp(host: "127.0.0.1", port: 6390), database: 2)),
        ("redis://localhost", RedisTarget(address: .tcp(host: "localhost", port: 6379))),
        ("REDIS://db.example:7000/", RedisTarget(address: .tcp(host: "db.example", port: 7000))),
        ("redis://[::1]:6380/1", RedisTarget(address: .tcp(host: "::1", port: 6380), database: 1)),
        ("redis://:s3cret@h:1/0", RedisTarget(address: .tcp(host: "h", port: 1), password: "s3cret")),
        ("redis://s3cret@h", RedisTarget(address: .tcp(host: "h", port: 6379), password: "s3cret")),
        ("redis://alice:p%40ss%3A1@h:2/3", RedisTarget(address: .tcp(host: "h", port: 2), user: "alice", password: "p@ss:1", database: 3)),
        ("/run/redis/redis.sock", RedisTarget(address: .unix(path: "/run/redis/redis.sock"))),
        ("unix:///run/redis.sock?db=4", RedisTarget(address: .unix(path: "/run/redis.sock"), database: 4)),
        ("unix://bob:pw@/tmp/r.sock", RedisTarget(address: .unix(path: "/tmp/r.sock"), user: "bob", password: "pw")),
    ])
    func parses(_ url: String, _ expected: RedisTarget) throws {
        #expect(try RedisTarget(url: url, fallbackPassword: nil) == expected)
    }

    @Test("a malformed URL says what is wrong", arguments: [
        ("http://h", "unknown scheme 'http'"), ("h:6379", "not a Redis URL"), ("rediss://h", "TLS"),
        ("redis://h:0", "port 0"), ("redis://h:x", "bad port"), ("redis://h/x", "database 'x'"),
        ("redis://:6379", "no host"), ("redis://[::1", "misses its ']'"), ("redis://a:%zz@h", "%-escape"),
        ("unix://relative.sock", "absolute"), ("unix:///s?x=1", "unknown query"),
        ("/" + String(repeating: "d", count: 120), "longer than"),
    ])
    func refuses(_ url: String, _ reason: String) {
        #expect(throws: RedisError.self) { try RedisTarget(url: url, fallbackPassword: nil) }
        do {
            _ = try RedisTarget(url: url, fallbackPassword: nil)
        } catch {
            #expect(error.kind == .usage)
            #expect(error.message.hasPrefix(url + ": "), "\(error.message)")
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }

    @Test("REDISCLI_AUTH's password when the URL has none; shown hidden")
    func fallbackAndRedaction() throws {
        let target = try RedisTarget(url: "redis://h:1/0", fallbackPassword: "from-env")
        #expect(target.password == "from-env")
        #expect(target.description == "redis://:***@h:1/0")
        #expect(try RedisTarget(url: "redis://:own@h", fallbackPassword: "from-env").password == "own")
        #expect(try RedisTarget(url: "redis://u:pw@[::1]:7/2").description == "redis://u:***@[::1]:7/2")
        #expect(try RedisTarget(url: "/s.sock").description == "unix:///s.sock")
    }
}

/// Log lines a RedisOutput wrote, from its writer thread.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
    /// Waits (up to 60 s) until some line contains `text`.
    func waitFor(_ text: String) -> Bool {
        for _ in 0..<1200 {
            if all.contains(where: { $0.contains(text) }) { return true }
            usleep(50_000)
        }
        return false
    }
}

/// Records as the EVE output hands them over: whole lines, a batch at a time.
func records(_ range: Range<Int>, tag: String = "r") -> [String] {
    range.map { #"{"event_type":"alert","n":\#($0),"tag":"\#(tag)","text":"caf\#u{E9} \u0000 ✓ \#(String(repeating: "x", count: $0 % 97))"}"# }
}

func send(_ lines: [String], to output: RedisOutput, batch: Int) {
    for start in stride(from: 0, to: lines.count, by: batch) {
        var bytes = Array(lines[start..<min(start + batch, lines.count)].joined(separator: "\n").utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { output.send($0) }
    }
}

@Suite("Redis output against a real redis-server", .serialized, Prerequisite.trait(RedisServer.unmet))
struct RedisOutputTests {
    @Test("every record once, in order, in each mode, over TCP and the Unix socket", arguments: RedisMode.allCases)
    func delivers(_ mode: RedisMode) throws {
        try Prerequisite.require(RedisServer.unmet)
        let server = try RedisServer(password: "pw-\(mode)")
        for url in [server.url, "unix://:\(server.password!)@\(server.socket)?db=3"] {
            var settings = RedisSettings(target: try RedisTarget(url: url, fallbackPassword: nil))
            settings.mode = mode
            settings.key = "k-\(mode)"
            settings.streamMaxLength = 0
            let sent = records(0..<5_000) + [String(repeating: "{\"big\":\"" + String(repeating: "b", count: 300_000), count: 1) + "\"}"]
            // A channel delivers to subscribers only: one listens through redis-cli.
            let subscriber = mode == .channel ? try Subscriber(server, channel: settings.key) : nil
            let log = LogLines()
            let output = try RedisOutput(settings: settings, mustConnect: true, log: log.append)
            send(Array(sent.prefix(3_000)), to: output, batch: 1)     // live: one record per flush
            send(Array(sent.dropFirst(3_000)), to: output, batch: 700)  // offline: many per flush
            let counts = output.finish()
            #expect(counts.produced == UInt64(sent.count))
            #expect(counts.written == UInt64(sent.count))
            #expect(counts.lost == 0 && counts.queued == 0)
            #expect(log.all.isEmpty, "\(log.all)")
            let database = url.hasPrefix("unix") ? 3 : 0
            let stored: [String]
            switch mode {
            case .list: stored = try server.list(settings.key, database: database).reversed()
            case .rpush: stored = try server.list(settings.key, database: database)
            case .stream: stored = try server.stream(settings.key, database: database)
            case .channel: stored = try #require(subscriber).messages(count: sent.count)
            }
            #expect(stored.count == sent.count)
            #expect(stored == sent, "first difference at \(zip(stored, sent).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)")
        }
    }

    @Test("stream trimming: MAXLEN ~ keeps about the bound, never fewer")
    func trims() throws {
        try Prerequisite.require(RedisServer.unmet)
        let server = try RedisServer()
        var settings = RedisSettings(target: try RedisTarget(url: server.url, fallbackPassword: nil))
        settings.mode = .stream
        settings.streamMaxLength = 1_000
        let output = try RedisOutput(settings: settings, mustConnect: true, log: { _ in })
        send(records(0..<20_000), to: output, batch: 500)
        #expect(output.finish().written == 20_000)
        let length = try server.count("XLEN", settings.key)
        // Approximate trimming removes whole macro nodes (100 entries by default): at least the bound stays.
        #expect((1_000...1_200).contains(length), "XLEN \(length)")
        #expect(try server.stream(settings.key).last == records(19_999..<20_000)[0])
    }

    @Test("a wrong password, a missing server: an error at start that says so")
    func refusedAtStart() throws {
        try Prerequisite.require(RedisServer.unmet)
        let server = try RedisServer(password: "right")
        for (url, kind, text) in [("redis://:wrong@127.0.0.1:\(server.port)", RedisError.Kind.refused, "authentication refused: WRONGPASS"),
                                  ("redis://127.0.0.1:\(server.port)", .refused, "PING refused: NOAUTH"),
                                  ("redis://:right@127.0.0.1:\(server.port)/99", .refused, "database 99 failed"),
                                  ("/nonexistent/redis.sock", .connect, "cannot connect: No such file or directory")] {
            let settings = RedisSettings(target: try RedisTarget(url: url, fallbackPassword: nil))
            do {
                _ = try RedisOutput(settings: settings, mustConnect: true, log: { _ in })
                Issue.record("\(url) was accepted")
            } catch {
                #expect(error.kind == kind, "\(url): \(error)")
                #expect(error.message.contains(text), "\(url): \(error)")
                #expect(!error.message.contains("wrong") && !error.message.contains("right"), "the password shows: \(error)")
            }
            #expect(RedisOutput.problem(settings) != nil)
        }
    }

    @Test("a server killed and restarted: the output stays up, holds at most its bound, counts every loss, resumes")
    func outage() throws {
        try Prerequisite.require(RedisServer.unmet)
        // Append-only with fsync at every write: what the server acknowledged survives SIGKILL.
        let server = try RedisServer(persistent: true)
        var settings = RedisSettings(target: try RedisTarget(url: server.url, fallbackPassword: nil))
        settings.mode = .rpush
        settings.queueBytes = 1 << 16
        settings.timeoutSeconds = 2
        let log = LogLines()
        let output = try RedisOutput(settings: settings, mustConnect: false, log: log.append)
        let before = records(0..<1_000, tag: "before"), during = records(0..<3_000, tag: "during"),
            after = records(0..<1_000, tag: "after")
        // 1,000 records take more than the 64 KiB queue: a hundred at a time, each batch delivered first.
        for start in stride(from: 0, to: before.count, by: 100) {
            send(Array(before[start..<start + 100]), to: output, batch: 1)
            waitUntilDelivered(output)
        }
        #expect(output.current.written == 1_000)

        server.stop(signal: SIGKILL)
        var peakQueuedBytes: UInt64 = 0
        for record in during {
            send([record], to: output, batch: 1)
            peakQueuedBytes = max(peakQueuedBytes, output.current.queuedBytes)
        }
        #expect(log.waitFor("records wait in the queue"), "\(log.all)")
        #expect(!output.current.connected)
        #expect(peakQueuedBytes <= UInt64(settings.queueBytes), "queued \(peakQueuedBytes) bytes")
        #expect(output.current.lost > 0)

        try server.start()
        #expect(log.waitFor("delivering again"), "\(log.all)")
        // What waited in the queue goes first; then the rest, with room for all of it.
        waitUntilDelivered(output)
        for start in stride(from: 0, to: after.count, by: 100) {
            send(Array(after[start..<start + 100]), to: output, batch: 1)
            waitUntilDelivered(output)
        }
        let counts = output.finish()
        let sent = before + during + after
        #expect(counts.produced == UInt64(sent.count))
        #expect(counts.written + counts.lost == counts.produced, "written \(counts.written) + lost \(counts.lost)")
        #expect(counts.queued == 0)
        #expect(counts.outages == 1)
        // One line when it failed (and one when the queue filled, if that came first), one when it
        // came back, with every record lost in between.
        #expect(log.all.filter { $0.contains("records wait in the queue") }.count == 1, "\(log.all)")
        #expect(log.all.filter { $0.contains("the queue is full") }.count <= 1, "\(log.all)")
        #expect(log.all.count <= 3, "\(log.all)")
        #expect(log.all.last?.contains("\(counts.lost) records were lost meanwhile") == true, "\(log.all)")

        let stored = try server.list(settings.key)
        // At most once: never a duplicate, never out of order; everything acknowledged is there
        // (a batch the server stored but could not acknowledge before it died is counted lost).
        #expect(Set(stored).count == stored.count)
        var position = sent.startIndex
        for record in stored {
            guard let found = sent[position...].firstIndex(of: record) else {
                Issue.record("\(record) is out of order or was never sent")
                break
            }
            position = found + 1
        }
        #expect(stored.count >= Int(counts.written) && stored.count <= Int(counts.written + counts.lost),
                "stored \(stored.count), written \(counts.written), lost \(counts.lost)")
        #expect(stored.suffix(after.count) == after[...], "the records sent after the recovery are not all there, in order")
    }
}

/// Waits (up to a minute) until nothing is queued.
func waitUntilDelivered(_ output: RedisOutput) {
    for _ in 0..<1200 where output.current.queued > 0 { usleep(50_000) }
}

/// `redis-cli SUBSCRIBE`, collecting the messages published on a channel.
final class Subscriber {
    private let process = Process()
    private let output = Pipe()

    init(_ server: RedisServer, channel: String) throws {
        // redis-cli writes through stdio, which a pipe would buffer: stdbuf makes it line-buffered.
        process.executableURL = URL(fileURLWithPath: Prerequisite.which("stdbuf") ?? "/usr/bin/stdbuf")
        process.arguments = ["-oL", Prerequisite.which("redis-cli") ?? "/usr/bin/redis-cli", "-s", server.socket, "--raw",
                             "--no-auth-warning"] + (server.password.map { ["-a", $0] } ?? []) + ["SUBSCRIBE", channel]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Subscribed once the server counts the channel's subscriber.
        for _ in 0..<200 {
            if (try? server.cli(["PUBSUB", "NUMSUB", channel]).split(separator: "\n").last) == "1" { break }
            usleep(50_000)
        }
    }

    /// The first `count` messages (redis-cli --raw prints `message`, the channel, the message).
    func messages(count: Int) throws -> [String] {
        var text = Data()
        var lines: [Substring] = []
        let handle = output.fileHandleForReading
        while lines.count < 4 + 3 * count {  // the last message's newline read too
            let data = handle.availableData
            if data.isEmpty { break }
            text.append(data)
            lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        }
        kill(process.processIdentifier, SIGKILL)  // redis-cli, subscribed, ignores SIGTERM
        process.waitUntilExit()
        // The subscription's confirmation first: subscribe, the channel, 1.
        return stride(from: 5, to: min(lines.count, 3 + 3 * count), by: 3).map { String(lines[$0]) }
    }
}
