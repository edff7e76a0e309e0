#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file or directory that could not be read, and why (strerror's text, lower-cased).
public struct FileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// The few file operations loading rules needs, straight on libc so Rules stays Foundation-free.
public enum FileSystem {
    public enum Kind: Sendable {
        case file
        case directory
        case missing
    }

    public static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
    }

    /// The whole file.
    public static func contents(of path: String) -> Result<[UInt8], FileError> {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return .failure(failure(path)) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        // Sized once for a regular file (a rules file can be megabytes), still read to its end.
        var info = stat()
        if fstat(descriptor, &info) == 0 && info.st_size > 0 { bytes.reserveCapacity(Int(info.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(failure(path))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return .success(bytes)
    }

    /// Names in a directory (not `.` or `..`), sorted bytewise.
    public static func list(directory path: String) -> Result<[String], FileError> {
        guard let directory = opendir(path) else { return .failure(failure(path)) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .success(names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    /// Joins a directory and a name with exactly one slash.
    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The directory part of a path, "." when there is none.
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func failure(_ path: String) -> FileError {
        let reason = strerror(errno).map { String(cString: $0) } ?? "error \(errno)"
        return FileError(path: path, reason: reason.lowercased())
    }
}
