import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `rsyslogd` serving `/dev/log` (or another socket) for a test, writing what one
/// facility receives to a file as `severity|facility|program|message` lines. On `/dev/log` it
/// needs root and no system logger already there; a stale `/dev/log` is moved aside and put back
/// by `stop()`.
public final class RsyslogDaemon {
    public let output: String
    public let socket: String
    private let directory: String
    private let pid: pid_t
    private let backup: String?
    private let lock: Int32
    private var stopped = false

    /// Why a daemon cannot be started here, or nil when it can.
    public static var unavailableReason: String? {
        if getuid() != 0 { return "needs root to create /dev/log" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/rsyslogd") {
            return "/usr/sbin/rsyslogd is missing (apt-get install -y rsyslog)"
        }
        if isLiveSocket("/dev/log") { return "/dev/log is served by a running system logger; not touching it" }
        return nil
    }

    /// Why a daemon on a socket of its own cannot be started here, or nil when it can.
    public static var unavailableReasonOwnSocket: String? {
        if getuid() != 0 { return "needs root to run rsyslogd" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/rsyslogd") {
            return "/usr/sbin/rsyslogd is missing (apt-get install -y rsyslog)"
        }
        return nil
    }

    /// Starts the daemon with `facility` (e.g. `local5`) going to `output` (default: a file of its
    /// own, removed by `stop()`; one given is kept, and appended to); waits for `socket`.
    public init(facility: String, socket: String = "/dev/log", output: String? = nil) throws {
        // One daemon on /dev/log at a time, across test suites running in parallel.
        let onDevLog = socket == "/dev/log"
        let lock = onDevLog ? open("/tmp/ghostport-test-rsyslog.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600) : -1
        if lock >= 0 { flock(lock, LOCK_EX) }
        let release = {
            if lock >= 0 {
                flock(lock, LOCK_UN)
                close(lock)
            }
        }
        self.lock = lock
        self.socket = socket
        directory = NSTemporaryDirectory() + "ghostport-rsyslog-\(UUID().uuidString)"
        self.output = output ?? directory + "/\(facility).log"
        let aside = "/dev/log.ghostport-test-\(getpid())"
        var stale = stat()
        let hadStale = onDevLog && lstat("/dev/log", &stale) == 0
        backup = hadStale ? aside : nil
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if hadStale { guard rename("/dev/log", aside) == 0 else { throw POSIXError(.EBUSY) } }
            let config = """
                global(workDirectory="\(directory)")
                module(load="imuxsock" SysSock.Name="\(socket)" SysSock.Use="on" SysSock.RateLimit.Interval="0")
                template(name="ghostportTest" type="string" string="%syslogseverity-text%|%syslogfacility-text%|%programname%|%msg%\\n")
                \(facility).* action(type="omfile" file="\(self.output)" template="ghostportTest")
                """
            try config.write(toFile: directory + "/rsyslog.conf", atomically: true, encoding: .utf8)
            pid = try Self.spawn("/usr/sbin/rsyslogd",
                                 ["-n", "-f", directory + "/rsyslog.conf", "-i", directory + "/rsyslogd.pid"])
        } catch {
            if hadStale { rename(aside, "/dev/log") }
            try? FileManager.default.removeItem(atPath: directory)
            release()
            throw error
        }
        guard Self.waitFor({ Self.isLiveSocket(socket) }) else {
            stop()
            throw POSIXError(.ETIMEDOUT)
        }
    }

    deinit { stop() }

    /// The lines received so far (rsyslog keeps the space after the tag; it is removed).
    public func lines() -> [String] {
        let content = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        return content.split(separator: "\n").map { line in
            var parts = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 4, parts[3].hasPrefix(" ") { parts[3].removeFirst() }
            return parts.joined(separator: "|")
        }
    }

    /// Waits up to 10 s for at least `count` lines.
    public func waitForLines(_ count: Int) -> [String] {
        var lines: [String] = []
        _ = Self.waitFor {
            lines = self.lines()
            return lines.count >= count
        }
        return lines
    }

    /// Stops the daemon (with `signal`: SIGKILL leaves its socket behind, unserved), restores
    /// `/dev/log` as it was, removes its files.
    public func stop(signal: Int32 = SIGTERM) {
        guard !stopped else { return }
        stopped = true
        kill(pid, signal)
        var status: Int32 = 0
        var reaped = false
        for _ in 0..<100 where !reaped {
            if waitpid(pid, &status, WNOHANG) == pid { reaped = true } else { usleep(50_000) }
        }
        if !reaped {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        if socket == "/dev/log" {
            unlink("/dev/log")
            if let backup { rename(backup, "/dev/log") }
        }
        try? FileManager.default.removeItem(atPath: directory)
        if lock >= 0 {
            flock(lock, LOCK_UN)
            close(lock)
        }
    }

    public static func isLiveSocket(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return false }
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    /// posix_spawn with every signal unblocked and at its default: a child started from a
    /// test thread would otherwise inherit a mask that blocks SIGTERM.
    static func spawn(_ path: String, _ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EIO) }
        return pid
    }

    static func waitFor(_ condition: () -> Bool) -> Bool {
        for _ in 0..<200 {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }
}
