import Foundation
import Testing
import TestSupport

/// The README's first command reads `Tests/Fixtures/demo.pcap`: it must be what `DemoCapture`
/// builds (UPDATE_GOLDEN=1 rewrites it), and reading it must show each verdict and the scan.
@Suite("The demo capture")
struct DemoCaptureTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/demo.pcap").standardized.path

    @Test("the committed demo.pcap is the one DemoCapture builds")
    func committedFileIsCurrent() throws {
        let built = DemoCapture.make().bytes()
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try Data(built).write(to: URL(fileURLWithPath: Self.path))
        }
        let committed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.path)))
        #expect(committed == built, "run UPDATE_GOLDEN=1 swift test --filter DemoCapture and commit the file")
    }

    @Test("ghostport read on it reports each verdict and the scanner")
    func readShowsEverything() throws {
        let result = try Tool.ghostport(["read", Self.path])
        #expect(result.status == 0, "\(result.stderr)")
        let records = result.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(records.count == result.lines.count)
        var verdicts: [String: String] = [:]
        var scanners: [String] = []
        for record in records {
            let ghostport = record["ghostport"] as? [String: Any] ?? [:]
            if record["event_type"] as? String == "flow", let verdict = ghostport["verdict"] as? String,
               let src = record["src_ip"] as? String, let port = ghostport["watched_port"] as? Int {
                verdicts["\(src) \(port)"] = verdict
            }
            if let scan = ghostport["scan"] as? [String: Any], let source = scan["source"] as? String {
                scanners.append(source)
            }
        }
        #expect(verdicts["203.0.113.7 571"] == "answered")
        #expect(verdicts["198.51.100.23 571"] == "rejected")
        #expect(verdicts["198.51.100.99 571"] == "rejected")
        #expect(verdicts["2001:db8:ffff::5 519"] == "unanswered")
        #expect(verdicts["192.0.2.66 571"] == "unanswered")
        #expect(scanners == ["192.0.2.66"])
        #expect(result.stderr.contains("571/tcp"))
    }
}
