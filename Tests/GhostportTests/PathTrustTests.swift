import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `run` (the live sensor) refuses a config or rules path that others could change, before it
/// opens anything; `read` (an analyst's tool) says so and loads it. The reload side is in
/// LiveTests (`reloadRefusesRulesWritableByOthers`).
@Suite struct PathTrustTests {
    static let rule = "alert udp any any -> any 571 (msg:\"trust test\"; sid:1; rev:1;)\n"
    /// So that the trust of the files is the only question --check-config has (CheckConfigTests
    /// has the others): an interface that exists, no account to drop to.
    static let elsewhereFine = ["-i", "lo", "--allow-root"]

    @Test func runRefusesRulesWritableByOthers() throws {
        let dir = try TempDirectory()
        chmod(dir.path, 0o755)
        let rules = dir.file("local.rules")
        try Self.rule.write(toFile: rules, atomically: false, encoding: .utf8)
        chmod(rules, 0o666)
        let result = try Tool.ghostport(["run", "--check-config", "--rules", rules] + Self.elsewhereFine)
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(result.errorLines.first == "ghostport: \(rules): writable by others (mode 0666); refusing to load")

        chmod(rules, 0o644)
        let fixed = try Tool.ghostport(["run", "--check-config", "--rules", rules] + Self.elsewhereFine)
        #expect(!fixed.stderr.contains("refusing to load"), "\(fixed.stderr)")
        if geteuid() == 0 {  // without root, capturing (without CAP_NET_RAW) is the one problem left
            #expect(fixed.status == 0, "\(fixed.stderr)")
            #expect(fixed.stdout.hasPrefix("configuration OK"))
        }
    }

    /// A rules directory others can write: anyone could drop a .rules file into it.
    @Test func runRefusesARulesDirectoryWritableByOthers() throws {
        let dir = try TempDirectory()
        try Self.rule.write(toFile: dir.file("local.rules"), atomically: false, encoding: .utf8)
        chmod(dir.path, 0o777)
        let result = try Tool.ghostport(["run", "--check-config", "--rules", dir.path] + Self.elsewhereFine)
        #expect(result.status == 2)
        #expect(result.stderr.contains("ghostport: \(dir.path): writable by others (mode 0777); refusing to load\n"))
    }

    @Test func runRefusesAConfigWritableByOthers() throws {
        let dir = try TempDirectory()
        chmod(dir.path, 0o755)
        let rules = dir.file("local.rules")
        try Self.rule.write(toFile: rules, atomically: false, encoding: .utf8)
        let config = dir.file("ghostport.yaml")
        try "rules: [\(rules)]\noutputs:\n  eve:\n    path: \(dir.file("eve.json"))\n".write(toFile: config, atomically: false, encoding: .utf8)
        chmod(config, 0o646)
        let result = try Tool.ghostport(["run", "--check-config", "--config", config] + Self.elsewhereFine)
        #expect(result.status == 2)
        #expect(result.errorLines.first == "ghostport: \(config): writable by others (mode 0646); refusing to load")
        chmod(config, 0o640)
        let fixed = try Tool.ghostport(["run", "--check-config", "--config", config] + Self.elsewhereFine)
        #expect(!fixed.stderr.contains("refusing to load"), "\(fixed.stderr)")
        if geteuid() == 0 { #expect(fixed.status == 0, "\(fixed.stderr)") }
    }

    @Test func readWarnsAndLoads() throws {
        let dir = try TempDirectory()
        let rules = dir.file("local.rules")
        try Self.rule.write(toFile: rules, atomically: false, encoding: .utf8)
        chmod(rules, 0o666)
        let capture = try dir.write("empty.pcap", CaptureFile())
        let result = try Tool.ghostport(["read", "--quiet", "--rules", rules, capture])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "ghostport: \(rules): writable by others (mode 0666); loading it anyway (run would refuse it)\n")
        #expect(result.lines.count == 1, "the stats record")
    }
}
