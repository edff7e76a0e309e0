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
