#if canImport(Glibc)
import Glibc
#endif

/// The EVE log file of a running sensor: opened for append, reopened for logrotate, and
/// watched for write errors so the operator hears once per episode, not once per record.
///
/// The descriptor number never changes: `reopen()` puts the new file on the same number
/// (dup2), so whoever writes to `fd` (an `EVEOutput`) needs no telling, and a write racing
/// the reopen lands whole in the old file or whole in the new one.
public final class EVEFile {
    public let path: String
    public let mode: mode_t
    public private(set) var fd: Int32
    /// Whether records are being lost now.
    public private(set) var isFailing = false
    /// Times the file was reopened after a write error (`EBADF`, `EIO`, `ESTALE`).
    public private(set) var reopenedAfterError: UInt64 = 0

    /// The size bound (`outputs.eve.max_mib`, `max_files`): when the file reaches `maxBytes`
    /// it is rotated as logrotate rotates it (`PATH.1`, `PATH.2` ... and their `.gz`, each moved
    /// one up) and the files numbered past `keep` are removed. Nil: no bound (logrotate alone).
    public var sizeLimit: (maxBytes: Int64, keep: Int)?
    /// Rotations by size, and the files and bytes they removed.
    public private(set) var rotations: UInt64 = 0
    public private(set) var removedFiles: UInt64 = 0
    public private(set) var removedBytes: UInt64 = 0

    private var seenRecords: UInt64 = 0
    private var seenLost: UInt64 = 0
    private var lostInEpisode: UInt64 = 0

    /// A change in the file's health, worth one log line.
    public enum Transition: Sendable, Equatable, CustomStringConvertible {
        /// Records started being lost. `errno` is the write's error.
        case failing(path: String, errno: Int32)
        /// Records reach the file again; `lost` were lost while it failed.
        case recovered(path: String, lost: UInt64)

        public var description: String {
            switch self {
            case .failing(let path, let code):
                "\(path): write failed: \(String(cString: strerror(code))); EVE records are being lost until it recovers"
            case .recovered(let path, let lost):
                "\(path): writing again; \(lost) EVE record\(lost == 1 ? " was" : "s were") lost"
            }
        }
    }

    /// Opens (creating, mode 0640 by default) `path` for append.
    public init(path: String, mode: mode_t = 0o640) throws(EVEFileError) {
        self.path = path
        self.mode = mode
        fd = try Self.open(path, mode: mode)
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    private static func open(_ path: String, mode: mode_t) throws(EVEFileError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode)
        guard fd >= 0 else { throw EVEFileError(path: path, errno: errno) }
        return fd
    }

    /// Opens `path` anew on the same descriptor number: after logrotate renamed the file
    /// away, later records go to a new file and the rotated one keeps what it had. Flush
    /// buffered records first. On failure the old file stays in use.
    public func reopen() throws(EVEFileError) {
        let fresh = try Self.open(path, mode: mode)
        guard fd >= 0 else {
            fd = fresh
            return
        }
        guard fresh != fd else { return }  // the old number was closed and reused: already in place
        // dup2 replaces the old file in one step (Glibc's module has no dup3); close-on-exec
        // is not copied, so it is set again.
        if dup2(fresh, fd) < 0 {
            let code = errno
            Glibc.close(fresh)
            throw EVEFileError(path: path, errno: code)
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        Glibc.close(fresh)
    }

    /// Reports a change in health after the writer flushed. Pass the writer's counters
    /// (`EVEOutput.records`, `.lost`, `.lastError`): records lost since the last call start an
    /// episode (reported once, reopening the file if its descriptor or device went bad, so
    /// the next write retries on a fresh one); records written without loss end it.
    ///
    /// Call it after a flush, when nothing is buffered, or a buffered record counts as written.
    public func check(records: UInt64, lost: UInt64, lastError: WriteError?) -> Transition? {
        defer {
            seenRecords = records
            seenLost = lost
        }
        if lost > seenLost {
            lostInEpisode &+= lost - seenLost
            let code = lastError?.errno ?? EIO
            if code == EBADF || code == EIO || code == ESTALE {
                if (try? reopen()) != nil { reopenedAfterError &+= 1 }
            }
            guard !isFailing else { return nil }
            isFailing = true
            return .failing(path: path, errno: code)
        }
        if records > seenRecords && isFailing {
            isFailing = false
            defer { lostInEpisode = 0 }
            return .recovered(path: path, lost: lostInEpisode)
        }
        return nil
    }

    /// Rotates the file when it has reached the size bound: call after a flush. Returns a line
    /// for the log when it rotated (or could not).
    public func rotateIfFull() -> String? {
        guard let limit = sizeLimit, fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, Int64(info.st_size) >= limit.maxBytes else { return nil }
        // The numbered files, the oldest first out: PATH.N(.gz) past `keep` go, the rest move up.
        var removed: [String] = []
        var index = limit.keep
        while true {
            var found = false
            for name in ["\(path).\(index)", "\(path).\(index).gz"] {
                var old = stat()
                guard stat(name, &old) == 0 else { continue }
                found = true
                if Glibc.unlink(name) == 0 {
                    removedFiles &+= 1
                    removedBytes &+= UInt64(max(0, old.st_size))
                    removed.append(name)
                }
            }
            if !found && index > limit.keep + 16 { break }  // a gap this long: nothing older
            index += 1
        }
        for index in stride(from: limit.keep - 1, through: 1, by: -1) {
            for suffix in ["", ".gz"] {
                _ = Glibc.rename("\(path).\(index)\(suffix)", "\(path).\(index + 1)\(suffix)")
            }
        }
        if limit.keep >= 1 {
            guard Glibc.rename(path, "\(path).1") == 0 else {
                return "\(path): cannot rotate at \(info.st_size) bytes: \(String(cString: strerror(errno))); still writing to it"
            }
        } else if Glibc.unlink(path) == 0 {
            removedFiles &+= 1
            removedBytes &+= UInt64(max(0, info.st_size))
        }
        do {
            try reopen()
        } catch {
            return "\(error); still writing to the rotated file"
        }
        rotations &+= 1
        return "\(path): rotated at \(info.st_size) bytes (the size bound)"
            + (removed.isEmpty ? "" : "; removed \(removed.joined(separator: ", "))")
    }

    /// Closes the file; `fd` is -1 afterwards.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// The EVE file could not be opened.
public struct EVEFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var errno: Int32

    public init(path: String, errno: Int32) {
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}
