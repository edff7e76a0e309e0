import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// One blocking connection to a Redis server through hiredis (Debian's libhiredis): connected,
/// authenticated and on its database, then used for pipelines of commands (`append` them all,
/// then take their `reply` in order). Every read and write has a timeout, so a server that
/// stops answering is an error after `timeout` seconds, not a thread blocked for ever.
///
/// Owned by one thread at a time.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    let target: RedisTarget

    /// Connects, authenticates (`AUTH [user] password`), selects the database and checks the
    /// server answers (`PING`).
    init(_ target: RedisTarget, timeout seconds: Double) throws(RedisError) {
        self.target = target
        let limit = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        let made: UnsafeMutablePointer<redisContext>?
        switch target.address {
        case .tcp(let host, let port): made = redisConnectWithTimeout(host, Int32(port), limit)
        case .unix(let path): made = redisConnectUnixWithTimeout(path, limit)
        }
        guard let made else { throw RedisError(.connect, "\(target): cannot allocate a connection") }
        // From here a throw frees the context through deinit.
        context = made
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            throw RedisError(.connect, "\(target): cannot connect: \(reason)")
        }
        _ = redisSetTimeout(context, limit)
        if case .tcp = target.address { _ = redisEnableKeepAlive(context) }
        if let password = target.password {
            try command(target.user.map { ["AUTH", $0, password] } ?? ["AUTH", password], what: "authentication")
        }
        if target.database != 0 { try command(["SELECT", String(target.database)], what: "database \(target.database)") }
        try command(["PING"], what: "PING")
    }

    deinit { redisFree(context) }

    /// Runs one command and waits for its reply; an error reply is `.refused`.
    private func command(_ words: [String], what: String) throws(RedisError) {
        try send(words)
        switch try reply() {
        case .success: return
        case .failure(let reply):
            let message = reply.message
            let reason = message.hasPrefix("WRONGPASS") || message.hasPrefix("NOAUTH") || message.contains("invalid password")
                ? "\(what) refused: \(message)" : "\(what) failed: \(message)"
            throw RedisError(.refused, "\(target): \(reason)")
        }
    }

    /// Queues one command of `words` (UTF-8): the words one after another, and pointers into
    /// them, which hiredis copies into its output buffer before the call returns.
    func send(_ words: [String]) throws(RedisError) {
        let joined = words.flatMap { Array($0.utf8) }
        let lengths = words.map(\.utf8.count)
        let status = joined.withUnsafeBufferPointer { bytes in
            var offset = 0
            var pointers: [UnsafePointer<CChar>?] = lengths.map { length in
                defer { offset += length }
                return UnsafeRawPointer(bytes.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
            }
            return redisAppendCommandArgv(context, Int32(pointers.count), &pointers, lengths)
        }
        guard status == REDIS_OK else { throw RedisError(.io, "\(target): \(Self.errorText(context))") }
    }

    /// Queues one command whose words are `words` (raw bytes, any content) in the output buffer.
    /// The pointers need to live only for the call: hiredis copies them.
    func append(_ words: UnsafeMutableBufferPointer<UnsafePointer<CChar>?>, lengths: UnsafeBufferPointer<Int>) throws(RedisError) {
        guard redisAppendCommandArgv(context, Int32(words.count), words.baseAddress, lengths.baseAddress) == REDIS_OK else {
            throw RedisError(.io, "\(target): \(Self.errorText(context))")
        }
    }

    /// The next reply, in the order the commands were appended (sending what is still buffered
    /// first): `.success` unless the server answered with an error. A failed read or write
    /// throws `.io`; the connection is then unusable.
    func reply() throws(RedisError) -> Result<Void, ReplyError> {
        try withReply { reply in
            guard reply.type == REDIS_REPLY_ERROR else { return .success(()) }
            let message = reply.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: reply.len), as: UTF8.self) } ?? "error"
            return .failure(ReplyError(message: message))
        }
    }

    /// Reads the next reply and hands it to `body` (it is freed after).
    func withReply<T>(_ body: (redisReply) -> T) throws(RedisError) -> T {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw RedisError(.io, "\(target): \(Self.errorText(context))")
        }
        defer { freeReplyObject(raw) }
        return body(raw.assumingMemoryBound(to: redisReply.self).pointee)
    }

    /// No timeout on reads and writes from now on (a subscriber waits as long as messages take).
    func removeTimeout() {
        _ = redisSetTimeout(context, timeval(tv_sec: 0, tv_usec: 0))
    }

    /// An error reply (`WRONGTYPE ...`, `OOM ...`): the command failed, the connection is fine.
    struct ReplyError: Error {
        var message: String
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        if context.pointee.err == REDIS_ERR_EOF { return "the server closed the connection" }
        let text = withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        // hiredis reports a timeout as EAGAIN's text.
        return text.isEmpty || text == "Resource temporarily unavailable" ? "no answer (timed out)" : text
    }
}
