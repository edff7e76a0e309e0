import Foundation

#if canImport(Glibc)
import Glibc
#endif


/// Paths in this checkout, found from this file.
enum Checkout {
    /// The repository root: two levels above Tests/Robustness.
    static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Tests/Fuzz/corpus/<target>, the fuzzers' seed inputs.
    static func seeds(_ target: String) -> [(name: String, bytes: [UInt8])] {
        let directory = root + "/Tests/Fuzz/corpus/" + target
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { name in
            FileManager.default.contents(atPath: directory + "/" + name).map { (name, [UInt8]($0)) }
        }
    }

    /// The `ghostport` binary: `$GHOSTPORT_BINARY` when set (CI points it at the release build
    /// while the tests themselves run under AddressSanitizer), else beside this test bundle
    /// (SwiftPM builds it for the test target), else in the root's .build/debug; nil when none exists.
    static let ghostport: String? = {
        if let chosen = ProcessInfo.processInfo.environment["GHOSTPORT_BINARY"], !chosen.isEmpty {
            return FileManager.default.isExecutableFile(atPath: chosen) ? chosen : nil
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let candidates = [
            URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("ghostport").path,
            root + "/.build/debug/ghostport",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// True when the binary under test was built with AddressSanitizer: the one beside an
    /// ASan-built test bundle is (no `$GHOSTPORT_BINARY`). Its shadow memory and quarantine
    /// make resident memory meaningless as a measure of ghostport's own.
    static let ghostportUnderASan: Bool = {
        guard ProcessInfo.processInfo.environment["GHOSTPORT_BINARY"]?.isEmpty ?? true else { return false }
        return dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
    }()
}

/// A directory under /tmp removed when the value goes away.
final class ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ghostport-robustness-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }
}

/// How a child process ended, and its peak resident set from wait4(2).
struct ChildResult {
    var status: Int32
    var peakRSSKiB: Int
    var stdoutPath: String
    var stderrPath: String
}

enum Child {
    /// Runs `executable` with standard input from /dev/null and standard output and error to files
    /// (a pipe could stall a child that writes hundreds of MB), and measures its peak RSS.
    ///
    /// The peak comes from GNU time (`/usr/bin/time -f %M`), which forks a clean child. Not from our
    /// own wait4: posix_spawn starts the child with vfork, and Linux carries the parent's high-water
    /// mark across execve into ru_maxrss, so this test process's size would be reported. Without
    /// /usr/bin/time the child's /proc VmHWM is polled instead (a lower bound of the true peak).
    static func run(_ executable: String, _ arguments: [String], outputIn directory: ScratchDirectory,
                    name: String) throws -> ChildResult {
        let stdoutPath = directory.file(name + ".stdout"), stderrPath = directory.file(name + ".stderr")
        let timePath = directory.file(name + ".time")
        let time = "/usr/bin/time"
        let hasTime = FileManager.default.isExecutableFile(atPath: time)
        let command = hasTime ? [time, "-f", "%M", "-o", timePath, executable] + arguments : [executable] + arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }

        var polledKiB = 0
        var status: Int32 = 0
        while true {
            let done = waitpid(pid, &status, hasTime ? 0 : WNOHANG)
            if done == pid { break }
            if done < 0 {
                guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                continue
            }
            polledKiB = max(polledKiB, highWaterMarkKiB(pid: pid))
            usleep(2_000)
        }
        // WIFEXITED / WEXITSTATUS; a signal shows as 128 + its number, as a shell reports it.
        let exit = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        var peak = polledKiB
        if hasTime {
            // GNU time writes "Command exited with non-zero status N" first when it did; %M is last.
            let report = (try? String(contentsOfFile: timePath, encoding: .utf8)) ?? ""
            peak = report.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? -1
        }
        return ChildResult(status: exit, peakRSSKiB: peak, stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// VmHWM of a running process, in KiB; 0 once it has exited.
    private static func highWaterMarkKiB(pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
}
