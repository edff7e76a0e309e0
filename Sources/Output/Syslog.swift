import Wire

#if canImport(Glibc)
import Glibc
#endif

/// A syslog facility, by the names `syslog.conf` uses.
public struct SyslogFacility: Sendable, Hashable, CustomStringConvertible {
    /// The facility code shifted into place, ready to be or'ed with a level (`LOG_LOCAL5`).
    public let code: Int32
    public let name: String

    /// Facilities a program may log to, with their codes from `<syslog.h>`. `kern` is left
    /// out: syslog(3) refuses it from user space.
    static let table: [(String, Int32)] = [
        ("auth", 4), ("authpriv", 10), ("cron", 9), ("daemon", 3), ("ftp", 11), ("lpr", 6),
        ("mail", 2), ("news", 7), ("security", 4), ("syslog", 5), ("user", 1), ("uucp", 8),
        ("local0", 16), ("local1", 17), ("local2", 18), ("local3", 19),
        ("local4", 20), ("local5", 21), ("local6", 22), ("local7", 23),
    ]

    /// The names `init(name:)` takes, in the order `syslog.conf(5)` lists them.
    public static var names: [String] { table.map(\.0) }

    /// `local5`, `auth`, ...; case-insensitive. Nil for anything else.
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let entry = Self.table.first(where: { $0.0 == lowered }) else { return nil }
        self.name = entry.0
        self.code = entry.1 << 3
    }

    /// Suricata's default for EVE alerts sent to syslog.
    public static let local5 = SyslogFacility(name: "local5")!

    public var description: String { name }
}

/// A syslog level (severity), `LOG_EMERG` (0) to `LOG_DEBUG` (7).
public enum SyslogLevel: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case emergency = 0, alert, critical, error, warning, notice, info, debug

    /// The names `syslog.conf` uses: `emerg`, `alert`, `crit`, `err`, `warning`, `notice`,
    /// `info`, `debug` (and the old spellings `panic`, `error`, `warn`).
    public init?(name: String) {
        switch name.lowercased() {
        case "emerg", "panic": self = .emergency
        case "alert": self = .alert
        case "crit": self = .critical
        case "err", "error": self = .error
        case "warning", "warn": self = .warning
        case "notice": self = .notice
        case "info": self = .info
        case "debug": self = .debug
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .emergency: "emerg"
        case .alert: "alert"
        case .critical: "crit"
        case .error: "err"
        case .warning: "warning"
        case .notice: "notice"
        case .info: "info"
        case .debug: "debug"
        }
    }

    public var description: String { name }
}

/// What a syslog message carries: the EVE line as it is, or a Snort-like one-line summary.
public enum SyslogFormat: String, Sendable, CaseIterable {
    case json
    case text
}

/// The level an alert is logged at, by its rule priority (1 is the most urgent).
public struct SyslogLevels: Sendable, Equatable {
    /// Levels for priorities 1, 2 and 3; `lowest` for 4 and above.
    public var priority1: SyslogLevel
    public var priority2: SyslogLevel
    public var priority3: SyslogLevel
    public var lowest: SyslogLevel

    public init(priority1: SyslogLevel = .alert, priority2: SyslogLevel = .critical,
                priority3: SyslogLevel = .error, lowest: SyslogLevel = .warning) {
        self.priority1 = priority1
        self.priority2 = priority2
        self.priority3 = priority3
        self.lowest = lowest
    }

    /// 1 → alert, 2 → crit, 3 → err, 4 and above → warning.
    public static let standard = SyslogLevels()

    public func level(forPriority priority: Int) -> SyslogLevel {
        switch priority {
        case ...1: priority1
        case 2: priority2
        case 3: priority3
        default: lowest
        }
    }
}

/// What the engine knows of an alert when it writes one: enough for a syslog line in either
/// format.
public struct AlertSummary: Sendable, Equatable {
    public var gid: UInt32
    public var sid: UInt32
    public var rev: UInt32
    /// The rule's `msg`, as the rule wrote it: may hold any character.
    public var msg: String
    /// The classtype's description (EVE's `alert.category`); empty when the rule has none.
    public var category: String
    /// The rule's priority (EVE's `alert.severity`), 1 the most urgent.
    public var priority: Int
    /// `TCP`, `UDP`, `ICMP`, `IPV6-ICMP`, `SCTP` or the protocol number, as EVE's `proto`.
    public var proto: String
    public var src: IPAddress
    public var sport: UInt16?
    public var dst: IPAddress
    public var dport: UInt16?
    /// The alert's EVE record, one line (a trailing newline is dropped before sending).
    public var eveJSON: String

    public init(gid: UInt32 = 1, sid: UInt32, rev: UInt32, msg: String, category: String, priority: Int,
                proto: String, src: IPAddress, sport: UInt16?, dst: IPAddress, dport: UInt16?, eveJSON: String) {
        self.gid = gid
        self.sid = sid
        self.rev = rev
        self.msg = msg
        self.category = category
        self.priority = priority
        self.proto = proto
        self.src = src
        self.sport = sport
        self.dst = dst
        self.dport = dport
        self.eveJSON = eveJSON
    }

    /// Snort's one-line form: `[gid:sid:rev] msg [Classification: category] [Priority: n]
    /// {PROTO} src:port -> dst:port`. IPv6 addresses are written as they are (no brackets),
    /// ports only when the protocol has them; `[Classification: ...]` only when there is a
    /// category. Control characters from the rule are escaped (`SyslogOutput.escape`).
    public var text: String {
        var line = "[\(gid):\(sid):\(rev)] \(SyslogOutput.escape(msg))"
        if !category.isEmpty { line += " [Classification: \(SyslogOutput.escape(category))]" }
        line += " [Priority: \(priority)] {\(SyslogOutput.escape(proto.uppercased()))} "
        line += src.description
        if let sport { line += ":\(sport)" }
        line += " -> " + dst.description
        if let dport { line += ":\(dport)" }
        return line
    }
}

/// Alerts to the system logger: one datagram per message to its Unix socket (`/dev/log`, or
/// the one configured), in the form syslog(3) sends (`<PRI>Mmm dd hh:mm:ss ident[pid]: msg`).
///
/// By default only alerts are sent (`send(_:)`), at a level that follows the rule's priority;
/// flow, stats and anomaly records stay in the EVE file unless the caller sends them with
/// `send(record:level:)` (at `info`).
///
/// Not syslog(3) itself, because it can neither say that messages are being lost nor avoid
/// blocking: here every datagram is addressed to the socket's path (`sendto`), so a logger that
/// is missing, stopped or restarted costs nothing to find again, and a logger too slow to keep
/// up (`EAGAIN`) never stalls the engine. Messages that cannot be sent are dropped and counted
/// (`dropped`); the EVE file keeps every alert.
public final class SyslogOutput {
    public let ident: String
    public let facility: SyslogFacility
    public let format: SyslogFormat
    public let levels: SyslogLevels
    /// The logger's socket.
    public let socketPath: String
    /// Messages the logger's socket accepted.
    public private(set) var sent: UInt64 = 0
    /// Messages dropped: no socket at the path, nobody serving it, or its queue full.
    public private(set) var dropped: UInt64 = 0
    /// The error of the last message that could not be sent.
    public private(set) var lastError: Int32?
    /// Whether the last message was dropped.
    public private(set) var isFailing = false

    private let fd: Int32
    private var address = sockaddr_un()
    private let addressLength: socklen_t
    private let pid = getpid()
    private var droppedInEpisode: UInt64 = 0
    private var reportedFailing = false

    /// A change in the logger's reachability, worth one log line.
    public enum Transition: Sendable, Equatable, CustomStringConvertible {
        /// Messages started being dropped; `errno` says why.
        case failing(path: String, errno: Int32)
        /// Messages are delivered again; `dropped` were lost meanwhile.
        case recovered(path: String, dropped: UInt64)

        public var description: String {
            switch self {
            case .failing(let path, let code):
                "syslog: \(path): \(String(cString: strerror(code))); alerts to syslog are dropped and counted "
                    + "(stats output.syslog_dropped) until it is back; the EVE file keeps them"
            case .recovered(let path, let dropped):
                "syslog: \(path): delivering again; \(dropped) message\(dropped == 1 ? " was" : "s were") dropped meanwhile"
            }
        }
    }

    /// Makes the socket (non-blocking, close-on-exec) and checks the logger once, so a missing
    /// one is known (`isFailing`) before the first alert.
    public init(ident: String = "ghostport", facility: SyslogFacility = .local5, format: SyslogFormat = .json,
                levels: SyslogLevels = .standard, socket path: String = "/dev/log") {
        self.ident = ident
        self.facility = facility
        self.format = format
        self.levels = levels
        self.socketPath = path
        fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(capacity - 1).enumerated() { raw[i] = byte }
        }
        addressLength = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + min(path.utf8.count + 1, capacity))
        if fd < 0 {
            fail(errno)
        } else if !Self.isSocket(path) {
            fail(ENOENT)
        }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Sends one alert in the configured format, at the level of its priority.
    public func send(_ alert: AlertSummary) {
        let message = format == .json ? Self.oneLine(alert.eveJSON) : alert.text
        log(message, level: levels.level(forPriority: alert.priority))
    }

    /// Sends another EVE record (flow, stats, anomaly) as it is, at `level`.
    public func send(record json: String, level: SyslogLevel = .info) {
        log(Self.oneLine(json), level: level)
    }

    /// Closes the socket; later messages are dropped.
    public func close() {
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// The change since the last call, if any: at most one line per outage and one per recovery.
    public func takeTransition() -> Transition? {
        if isFailing && !reportedFailing {
            reportedFailing = true
            return .failing(path: socketPath, errno: lastError ?? EIO)
        }
        if !isFailing && reportedFailing {
            reportedFailing = false
            defer { droppedInEpisode = 0 }
            return .recovered(path: socketPath, dropped: droppedInEpisode)
        }
        return nil
    }

    private func log(_ message: String, level: SyslogLevel) {
        var datagram = header(priority: facility.code | level.rawValue) + message
        let code: Int32 = datagram.withUTF8 { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                    let flags = Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL)
                    return sendto(fd, bytes.baseAddress, bytes.count, flags, target, addressLength) < 0 ? errno : 0
                }
            }
        }
        if code == 0 {
            sent &+= 1
            isFailing = false
        } else {
            dropped &+= 1
            droppedInEpisode &+= 1
            fail(code)
        }
    }

    private func fail(_ code: Int32) {
        lastError = code
        isFailing = true
    }

    /// `<PRI>Mmm dd hh:mm:ss ident[pid]: `, local time, as glibc's syslog(3) writes it.
    private func header(priority: Int32) -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%b %e %T", &parts)
        let stamp = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "<\(priority)>\(stamp) \(ident)[\(pid)]: "
    }

    private static func isSocket(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
    }

    /// EVE lines are already escaped JSON; only the newline that ends them must go.
    static func oneLine(_ json: String) -> String {
        var line = Substring(json)
        while line.last == "\n" || line.last == "\r" { line.removeLast() }
        return line.contains(where: { $0.isNewline }) ? escape(String(line)) : String(line)
    }

    /// Text safe for a log line: C0 and C1 control characters and DEL as `\xNN`, the Unicode
    /// line and paragraph separators as `\u2028`/`\u2029`, backslash as `\\` (so the
    /// escaping can be undone); everything else as it is.
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if scalar == "\\" {
                result += "\\\\"
            } else if needsEscape(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += scalar.value > 0xFF ? "\\u" + hex : "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F..<0xA0, 0x5C, 0x2028, 0x2029: true
        default: false
        }
    }
}
