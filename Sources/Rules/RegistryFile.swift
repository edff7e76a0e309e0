// Whole-file reads and atomic writes for the registry and the rules, with errors that name the path.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be read or written: `rules/registry.tsv: no such file or directory`.
public struct RegistryFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// The errno text, lower-cased the way a command line prints it.
    public init(path: String, errno code: Int32) {
        let text = String(cString: strerror(code))
        self.init(path: path, reason: text.prefix(1).lowercased() + text.dropFirst())
    }

    public var description: String { "\(path): \(reason)" }
}

public enum RegistryFile {
    /// The whole file as UTF-8 text (invalid bytes become U+FFFD).
    public static func contents(of path: String) throws(RegistryFileError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RegistryFileError(path: path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw RegistryFileError(path: path, errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to a temporary file beside `path`, then renames it over `path`,
    /// so a reader never sees half a ruleset.
    public static func replaceContents(of path: String, with text: String) throws(RegistryFileError) {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RegistryFileError(path: path, errno: errno) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(temporary)
                throw RegistryFileError(path: path, errno: code)
            }
            written += count
        }
        guard close(fd) == 0 else {
            let code = errno
            unlink(temporary)
            throw RegistryFileError(path: path, errno: code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw RegistryFileError(path: path, errno: code)
        }
    }
}
