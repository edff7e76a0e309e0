#if canImport(Glibc)
import Glibc
#endif

/// systemd's readiness protocol: datagrams of `KEY=value` lines to the socket named by
/// `$NOTIFY_SOCKET` (a leading `@` is the abstract namespace). Does nothing outside systemd.
public final class SystemdNotifier: @unchecked Sendable {
    // @unchecked: the socket and address are set once in init and only read afterwards.
    private let fd: Int32
    private var address = sockaddr_un()
    private let addressLength: socklen_t
    /// `$WATCHDOG_USEC` as nanoseconds, when systemd wants pings from this process.
    public let watchdogInterval: Int64?

    /// `pid` is this process's: a `$WATCHDOG_PID` naming another process means the watchdog
    /// is that one's (a parent that forked us passed its environment on), as sd_watchdog_enabled(3) says.
    public init(environment: [String: String]? = nil, pid: Int32 = getpid()) {
        let env = environment ?? Self.processEnvironment()
        let forThisProcess = env["WATCHDOG_PID"].map { Int32($0) == pid } ?? true
        if forThisProcess, let usec = env["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 {
            watchdogInterval = usec * 1000
        } else {
            watchdogInterval = nil
        }
        guard let path = env["NOTIFY_SOCKET"], !path.isEmpty, path.utf8.count < 108 else {
            fd = -1
            addressLength = 0
            return
        }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
    }

    deinit { if fd >= 0 { close(fd) } }

    public var isActive: Bool { fd >= 0 }

    /// Sends one state update, e.g. `READY=1\nSTATUS=capturing on eth0`.
    public func send(_ state: String) {
        guard fd >= 0 else { return }
        var address = self.address
        var message = state
        message.withUTF8 { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    _ = sendto(fd, text.baseAddress, text.count, Int32(MSG_NOSIGNAL), socketAddress, addressLength)
                }
            }
        }
    }

    private static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(key) { result[key] = String(cString: value) }
        }
        return result
    }
}
