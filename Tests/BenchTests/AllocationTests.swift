import Foundation
import Testing
import TestSupport

/// The packet path allocates nothing for packets that do not alert: decode and prefilter, the
/// ring, flow lookup and rule matching, over 100,000 packets after a warm-up on the same flows.
///
/// The counting happens in the built `ghostport-bench allocs`, not here: malloc-interposer
/// replaces malloc for the whole process that links it, which a test process (and an
/// AddressSanitizer build) must not have. The bench checks a known allocation is counted first
/// and says "interposer inactive" when not (under ASan's allocator, say); then this test is skipped,
/// except under CI, where `.ci/run` points `GHOSTPORT_BENCH_BINARY` at the release build's bench
/// (the interposer counts there) and a count that cannot be taken fails.
@Suite(.serialized)
struct AllocationTests {
    /// `$GHOSTPORT_BENCH_BINARY` when set, else `ghostport-bench` as SwiftPM built it, next to the test bundle.
    static let bench: String = {
        if let chosen = ProcessInfo.processInfo.environment["GHOSTPORT_BENCH_BINARY"], !chosen.isEmpty { return chosen }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("ghostport-bench").path
    }()

    /// The output of one `ghostport-bench allocs --packets 100000` run, or nil when it cannot run.
    static let report: String? = {
        guard FileManager.default.isExecutableFile(atPath: bench) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bench)
        process.arguments = ["allocs", "--packets", "100000"]
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ghostport-allocs-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: output.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: output) else { return nil }
        defer {
            try? handle.close()
            try? FileManager.default.removeItem(at: output)
        }
        process.standardOutput = handle
        process.standardError = handle
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        return try? String(contentsOf: output, encoding: .utf8)
    }()

    static var canCount: Bool {
        guard let report else { return false }
        return !report.contains("interposer inactive")
    }

    /// The numbers after `label` words in the report line starting with `prefix`.
    static func number(after label: String, inLineStarting prefix: String) -> Int? {
        guard let line = report?.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
              let range = line.range(of: label) else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    static var unmet: String? {
        if !FileManager.default.isExecutableFile(atPath: bench) { return "no ghostport-bench at \(bench)" }
        return canCount ? nil : "malloc-interposer inactive in \(bench) (a sanitizer build?): nothing to count"
    }

    @Test(Prerequisite.trait(unmet))
    func nonAlertingPacketsAllocateNothing() throws {
        try Prerequisite.require(Self.unmet)
        let report = try #require(Self.report)
        let prefix = "allocs: non-alerting packets 100000"
        let mallocs = try #require(Self.number(after: "mallocs ", inLineStarting: prefix), "no count in:\n\(report)")
        let throughEngine = try #require(Self.number(after: "packets 100000 (", inLineStarting: prefix))
        let alerts = try #require(Self.number(after: "alerts ", inLineStarting: prefix))
        // The path was really taken: most packets reach the engine's flow lookup and matcher, none alerts.
        #expect(throughEngine > 50_000)
        #expect(alerts == 0)
        #expect(mallocs == 0, "allocations on the non-alerting path:\n\(report)")
        // Alerting packets may allocate; the count is in the report for the record.
        #expect(report.contains("allocs: alerting packets"))
    }
}
