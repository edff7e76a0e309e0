import Foundation
import Testing
import TestSupport

/// Where `read` and the registry commands find the shipped rules when no path is given.
@Suite("finding the shipped rules")
struct ShippedRulesTests {
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/demo.pcap").path

    @Test("run from / (not the source tree), the binary still finds the tree's rules and registry")
    func fromTheRoot() throws {
        let read = try GoldenRun.run(Tool.ghostport, ["read", "--quiet", Self.demo], in: "/")
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout.contains("\"signature_id\":9005710"))
        let list = try GoldenRun.run(Tool.ghostport, ["rules", "list"], in: "/")
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("571    tcp    meter"))
    }

    @Test("nowhere to be found: one line naming every place searched, exit 2")
    func notFound() throws {
        let dir = try TempDirectory()
        let read = try GoldenRun.run(Tool.ghostport, ["read", Self.demo], in: dir.path,
                                     environment: ["GHOSTPORT_RULES": dir.path + "/none"])
        #expect(read.status == 2)
        #expect(read.stderr == "ghostport: no shipped rules found (abandoned-ports.rules in \(dir.path)/none); "
                + "name a rules file or directory with --rules PATH, or set GHOSTPORT_RULES\n")
        let list = try GoldenRun.run(Tool.ghostport, ["rules", "list"], in: dir.path,
                                     environment: ["GHOSTPORT_RULES": dir.path + "/none"])
        #expect(list.status == 2)
        #expect(list.stderr.contains("no shipped rules found") && list.stderr.contains("--registry PATH"))
        // GHOSTPORT_RULES pointing at a copy is used, registry and all.
        try FileManager.default.createDirectory(atPath: dir.file("copy"), withIntermediateDirectories: true)
        let tree = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("rules").path
        for name in ["abandoned-ports.rules", "registry.tsv", "classification.config"] {
            try FileManager.default.copyItem(atPath: tree + "/" + name, toPath: dir.file("copy/" + name))
        }
        let copied = try GoldenRun.run(Tool.ghostport, ["rules", "list", "--proto", "sctp"], in: "/",
                                       environment: ["GHOSTPORT_RULES": dir.file("copy")])
        #expect(copied.status == 0 && copied.stdout.contains("sctp"), "\(copied.stderr)")
    }
}
