import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The lines of one EVE input, fed to a closure as byte views: a file, `-` (standard input), or
/// a gzip file (logrotate's `compress`), told by its magic bytes and read through `gzip -dc`.
/// Memory is one read buffer and the longest line kept, at most `maximumLine`: a longer line is
/// skipped to its end and reported as such, never held.
public struct EVELines {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What a line was, for the closure.
    public enum Line {
        case text(UnsafeBufferPointer<UInt8>)
        /// Longer than `maximumLine`: its length.
        case tooLong(Int)
    }

    public static let maximumLine = 1 << 20

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Whether the file starts with gzip's magic bytes.
    public static func isGzip(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic: (UInt8, UInt8) = (0, 0)
        return withUnsafeMutableBytes(of: &magic) { Glibc.read(fd, $0.baseAddress, 2) } == 2 && magic == (0x1F, 0x8B)
    }

    /// Calls `body` with each line and its number (from 1); `body` returns false to stop early.
    /// A last line without its newline is still a line (a file cut short).
    public func forEach(_ body: (Line, Int) -> Bool) throws(Failure) {
        if path == "-" {
            try Self.read(fd: STDIN_FILENO, body)
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)).lowercased())") }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            close(fd)
            throw Failure(description: "\(path): is a directory")
        }
        guard Self.isGzip(path) else {
            defer { close(fd) }
            try Self.read(fd: fd, body)
            return
        }
        close(fd)
        try readGzip(body)
    }

    private func readGzip(_ body: (Line, Int) -> Bool) throws(Failure) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", "--", path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw Failure(description: "\(path): a gzip file, and gzip could not be started: \(error.localizedDescription)")
        }
        var readFailure: Failure?
        do throws(Failure) {
            try Self.read(fd: output.fileHandleForReading.fileDescriptor, body)
        } catch {
            readFailure = error
        }
        // Stopped early: gzip may be blocked writing; it has nothing more to say.
        process.terminate()
        process.waitUntilExit()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").first.map(String.init)
        if let readFailure { throw readFailure }
        if process.terminationReason == .exit && process.terminationStatus != 0 {
            throw Failure(description: "\(path): \(complaint ?? "gzip failed with status \(process.terminationStatus)")")
        }
    }

    private static func read(fd: Int32, _ body: (Line, Int) -> Bool) throws(Failure) {
        let chunkSize = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var line: [UInt8] = []
        line.reserveCapacity(4096)
        var skipped: Int?  // bytes of an over-long line passed over so far
        var number = 0
        var stop = false
        func finish(_ bytes: UnsafeBufferPointer<UInt8>) {
            number += 1
            if let length = skipped {
                stop = !body(.tooLong(length + bytes.count), number)
                skipped = nil
            } else if line.isEmpty {
                stop = !body(.text(bytes), number)
            } else {
                line.append(contentsOf: bytes)
                stop = line.withUnsafeBufferPointer { !body(.text($0), number) }
                line.removeAll(keepingCapacity: line.capacity <= 1 << 16)
            }
        }
        while !stop {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, chunkSize) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: String(cString: strerror(errno)).lowercased())
            }
            if count == 0 { break }
            buffer.withUnsafeBufferPointer { all in
                var start = 0
                while !stop, start < count {
                    guard let found = memchr(all.baseAddress! + start, 0x0A, count - start) else {
                        // A line's beginning: kept until its end comes, unless it is already too long.
                        let rest = UnsafeBufferPointer(rebasing: all[start..<count])
                        if skipped != nil || line.count + rest.count > maximumLine {
                            skipped = (skipped ?? 0) + line.count + rest.count
                            line.removeAll()
                        } else {
                            line.append(contentsOf: rest)
                        }
                        return
                    }
                    let end = all.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if skipped == nil && line.count + end - start > maximumLine {
                        skipped = line.count
                        line.removeAll()
                    }
                    finish(UnsafeBufferPointer(rebasing: all[start..<end]))
                    start = end + 1
                }
            }
        }
        if !stop && (skipped != nil || !line.isEmpty) {
            finish(UnsafeBufferPointer(start: nil, count: 0))
        }
    }
}
