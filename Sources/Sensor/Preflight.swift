import Capture
import Platform

#if canImport(Glibc)
import Glibc
#endif

/// What `ghostport run --check-config` (`-T`) checks beyond the configuration and the rules:
/// everything the sensor will need once it starts, judged for the account it will run as
/// (the one it drops to when started as root). Each check returns one line saying what is
/// wrong and where, or nil.
///
/// File permissions are judged from the mode bits, owner and groups, as the kernel does
/// without ACLs: `access(2)` cannot answer for another account, and the sensor's account is
/// usually not the one running the check.
public enum Preflight {
    /// An account as the kernel sees it when it opens files.
    public struct Account: Sendable, Equatable {
        public var name: String
        public var uid: uid_t
        public var gid: gid_t
        public var groups: Set<gid_t>

        /// This process's effective identity.
        public static var current: Account {
            let count = getgroups(0, nil)
            var list = [gid_t](repeating: 0, count: Int(max(count, 0)))
            let got = getgroups(count, &list)
            var groups = Set(list.prefix(Int(max(got, 0))))
            groups.insert(getegid())
            return Account(name: Privileges.userName, uid: geteuid(), gid: getegid(), groups: groups)
        }

        /// `user` from the password database, with the groups the sensor keeps when it drops
        /// to it (its primary group only: `Privileges.drop` clears the others), or nil.
        public static func named(_ user: String) -> Account? {
            guard let entry = getpwnam(user) else { return nil }
            let gid = entry.pointee.pw_gid
            return Account(name: user, uid: entry.pointee.pw_uid, gid: gid, groups: [gid])
        }

        /// Whether the kernel would grant `bits` (a combination of 4 read, 2 write, 1 search)
        /// on a file with this status.
        func may(_ bits: mode_t, _ info: stat) -> Bool {
            if uid == 0 { return true }  // CAP_DAC_OVERRIDE: directories are only what is checked for search
            let mode = info.st_mode
            let granted: mode_t
            if info.st_uid == uid {
                granted = (mode >> 6) & 7
            } else if groups.contains(info.st_gid) {
                granted = (mode >> 3) & 7
            } else {
                granted = mode & 7
            }
            return granted & bits == bits
        }
    }

    /// The interface exists (libpcap lists it; `any` always does), or, when none is named, one
    /// is up to be picked.
    public static func interfaceProblem(_ name: String?) -> String? {
        guard let name else {
            return LiveCapture.defaultInterface() == nil
                ? "interface: none is set and no interface is up and running to pick (name one with --interface)"
                : nil
        }
        if name == "any" || LiveCapture.interfaceNames().contains(name) || if_nametoindex(name) != 0 { return nil }
        return "interface: \(name): no such interface (ip link lists them)"
    }

    /// `account` exists, when the sensor will drop to it.
    public static func userProblem(_ user: String) -> String? {
        Account.named(user) == nil
            ? "user: \(user): no such user (create it, as the package's sysusers.d entry does, or name another with --user)"
            : nil
    }

    /// Without root the sensor captures with CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous
    /// mode and the buffer size), as the unit grants them.
    public static func captureProblem() -> String? {
        if Privileges.isRoot { return nil }
        let raw: UInt64 = 1 << 13  // CAP_NET_RAW
        return Privileges.effectiveCapabilities & raw == 0
            ? "capture: running as \(Privileges.userName) without CAP_NET_RAW: capturing needs root or that capability"
            : nil
    }

    /// `path` can be opened for appending by `account`: the file, when it exists, is a regular
    /// file it may write, else its directory exists and it may create files there.
    public static func writableFileProblem(_ path: String, as account: Account, what: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { return "\(what): \(path): is a directory" }
            if let problem = searchProblem(above: path, as: account, what: what) { return problem }
            return account.may(2, info) ? nil : "\(what): \(path): not writable by user \(account.name)"
        }
        return creatableProblem(in: FileSystem.directory(of: path), as: account, what: what, item: path)
    }

    /// `path` is a directory `account` may create files in, or (`mayCreate`) does not exist and
    /// can be created, one level, by it.
    public static func writableDirectoryProblem(_ path: String, as account: Account, what: String,
                                                mayCreate: Bool = true) -> String? {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { return "\(what): \(path): not a directory" }
            if let problem = searchProblem(above: path, as: account, what: what) { return problem }
            return account.may(3, info) ? nil : "\(what): \(path): user \(account.name) may not create files in it"
        }
        if !mayCreate { return "\(what): directory \(path) does not exist" }
        return creatableProblem(in: FileSystem.directory(of: path), as: account, what: what, item: path)
    }

    /// The logger's socket is there, `account` may write to it, and someone serves it.
    public static func syslogProblem(_ path: String, as account: Account) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "outputs.syslog.socket: \(path): no such socket (is a syslog daemon running?)" }
        guard info.st_mode & S_IFMT == S_IFSOCK else { return "outputs.syslog.socket: \(path): not a socket" }
        if !account.may(2, info) { return "outputs.syslog.socket: \(path): not writable by user \(account.name)" }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "outputs.syslog.socket: socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return "outputs.syslog.socket: \(path): path too long for a socket" }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.utf8.count + 1)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        return status == 0 ? nil : "outputs.syslog.socket: \(path): \(String(cString: strerror(errno))) (is a syslog daemon serving it?)"
    }

    // MARK: - Paths

    private static func creatableProblem(in parent: String, as account: Account, what: String, item: String) -> String? {
        var info = stat()
        guard stat(parent, &info) == 0 else { return "\(what): \(item): directory \(parent) does not exist" }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "\(what): \(item): \(parent) is not a directory" }
        if let problem = searchProblem(above: item, as: account, what: what) { return problem }
        return account.may(3, info) ? nil : "\(what): \(item): user \(account.name) may not create files in \(parent)"
    }

    /// Every existing directory above `path` can be searched by `account`.
    private static func searchProblem(above path: String, as account: Account, what: String) -> String? {
        var directory = path
        var info = stat()
        while directory != "/" && directory != "." {
            directory = FileSystem.directory(of: directory)
            if stat(directory, &info) == 0 && !account.may(1, info) {
                return "\(what): \(path): user \(account.name) may not enter \(directory)"
            }
        }
        return nil
    }
}
