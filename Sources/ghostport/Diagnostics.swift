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

/// One line on standard error, prefixed with the program name, as tcpdump and suricata do.
func warn(_ message: String) {
    FileHandleStderr.write("ghostport: \(message)\n")
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
