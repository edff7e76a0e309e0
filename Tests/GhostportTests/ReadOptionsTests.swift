import Foundation
import Testing
import TestSupport

/// `read`'s command line as tcpdump's and Suricata's users type it.
@Suite("read: the command line")
struct ReadOptionsTests {
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/demo.pcap").path

    @Test("-r FILE and -o - are the positional file and standard output")
    func readAndOutput() throws {
        let plain = try Tool.ghostport(["read", "--quiet", Self.demo])
        #expect(plain.status == 0 && plain.lines.count > 10)
        let dashR = try Tool.ghostport(["read", "--quiet", "-r", Self.demo, "-o", "-"])
        #expect(dashR.status == 0, "\(dashR.stderr)")
        #expect(dashR.stdout == plain.stdout)
        // --read is -r; with a positional file too, -r's come first.
        let long = try Tool.ghostport(["read", "--quiet", "--read", Self.demo, "-"], stdinPath: Self.demo)
        #expect(long.status == 0 && long.stderr.isEmpty, "\(long.stderr)")
        // The same flows again from standard input: no new alert, every flow record once.
        #expect(long.stdout.contains("\"pcap_filename\":\"\(Self.demo)\""))
        #expect(long.lines.filter { $0.contains("\"event_type\":\"flow\"") }.count
                == plain.lines.filter { $0.contains("\"event_type\":\"flow\"") }.count)
        let none = try Tool.ghostport(["read", "--quiet"])
        #expect(none.status == 2 && none.stderr.contains("name at least one capture file"))
    }

    @Test("--version names the release, libpcap and the compiler")
    func version() throws {
        let result = try Tool.ghostport(["--version"])
        #expect(result.status == 0)
        let line = try #require(result.lines.first)
        #expect(line.hasPrefix("ghostport 0.") && line.contains("libpcap version 1.") && line.contains("built by Swift 6"), "\(line)")
    }
}
