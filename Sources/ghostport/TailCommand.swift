import ArgumentParser
import Foundation
import Redis

#if canImport(Glibc)
import Glibc
#endif

/// `ghostport tail [FILE]`: follows an EVE file as `tail -F` does (across logrotate's rename
/// and a truncation) and prints one readable line per alert; what an operator types at 3 a.m.
/// instead of `tail -F eve.json | jq`. Foundation's JSON parser is fine here: this reads
/// alerts, not packets.
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow an EVE file, or a Redis stream or channel, and print one readable line per alert.",
        discussion: """
            Each alert: time, severity, verdict, source -> destination:port/protocol, service, \
            signature; coloured on a terminal (severity 1 red, 2 yellow; an answered port, a live \
            listener, in bold). Follows the file across rotation (renamed and recreated, or \
            truncated), as tail -F. Other records (flow, stats, anomaly) are passed over. With \
            --redis URL it follows what sensors write there with --redis-mode stream (the last \
            alerts, then new ones; with --group, as one consumer of a consumer group, each record \
            going to one of its consumers) or channel (what is published from now on).
            """
    )

    @Argument(help: "The EVE file (default: /var/log/ghostport/eve.json, the service's).")
    var file: String?

    @Option(help: ArgumentHelp("Follow Redis instead of a file, as the sensors' --redis URL names it.", valueName: "url"))
    var redis: String?

    @Option(help: "With --redis: stream (XADD, the default) or channel (PUBLISH); a list is a queue its consumers empty, not followed.")
    var redisMode: RedisMode = .stream

    @Option(help: "With --redis: the stream's or channel's name (default ghostport).")
    var redisKey = "ghostport"

    @Option(help: "With --redis and a stream: read as a consumer of this group (XREADGROUP, created at the stream's end when missing), acknowledging what it prints.")
    var group: String?

    @Option(help: "With --group: this consumer's name (default: the host's name and the process id).")
    var consumer: String?

    @Option(name: [.customShort("n"), .customLong("lines")], help: "Alerts already in the file to print first (the last N).")
    var lines: Int = 10

    @Option(help: "Only alerts at least this severe: 1 (the most severe) to 255.")
    var minSeverity: Int?

    @Flag(help: "Print each selected alert's EVE line as it is, for jq.")
    var json = false

    @Flag(name: .customLong("no-follow"), help: "Print what is in the file and exit.")
    var noFollow = false

    @Flag(inversion: .prefixedNo, help: "Colour on a terminal (default: when standard output is one and NO_COLOR is unset).")
    var color: Bool?

    func validate() throws {
        if lines < 0 { throw ValidationError("--lines cannot be negative") }
        if let minSeverity, !(1...255).contains(minSeverity) { throw ValidationError("--min-severity must be between 1 and 255") }
        if redis != nil && file != nil { throw ValidationError("name a file or --redis, not both") }
        if redis == nil && (group != nil || consumer != nil) { throw ValidationError("--group and --consumer need --redis") }
        if consumer != nil && group == nil { throw ValidationError("--consumer needs --group") }
        if redis != nil && redisMode != .stream && redisMode != .channel {
            throw ValidationError("--redis-mode \(redisMode.rawValue): a list is a queue its consumers empty, not a log to follow; read it with redis-cli BRPOP or LRANGE, or write a stream")
        }
        if redisMode == .channel && group != nil { throw ValidationError("--group reads a stream, not a channel") }
        if redisMode == .channel && redis != nil && noFollow { throw ValidationError("--no-follow: a channel keeps no records to print") }
    }

    func run() throws {
        let colour = color ?? (isatty(STDOUT_FILENO) == 1 && getenv("NO_COLOR") == nil)
        let formatter = AlertLine(colour: colour)
        if let redis {
            try RedisTail(url: redis, key: redisKey, lines: lines, noFollow: noFollow, group: group, consumer: consumer,
                          print: { value in if let text = render(Substring(value), formatter) { emit(text) } })
                .run(mode: redisMode)
            return
        }
        let file = self.file ?? "/var/log/ghostport/eve.json"
        var follower: FileFollower
        do {
            follower = try FileFollower(path: file)
        } catch {
            warn("\(file): \(error.reason)")
            throw ExitCode(2)
        }
        // The last `lines` alerts already there, then everything new.
        var backlog: [String] = []
        for line in follower.readAvailable() {
            guard let text = render(line, formatter) else { continue }
            backlog.append(text)
            if backlog.count > lines { backlog.removeFirst(backlog.count - lines) }
        }
        for text in backlog { emit(text) }
        if noFollow { return }
        while true {
            for line in follower.readAvailable() {
                if let text = render(line, formatter) { emit(text) }
            }
            if follower.isReplaced {
                // What the sensor wrote to the old file before it reopened is read first.
                for line in follower.readAvailable() {
                    if let text = render(line, formatter) { emit(text) }
                }
                if let note = follower.switchToNewFile() { warn(note) }
                continue
            }
            usleep(200_000)
        }
    }

    /// One line on standard output at once (a pipe to grep or a test sees it without delay).
    func emit(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(STDOUT_FILENO, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { Glibc.exit(0) }  // the reader went away (head, a closed pipe)
                done += n
            }
        }
    }

    /// The line to print for one EVE line, or nil when it is not a selected alert.
    func render(_ line: Substring, _ formatter: AlertLine) -> String? {
        guard line.contains("\"event_type\":\"alert\""),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              object["event_type"] as? String == "alert" else { return nil }
        let alert = object["alert"] as? [String: Any]
        let severity = alert?["severity"] as? Int ?? 3
        if let minSeverity, severity > minSeverity { return nil }
        return json ? String(line) : formatter.format(object)
    }
}

/// `tail --redis`: a stream's last alerts then its new entries (XREVRANGE, then XREAD from the
/// last one seen, or XREADGROUP for a consumer group, acknowledging each batch once printed), or
/// a channel's messages (SUBSCRIBE). A connection lost while following is one line and retried
/// each second, and the stream is read on from where it was: nothing is skipped or printed twice.
struct RedisTail {
    var url: String
    var key: String
    var lines: Int
    var noFollow: Bool
    var group: String?
    var consumer: String?
    /// Called with each record's EVE line; prints it when it is a selected alert.
    var print: (String) -> Void

    func run(mode: RedisMode) throws {
        let target: RedisTarget
        do {
            target = try RedisTarget(url: url)
        } catch {
            warn(error.message)
            throw ExitCode(2)
        }
        // The first connection must work (exit 2, as a missing file); later losses are retried.
        var reader: RedisReader
        do {
            reader = try RedisReader(target, timeout: mode == .channel ? 0 : 5)
        } catch {
            warn(error.message)
            throw ExitCode(2)
        }
        var position = Position()
        while true {
            do {
                switch mode {
                case .channel: try subscribe(reader)
                default:
                    if let group {
                        try readGroup(reader, group: group, consumer: consumer ?? Self.defaultConsumer())
                    } else {
                        try readStream(reader, from: &position)
                    }
                }
                return
            } catch let error as RedisError where error.kind == .io || error.kind == .connect {
                warn("\(error.message); reconnecting")
                reader = try reconnect(target, mode: mode)
                warn("\(target): connected again")
            } catch let error as RedisError {
                // Refused: a key of another type, a group that cannot be made.
                warn(error.message)
                throw ExitCode(1)
            }
        }
    }

    /// Where a stream's reading is: the last entry seen, once the backlog is printed.
    struct Position {
        var last: String?
    }

    private func reconnect(_ target: RedisTarget, mode: RedisMode) throws -> RedisReader {
        while true {
            sleep(1)
            if let reader = try? RedisReader(target, timeout: mode == .channel ? 0 : 5) { return reader }
        }
    }

    private func readStream(_ reader: RedisReader, from position: inout Position) throws {
        if position.last == nil {
            // The last `lines` alerts, newest first a page at a time, printed oldest first.
            var backlog: [String] = []
            var newest: String?
            var end = "+"
            page: while lines > 0 {
                let entries = try Self.entries(reader.call(["XREVRANGE", key, end, "-", "COUNT", "500"]), key: key)
                if newest == nil { newest = entries.first?.id }
                for entry in entries {
                    guard let line = entry.line else { continue }
                    if line.contains("\"event_type\":\"alert\"") { backlog.append(line) }
                    if backlog.count >= lines { break page }
                }
                guard entries.count == 500, let oldest = entries.last?.id else { break }
                end = "(" + oldest
            }
            if lines == 0 || newest == nil {
                newest = try Self.entries(reader.call(["XREVRANGE", key, "+", "-", "COUNT", "1"]), key: key).first?.id
            }
            for line in backlog.reversed() { print(line) }
            position.last = newest ?? "0-0"
        }
        if noFollow { return }
        while true {
            let reply = try reader.call(["XREAD", "COUNT", "1000", "BLOCK", "1000", "STREAMS", key, position.last!])
            for entry in try Self.streamEntries(reply, key: key) {
                if let line = entry.line { print(line) }
                position.last = entry.id
            }
        }
    }

    private func readGroup(_ reader: RedisReader, group: String, consumer: String) throws {
        let created = try reader.call(["XGROUP", "CREATE", key, group, "$", "MKSTREAM"])
        if case .error(let message) = created, !message.hasPrefix("BUSYGROUP") {
            throw RedisError(.refused, "\(reader.target): XGROUP CREATE \(key) \(group): \(message)")
        }
        // First what was delivered to this consumer and not acknowledged (a restart), then new entries.
        var cursor = "0"
        while true {
            var words = ["XREADGROUP", "GROUP", group, consumer, "COUNT", "1000"]
            if cursor == ">" && !noFollow { words += ["BLOCK", "1000"] }
            let entries = try Self.streamEntries(reader.call(words + ["STREAMS", key, cursor]), key: key)
            for entry in entries {
                if let line = entry.line { print(line) }
            }
            if !entries.isEmpty {
                let acknowledged = try reader.call(["XACK", key, group] + entries.map(\.id))
                if case .error(let message) = acknowledged { throw RedisError(.refused, "\(reader.target): XACK: \(message)") }
            }
            if cursor == "0" && entries.isEmpty { cursor = ">" } else if cursor == ">" && entries.isEmpty && noFollow { return }
        }
    }

    private func subscribe(_ reader: RedisReader) throws {
        try reader.send(["SUBSCRIBE", key])
        while true {
            let message = try reader.next()
            if case .error(let text) = message { throw RedisError(.refused, "\(reader.target): SUBSCRIBE \(key): \(text)") }
            guard let parts = message.array, parts.count == 3, parts[0].string == "message", let line = parts[2].string else { continue }
            print(line)
        }
    }

    struct Entry {
        var id: String
        /// The record: the entry's `eve` field, as the sensors write it.
        var line: String?
    }

    /// XRANGE's and XREVRANGE's reply: [[id, [field, value, ...]], ...].
    static func entries(_ reply: RedisValue, key: String) throws -> [Entry] {
        if case .error(let message) = reply { throw RedisError(.refused, "\(key): \(message)") }
        return (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
            let fields = parts[1].array ?? []
            let line = stride(from: 0, to: fields.count - 1, by: 2).first { fields[$0].string == "eve" }.flatMap { fields[$0 + 1].string }
            return Entry(id: id, line: line)
        }
    }

    /// XREAD's and XREADGROUP's reply: [[key, entries]], or nil when BLOCK ran out.
    static func streamEntries(_ reply: RedisValue, key: String) throws -> [Entry] {
        if case .error(let message) = reply { throw RedisError(.refused, "\(key): \(message)") }
        guard let streams = reply.array else { return [] }
        return try streams.flatMap { stream -> [Entry] in
            guard let parts = stream.array, parts.count == 2 else { return [] }
            return try entries(parts[1], key: key)
        }
    }

    static func defaultConsumer() -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "-" + String(getpid())
    }
}

/// One alert as a line: `2026-12-03 23:36:42.599  sev 3  probe      45.77.1.9:40001 -> 192.168.4.20:571/tcp  meter  GHOSTPORT probe ...`.
struct AlertLine {
    var colour: Bool

    func format(_ record: [String: Any]) -> String {
        let alert = record["alert"] as? [String: Any] ?? [:]
        let ghostport = record["ghostport"] as? [String: Any] ?? [:]
        let severity = alert["severity"] as? Int ?? 3
        // "2026-12-03T23:36:42.599362+0000" -> "2026-12-03 23:36:42.599"
        var time = record["timestamp"] as? String ?? "-"
        if time.count >= 23 { time = String(time.prefix(23)).replacingOccurrences(of: "T", with: " ") }
        let verdict = ghostport["verdict"] as? String ?? ghostport["kind"] as? String ?? "-"
        let proto = (record["proto"] as? String ?? "?").lowercased()
        let source = Self.endpoint(record["src_ip"] as? String, record["src_port"] as? Int)
        let destination = Self.endpoint(record["dest_ip"] as? String, record["dest_port"] as? Int)
        let service = ghostport["service"] as? String
            ?? (alert["metadata"] as? [String: Any])?["service"].flatMap { ($0 as? [String])?.first } ?? "-"
        let signature = alert["signature"] as? String ?? "sid \(alert["signature_id"] as? Int ?? 0)"
        var text = "\(time)  sev \(severity)  \(Self.pad(verdict, 10)) \(source) -> \(destination)/\(proto)  \(service)  \(signature)"
        text = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        guard colour else { return text }
        var codes: [String] = []
        switch severity {
        case 1: codes.append("31")  // red
        case 2: codes.append("33")  // yellow
        default: break
        }
        if verdict == "answered" { codes.append("1") }
        return codes.isEmpty ? text : "\u{1B}[\(codes.joined(separator: ";"))m" + text + "\u{1B}[0m"
    }

    static func endpoint(_ address: String?, _ port: Int?) -> String {
        let address = address ?? "?"
        let host = address.contains(":") ? "[\(address)]" : address
        return port.map { "\(host):\($0)" } ?? host
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

/// Reads a growing file line by line, as `tail -F`: when the path is renamed away and created
/// anew (logrotate), the rest of the old file is read, then the new one from its start; when
/// the file is truncated (copytruncate), reading starts again at its beginning.
struct FileFollower {
    struct Failure: Error {
        var reason: String
    }

    let path: String
    private var fd: Int32
    private var identity: (device: UInt64, inode: UInt64)
    private var offset: Int64 = 0
    private var pending: [UInt8] = []

    init(path: String) throws(Failure) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(reason: String(cString: strerror(errno)).lowercased()) }
        var info = stat()
        fstat(fd, &info)
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw Failure(reason: "not a regular file")
        }
        identity = (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// The complete lines written since the last call.
    mutating func readAvailable() -> [Substring] {
        var info = stat()
        if fstat(fd, &info) == 0 && Int64(info.st_size) < offset {
            // Truncated under us: start again at the beginning.
            offset = 0
            pending.removeAll()
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var data: [UInt8] = pending
        while true {
            let n = pread(fd, &chunk, chunk.count, off_t(offset))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            data.append(contentsOf: chunk[..<n])
            offset += Int64(n)
        }
        guard let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else {
            pending = data
            return []
        }
        pending = Array(data[(lastNewline + 1)...])
        let text = String(decoding: data[...lastNewline], as: UTF8.self)
        return text.split(separator: "\n")
    }

    /// Whether the path now names another file (rotated); false between rename and create.
    var isReplaced: Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (UInt64(info.st_dev), UInt64(info.st_ino)) != identity
    }

    /// Once the old file was read to its end: follows the new one from its start. Returns a
    /// line to tell the user, or nil when it cannot be opened yet.
    mutating func switchToNewFile() -> String? {
        var info = stat()
        let fresh = open(path, O_RDONLY | O_CLOEXEC)
        guard fresh >= 0, fstat(fresh, &info) == 0 else {
            if fresh >= 0 { close(fresh) }
            return nil
        }
        close(fd)
        fd = fresh
        identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        offset = 0
        pending.removeAll()
        return "\(path): a new file (rotated); following it"
    }
}
