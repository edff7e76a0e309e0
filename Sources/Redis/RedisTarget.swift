#if canImport(Glibc)
import Glibc
#endif

/// Where the Redis output connects, from a URL as redis-cli's `-u` and Suricata's users write it:
///
/// - `redis://[[user]:password@]host[:port][/db]` (port 6379, database 0 by default; an IPv6
///   host in brackets: `redis://[::1]:6379`),
/// - `unix://[[user]:password@]/path/to/redis.sock[?db=N]`, or the socket's absolute path alone.
///
/// A user or password may be percent-encoded (`%40` for `@`). Without a password in the URL,
/// the environment's `REDISCLI_AUTH` (redis-cli's) is used, so a service's unit can keep it out of
/// the command line.
public struct RedisTarget: Sendable, Equatable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    /// The ACL user (Redis 6 and later); nil: the default user.
    public var user: String?
    public var password: String?
    public var database: Int

    public init(address: Address, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.address = address
        self.user = user
        self.password = password
        self.database = database
    }

    /// Parses `text`; `fallbackPassword` (by default the environment's `REDISCLI_AUTH`) is the
    /// password when the URL names none.
    public init(url text: String, fallbackPassword: String? = RedisTarget.environmentPassword()) throws(RedisError) {
        func fail(_ reason: String) -> RedisError { RedisError(.usage, "\(text): \(reason)") }
        var rest = Substring(text)
        var user: String?, password: String?
        var database = 0
        let address: Address
        if rest.hasPrefix("/") {
            address = .unix(path: String(rest))
        } else {
            guard let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") else {
                throw fail("not a Redis URL (redis://[user:password@]host[:port][/db], unix:///path or an absolute socket path)")
            }
            let scheme = rest[..<colon].lowercased()
            rest = rest[rest.index(colon, offsetBy: 3)...]
            guard scheme == "redis" || scheme == "unix" else {
                throw fail(scheme == "rediss" ? "TLS (rediss://) is not supported: Debian's libhiredis is built without it"
                                             : "unknown scheme '\(scheme)' (redis:// or unix://)")
            }
            if let at = rest.lastIndex(of: "@") {
                let credentials = rest[..<at]
                rest = rest[rest.index(after: at)...]
                let (name, secret) = credentials.firstIndex(of: ":").map {
                    (credentials[..<$0], Optional(credentials[credentials.index(after: $0)...]))
                } ?? (credentials, nil)
                guard let decodedName = Self.percentDecoded(name), let decodedSecret = secret.map(Self.percentDecoded) ?? "" else {
                    throw fail("a user or password has a malformed %-escape")
                }
                if secret == nil {
                    // `redis://secret@host`: redis-cli reads a lone credential as the password.
                    password = decodedName.isEmpty ? nil : decodedName
                } else {
                    user = decodedName.isEmpty ? nil : decodedName
                    password = decodedSecret.isEmpty ? nil : decodedSecret
                }
            }
            if scheme == "unix" {
                var path = rest
                if let query = rest.firstIndex(of: "?") {
                    path = rest[..<query]
                    for pair in rest[rest.index(after: query)...].split(separator: "&") {
                        let parts = pair.split(separator: "=", maxSplits: 1)
                        guard parts.count == 2, parts[0] == "db", let number = Int(parts[1]) else {
                            throw fail("unknown query '\(pair)' (only db=N)")
                        }
                        database = number
                    }
                }
                guard path.hasPrefix("/") else { throw fail("a unix:// URL names an absolute socket path") }
                address = .unix(path: String(path))
            } else {
                var hostPort = rest
                if let slash = rest.firstIndex(of: "/") {
                    hostPort = rest[..<slash]
                    let db = rest[rest.index(after: slash)...]
                    if !db.isEmpty {
                        guard let number = Int(db) else { throw fail("the database '\(db)' is not a number") }
                        database = number
                    }
                }
                var host = hostPort, port = 6379
                if hostPort.hasPrefix("[") {
                    guard let close = hostPort.firstIndex(of: "]") else { throw fail("an IPv6 host misses its ']'") }
                    host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
                    let after = hostPort[hostPort.index(after: close)...]
                    if !after.isEmpty {
                        guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else { throw fail("bad port '\(after)'") }
                        port = number
                    }
                } else if let colon = hostPort.lastIndex(of: ":") {
                    host = hostPort[..<colon]
                    guard let number = Int(hostPort[hostPort.index(after: colon)...]) else {
                        throw fail("bad port '\(hostPort[hostPort.index(after: colon)...])'")
                    }
                    port = number
                }
                guard !host.isEmpty else { throw fail("no host") }
                guard (1...65535).contains(port) else { throw fail("port \(port) is not between 1 and 65535") }
                address = .tcp(host: String(host), port: port)
            }
        }
        if case .unix(let path) = address, path.utf8.count >= 108 {
            throw fail("the socket path is longer than a Unix socket address holds (107 bytes)")
        }
        guard (0...1_000_000).contains(database) else { throw fail("database \(database) is out of range") }
        if password == nil, let fallbackPassword, !fallbackPassword.isEmpty { password = fallbackPassword }
        self.init(address: address, user: user, password: password, database: database)
    }

    /// `REDISCLI_AUTH`, as redis-cli reads it.
    public static func environmentPassword() -> String? { getenv("REDISCLI_AUTH").map { String(cString: $0) } }

    /// The URL with the password hidden, for logs and messages.
    public var description: String {
        let credentials = password == nil ? (user.map { "\($0)@" } ?? "") : "\(user ?? ""):***@"
        switch address {
        case .tcp(let host, let port):
            let shown = host.contains(":") ? "[\(host)]" : host
            return "redis://\(credentials)\(shown):\(port)/\(database)"
        case .unix(let path):
            return "unix://\(credentials)\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// How records go into Redis, with Suricata's names: `list` (LPUSH, Suricata's default: the
/// newest at the head, so a consumer takes the oldest with RPOP/BRPOP), `rpush` (the oldest at
/// the head, for LPOP/BLPOP), `channel` (PUBLISH: to whoever is subscribed now) and `stream`
/// (XADD with the line in the field `eve`, trimmed with `MAXLEN ~`).
public enum RedisMode: String, Sendable, CaseIterable {
    case list, rpush, channel, stream
}

/// A Redis output failure: what went wrong, in one line.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// A malformed URL or setting.
        case usage
        /// No connection (refused, unreachable, timed out, socket missing).
        case connect
        /// The server refused the credentials or the database.
        case refused
        /// The connection failed while records were sent.
        case io
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
