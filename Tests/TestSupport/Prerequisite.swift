import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a test needs from the machine beyond the repository (root, a tool, a Python package),
/// and what happens without it. In a plain `swift test` the test is skipped with the reason,
/// which Swift Testing counts and prints. Under `.ci/run` (`CI=true`), which runs as root and
/// installs every tool the tests use, a missing piece is a failure instead: the test runs, and
/// its first `Prerequisite.require` records the reason as an issue and stops it.
///
/// What no installation can provide (a CPU instruction, files outside the repository such as
/// the shared corpus) is a plain `.enabled(if:)` condition: skipped everywhere it is absent.
public enum Prerequisite {
    /// `.ci/run` sets it; so do most CI systems.
    public static let isCI: Bool = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Runs the test when `unmet` is nil; otherwise skips it with `unmet` as the reason, except
    /// under CI, where it runs and must call `require(unmet)` (or fail on its own) first.
    public static func trait(_ unmet: String?) -> ConditionTrait {
        .enabled(if: unmet == nil || isCI, Comment(rawValue: unmet ?? "runs"))
    }

    /// Inside a test enabled by `trait`: nothing when `unmet` is nil; otherwise (only under CI,
    /// since elsewhere the test was skipped) records the failure and throws to end the test.
    public static func require(_ unmet: String?, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let unmet else { return }
        Issue.record(Comment(rawValue: "\(unmet): under CI=true this is a failure (.ci/run installs and provides it)"),
                     sourceLocation: sourceLocation)
        throw Missing(reason: unmet)
    }

    public struct Missing: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    // MARK: What tests need

    /// Nil as root; otherwise why not.
    public static var root: String? { geteuid() == 0 ? nil : "needs root" }

    /// The absolute path of `tool` on the PATH or in the sbin directories, or nil.
    public static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return directories.map { $0 + "/" + tool }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Nil when every tool is installed; otherwise which are missing and the Debian packages
    /// that hold them (`package` defaults to the tool's own name).
    public static func tools(_ tools: String..., packages: [String: String] = [:]) -> String? {
        let missing = tools.filter { which($0) == nil }
        guard !missing.isEmpty else { return nil }
        let install = Set(missing.map { packages[$0] ?? $0 }).sorted().joined(separator: " ")
        return "missing \(missing.joined(separator: ", ")) (apt-get install -y \(install))"
    }

    /// Inside a test enabled by `trait(tools(tool))`: the tool's path, or (under CI) a recorded
    /// failure when it is missing.
    public static func path(of tool: String, package: String? = nil,
                            sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        if let path = which(tool) { return path }
        try require(tools(tool, packages: package.map { [tool: $0] } ?? [:]), sourceLocation: sourceLocation)
        throw Missing(reason: tool)
    }

    /// Debian's own Python, where `.ci/run` installs the packages the tests compare against
    /// (python3-jsonschema, python3-scapy): a pyenv or virtualenv python3 on the PATH lacks them.
    public static let python = "/usr/bin/python3"

    /// Nil when Debian's python3 imports `module`; otherwise why not and what to install.
    public static func pythonModule(_ module: String, install: String) -> String? {
        guard FileManager.default.isExecutableFile(atPath: python) else { return "no \(python) (apt-get install -y python3)" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import \(module)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "cannot run \(python)" }
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : "\(python) cannot import \(module) (\(install))"
    }

    /// Nil when a tmpfs can be mounted here (root with CAP_SYS_ADMIN); tried once, in a
    /// temporary directory, and unmounted at once.
    public static let tmpfs: String? = {
        if let root { return "\(root) to mount a tmpfs" }
        let directory = NSTemporaryDirectory() + "ghostport-tmpfs-probe-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mounted = mount("tmpfs", directory, "tmpfs", 0, "size=64k") == 0
        if mounted { umount(directory) }
        return mounted ? nil : "cannot mount a tmpfs here (\(String(cString: strerror(errno))))"
    }()
}
