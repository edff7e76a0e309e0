#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a file the sensor loads (its config, its rules) could be changed by someone other
/// than root and the sensor's own account: if so, they could silence rules or forge alerts, so
/// the live sensor refuses it. The checks are OpenSSH's `StrictModes`, applied to the file
/// (or rules directory) and every directory above it, symbolic links resolved:
///
/// - writable by others (`o+w`) is refused; a directory above the path may be, with the sticky
///   bit (`/tmp`), where others cannot replace what is not theirs;
/// - writable by its group (`g+w`) is refused unless the group is a trusted one;
/// - owned by anyone but a trusted user is refused.
public struct FileTrust: Sendable {
    /// Besides root (uid 0), who may own what is loaded.
    public var users: Set<UInt32>
    /// Besides root's group (gid 0), which groups may have write access.
    public var groups: Set<UInt32>

    public init(users: Set<UInt32>, groups: Set<UInt32>) {
        self.users = users
        self.groups = groups
    }

    /// Root, the account this process runs as, and `user` (the account the sensor switches to),
    /// with their primary groups.
    public static func sensor(user: String?) -> FileTrust {
        var trust = FileTrust(users: [UInt32(geteuid())], groups: [UInt32(getegid())])
        if let user, let entry = getpwnam(user) {
            trust.users.insert(UInt32(entry.pointee.pw_uid))
            trust.groups.insert(UInt32(entry.pointee.pw_gid))
        }
        return trust
    }

    /// A path that may not be loaded: `PATH: reason; refusing to load`.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// The path as given; the reason names the directory above it when that is at fault.
        public var path: String
        public var reason: String

        public var description: String { "\(path): \(reason); refusing to load" }
    }

    /// The first reason `path` (a file, or a directory whose entries are loaded) or a directory
    /// above it could be changed by others; nil when it could not, or when it does not exist
    /// (loading it reports that).
    public func problem(_ path: String) -> Problem? {
        guard let resolved = Self.realPath(path) else { return nil }
        if let reason = reason(resolved, isLoaded: true) { return Problem(path: path, reason: reason) }
        var directory = resolved
        while directory != "/" {
            directory = FileSystem.directory(of: directory)
            if let reason = reason(directory, isLoaded: false) {
                return Problem(path: path, reason: "directory \(directory) is \(reason)")
            }
        }
        return nil
    }

    /// Only whether `path` itself is writable by others, for `read`, which warns and loads.
    public static func writableByOthers(_ path: String) -> Problem? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IWOTH != 0 else { return nil }
        return Problem(path: path, reason: "writable by others (mode \(mode(info)))")
    }

    private func reason(_ path: String, isLoaded: Bool) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let isDirectory = info.st_mode & S_IFMT == S_IFDIR
        if info.st_mode & S_IWOTH != 0 && (isLoaded || !isDirectory || info.st_mode & S_ISVTX == 0) {
            return "writable by others (mode \(Self.mode(info)))"
        }
        let gid = UInt32(info.st_gid)
        if info.st_mode & S_IWGRP != 0 && gid != 0 && !groups.contains(gid) {
            return "writable by group \(Self.groupName(gid)) (mode \(Self.mode(info)))"
        }
        let uid = UInt32(info.st_uid)
        if uid != 0 && !users.contains(uid) {
            return "owned by \(Self.userName(uid)), not root or the sensor's user"
        }
        return nil
    }

    static func mode(_ info: stat) -> String {
        let digits = String(UInt32(info.st_mode) & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func userName(_ uid: UInt32) -> String {
        guard let entry = getpwuid(uid_t(uid)), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }

    static func groupName(_ gid: UInt32) -> String {
        guard let entry = getgrgid(gid_t(gid)), let name = entry.pointee.gr_name else { return "gid \(gid)" }
        return "\(String(cString: name)) (gid \(gid))"
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
