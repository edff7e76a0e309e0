import CSensor

#if canImport(Glibc)
import Glibc
#endif

/// Dropping root after the capture is open, as `tcpdump -Z` does, but keeping CAP_NET_RAW and
/// CAP_NET_ADMIN so a capture can be reopened when its interface comes back.
public enum Privileges {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static var isRoot: Bool { geteuid() == 0 }

    /// The name of the effective user, or its number.
    public static var userName: String {
        let uid = geteuid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return String(uid) }
        return String(cString: name)
    }

    /// Becomes `user` (its uid, gid and only that group), keeping only the capture capabilities.
    public static func drop(to user: String) throws(Failure) {
        guard let entry = getpwnam(user) else {
            throw Failure(description: "user '\(user)': no such user (create it, or name another with --user)")
        }
        let uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid
        guard gp_keep_capabilities(1) == 0 else { throw failure("prctl(PR_SET_KEEPCAPS)") }
        var groups = [gid]
        guard setgroups(1, &groups) == 0 else { throw failure("setgroups") }
        guard setgid(gid) == 0 else { throw failure("setgid(\(gid))") }
        guard setuid(uid) == 0 else { throw failure("setuid(\(uid))") }
        guard gp_set_capture_capabilities(1) == 0 else { throw failure("capset(CAP_NET_RAW, CAP_NET_ADMIN)") }
        guard gp_keep_capabilities(0) == 0 else { throw failure("prctl(PR_SET_KEEPCAPS)") }
        guard getuid() == uid, geteuid() == uid, setuid(0) != 0 else {
            throw Failure(description: "could not give up root: still able to become uid 0")
        }
    }

    /// Forbids regaining privileges through exec.
    public static func forbidNewPrivileges() { _ = gp_no_new_privileges() }

    /// The effective capabilities, for the start-up report and tests.
    public static var effectiveCapabilities: UInt64 { UInt64(gp_effective_capabilities()) }

    private static func failure(_ call: String) -> Failure {
        Failure(description: "\(call) failed: \(String(cString: strerror(errno)))")
    }
}
