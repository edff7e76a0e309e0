import Capture
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
