import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The sensor's own log lines: time and level on a plain standard error, journald's `<N>`
/// prefix (and no timestamp) on the stream journald gave it, the threshold honoured.
@Suite(.serialized) struct LogTests {
    /// Starts `run` on loopback with `extra`, waits until it captures, stops it; its stderr.
    static func runBriefly(_ extra: [String], shell: String? = nil) throws -> String {
        let command = [Live.ghostport, "run", "-i", "lo", "-o", "/dev/null", "--allow-root", "--stats-interval", "0"] + extra
        let child: Child
        if let shell {
            child = try Child(["/bin/sh", "-c", shell + " exec \"$@\"", "sh"] + command)
        } else {
            child = try Child(command)
        }
        defer { child.kill() }
        #expect(Live.wait(timeout: 60) { child.stderr.contains("capturing on lo") }, "\(child.stderr)")
        child.signal(SIGTERM)
        #expect(child.wait(timeout: 60) == 0, "\(child.stderr)")
        return child.stderr
    }

    @Test(Live.requires())
    func timestampsAndLevels() throws {
        try Prerequisite.require(Live.unmet([]))
        let lines = try Self.runBriefly([]).split(separator: "\n").map(String.init)
        let pattern = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warning|notice|info|debug) ghostport: "#
        for line in lines {
            #expect(line.range(of: pattern, options: .regularExpression) != nil, "\(line)")
        }
        #expect(lines.contains { $0.contains(" info ghostport: kernel filter: ") })
        #expect(lines.contains { $0.contains(" notice ghostport: capturing on lo ") })
        #expect(lines.contains { $0.contains(" notice ghostport: stopped: ") })

        // Above the threshold only: no info line at notice.
        let quiet = try Self.runBriefly(["--log-level", "notice"])
        #expect(!quiet.contains(" info ") && quiet.contains(" notice ghostport: stopped: "), "\(quiet)")
        // -v: debug lines too.
        #expect(try Self.runBriefly(["-v"]).contains(" debug ghostport: capture: snaplen "))
    }

    /// Under journald (JOURNAL_STREAM names standard error), `<N>` and no time of its own.
    @Test(Live.requires("stat"))
    func journaldGetsPriorities() throws {
        try Prerequisite.require(Live.unmet(["stat"]))
        let log = try Self.runBriefly([], shell: "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2); export JOURNAL_STREAM;")
        let lines = log.split(separator: "\n").map(String.init)
        #expect(lines.contains("<5>ghostport: stopping: draining the ring"), "\(log)")
        #expect(lines.contains { $0.hasPrefix("<6>ghostport: kernel filter: ") })
        #expect(lines.allSatisfy { $0.range(of: #"^<[3-7]>ghostport: "#, options: .regularExpression) != nil }, "\(log)")
    }
}
