import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` for a test: on 127.0.0.1 at a free port and on a Unix socket of its own,
/// in a temporary directory, optionally with a password and an append-only file fsynced at every
/// write (so that what it acknowledged survives a SIGKILL). `redis-cli` reads what it holds: the
/// truth comes from Redis, not from the code under test.
public final class RedisServer {
    public private(set) var port: Int
    public let socket: String
    public let directory: String
    public let password: String?
    private let persistent: Bool
    private var pid: pid_t = 0

    /// Nil when redis-server and redis-cli are installed; otherwise what to install.
    public static let unmet: String? = Prerequisite.tools("redis-server", "redis-cli",
                                                          packages: ["redis-server": "redis-server", "redis-cli": "redis-tools"])

    public init(password: String? = nil, persistent: Bool = false) throws {
        directory = NSTemporaryDirectory() + "ghostport-redis-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socket = directory + "/redis.sock"
        self.password = password
        self.persistent = persistent
        port = try Self.freePort()
        // A port found free can be taken by another test's server before this one binds it:
        // then the server exits at once, and another port is tried.
        for attempt in 1...5 {
            do {
                try start()
                return
            } catch let error as POSIXError where error.code == .EADDRINUSE && attempt < 5 {
                port = try Self.freePort()
            }
        }
    }

    deinit {
        stop(signal: SIGTERM)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `redis://[:password@]127.0.0.1:PORT/0`.
    public var url: String { "redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)/0" }

    /// Starts (again, after `stop`) on the same port, socket and directory: a persistent server
    /// reloads its append-only file.
    public func start() throws {
        var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--unixsocket", socket, "--unixsocketperm", "700",
                         "--dir", directory, "--save", "", "--daemonize", "no", "--loglevel", "warning",
                         "--logfile", directory + "/redis.log"]
        arguments += persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]
        if let password { arguments += ["--requirepass", password] }
        pid = try RsyslogDaemon.spawn(Prerequisite.which("redis-server") ?? "/usr/bin/redis-server", arguments)
        var exited = false
        let ready = RsyslogDaemon.waitFor {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { exited = true }
            return exited || (try? self.cli(["PING"])) == "PONG"
        } && !exited
        guard ready else {
            if exited { pid = 0 } else { stop(signal: SIGKILL) }
            let log = (try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8)) ?? ""
            throw exited && log.contains("Address already in use") ? POSIXError(.EADDRINUSE) : POSIXError(.ETIMEDOUT)
        }
    }

    /// Stops the server with `signal` (SIGKILL: no shutdown, no final save) and reaps it.
    public func stop(signal: Int32 = SIGTERM) {
        guard pid > 0 else { return }
        kill(pid, signal)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    /// `redis-cli --raw` on the Unix socket: its standard output, less the final newline.
    @discardableResult
    public func cli(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Prerequisite.which("redis-cli") ?? "/usr/bin/redis-cli")
        process.arguments = ["-s", socket, "--raw", "--no-auth-warning"] + (password.map { ["-a", $0] } ?? []) + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// `cli`'s output as lines (none for an empty reply).
    public func cliLines(_ arguments: [String]) throws -> [String] {
        let text = try cli(arguments)
        return text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Every element of a list, head first (`database`: SELECT's number).
    public func list(_ key: String, database: Int = 0) throws -> [String] {
        try cliLines(["-n", String(database), "LRANGE", key, "0", "-1"])
    }

    /// The `eve` field of every entry of a stream, oldest first (`XRANGE` prints id, field, value).
    public func stream(_ key: String, database: Int = 0) throws -> [String] {
        let lines = try cliLines(["-n", String(database), "XRANGE", key, "-", "+"])
        return stride(from: 2, to: lines.count, by: 3).map { lines[$0] }
    }

    public func count(_ command: String, _ key: String) throws -> Int { Int(try cli([command, key])) ?? -1 }

    /// A TCP port nothing listens on now (bound and released).
    private static func freePort() throws -> Int {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
