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
        // The summary's top sources: the scanner's six watched flows first.
        let top = result.stderr.components(separatedBy: "top sources (flows to watched ports):\n").last ?? ""
        #expect(top.split(separator: "\n").first?.split(separator: " ").map(String.init) == ["192.0.2.66", "6"])
        #expect(top.split(separator: "\n").count == 5)

        // --quiet: no summary, the same records.
        let quiet = try Tool.ghostport(["read", "--quiet", Self.path])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(quiet.lines.filter { !$0.contains("\"stats\"") } == result.lines.filter { !$0.contains("\"stats\"") })
    }
}
