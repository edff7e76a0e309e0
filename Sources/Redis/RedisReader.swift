import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// A Redis reply as a value: what `ghostport tail --redis` reads (stream entries, messages).
public indirect enum RedisValue: Sendable, Equatable {
    /// A bulk or status string (bytes as UTF-8, invalid sequences replaced).
    case string(String)
    case integer(Int64)
    case array([RedisValue])
    case null
    /// An error reply: the command failed, the connection is fine.
    case error(String)

    public var string: String? { if case .string(let text) = self { text } else { nil } }
    public var array: [RedisValue]? { if case .array(let values) = self { values } else { nil } }
}

/// Commands one at a time and their replies as values, over one connection (connected,
/// authenticated and on its database as the output's): the reading side of `tail --redis`.
/// Owned by one thread at a time.
public final class RedisReader {
    private let connection: RedisConnection

    /// `timeout`: seconds any read or write may take (0: no limit, for a subscriber that waits
    /// for messages as long as they take).
    public init(_ target: RedisTarget, timeout: Double) throws(RedisError) {
        connection = try RedisConnection(target, timeout: timeout > 0 ? timeout : 5)
        if timeout == 0 { connection.removeTimeout() }
    }

    public var target: RedisTarget { connection.target }

    /// Sends `words` as one command and waits for its reply.
    public func call(_ words: [String]) throws(RedisError) -> RedisValue {
        try connection.send(words)
        return try connection.nextValue()
    }

    /// Sends `words` as one command without waiting (SUBSCRIBE: the replies come as `next()`).
    public func send(_ words: [String]) throws(RedisError) {
        try connection.send(words)
    }

    /// The next reply or pushed message.
    public func next() throws(RedisError) -> RedisValue {
        try connection.nextValue()
    }
}

extension RedisConnection {
    /// The next reply, converted.
    func nextValue() throws(RedisError) -> RedisValue {
        try withReply { RedisValue($0) }
    }
}

extension RedisValue {
    init(_ reply: redisReply) {
        func text() -> String {
            reply.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: reply.len), as: UTF8.self) } ?? ""
        }
        switch Int32(reply.type) {
        case REDIS_REPLY_STRING, REDIS_REPLY_STATUS: self = .string(text())
        case REDIS_REPLY_INTEGER: self = .integer(Int64(reply.integer))
        case REDIS_REPLY_ERROR: self = .error(text())
        case REDIS_REPLY_ARRAY:
            self = .array((0..<reply.elements).map { RedisValue(reply.element[$0]!.pointee) })
        default: self = .null
        }
    }
}
