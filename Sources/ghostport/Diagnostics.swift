import ArgumentParser
import Capture
import Platform
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Standard error, unbuffered: one write per message so lines never interleave.
enum FileHandleStderr {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(STDERR_FILENO, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { return }
                done += n
            }
        }
    }
}

/// One line on standard error, prefixed with the program name, as tcpdump and suricata do
/// (for `run`, with its time and level, see `Log`).
func warn(_ message: String) {
    Log.write(.warning, message)
}

/// The program's own log lines on standard error. `read`, `decode` and the others print them
/// plain (`ghostport: message`), as tcpdump does. The sensor (`run`) adds the level and the
/// time, `2026-12-04T00:05:00.123Z notice ghostport: capturing on eth0 ...`, except under
/// journald (standard error is its stream, `JOURNAL_STREAM`), which has its own timestamps
/// and takes the level as a `<N>` prefix (`journalctl -p warning` then works). Lines below
/// the threshold (`--log-level`, `-v`) are not written.
enum Log {
    enum Style: Int {
        case plain, timestamped, journald
    }

    private static let threshold = Atomic<Int>(LogLevel.info.rawValue)
    private static let style = Atomic<Int>(Style.plain.rawValue)

    static func configure(threshold level: LogLevel, style chosen: Style) {
        threshold.store(level.rawValue, ordering: .relaxed)
        style.store(chosen.rawValue, ordering: .relaxed)
    }

    /// journald when standard error is the stream it gave this process, else timestamps.
    static var serviceStyle: Style {
        guard let stream = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return .timestamped }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return .timestamped }
        return stream == "\(info.st_dev):\(info.st_ino)" ? .journald : .timestamped
    }

    static func write(_ level: LogLevel, _ message: String) {
        guard level.rawValue <= threshold.load(ordering: .relaxed) else { return }
        switch Style(rawValue: style.load(ordering: .relaxed)) ?? .plain {
        case .plain: FileHandleStderr.write("ghostport: \(message)\n")
        case .journald: FileHandleStderr.write("<\(level.rawValue)>ghostport: \(message)\n")
        case .timestamped: FileHandleStderr.write("\(now()) \(level.name) ghostport: \(message)\n")
        }
    }

    /// The wall clock in UTC to the millisecond: `2026-12-04T00:05:00.123Z`.
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var parts = tm()
        var seconds = spec.tv_sec
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(spec.tv_nsec / 1_000_000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }
}

extension LogLevel: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.name) }
    public var defaultValueDescription: String { name }
}

/// `SIGTERM`, `SIGINT`, ... for a log line.
func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGTERM: "SIGTERM"
    case SIGINT: "SIGINT"
    case SIGHUP: "SIGHUP"
    case SIGUSR1: "SIGUSR1"
    default: "signal \(signal)"
    }
}

extension CaptureInputs {
    /// `expand` for a command: each entry passed over and each unusable path on its own line of
    /// standard error; a path that does not exist makes the status 2, any other problem 1.
    static func expandReporting(_ paths: [String], recursive: Bool, status: inout Int32) -> [Input] {
        let expansion = expand(paths, recursive: recursive)
        for line in expansion.skipped { warn(line) }
        for error in expansion.errors {
            warn(error.description)
            if case .notFound = error { status = 2 } else { status = max(status, 1) }
        }
        return expansion.inputs
    }
}
