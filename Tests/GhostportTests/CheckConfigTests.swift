import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `ghostport run --check-config` (`-T`) checks what the sensor needs before it captures, for
/// the account it will run as: each problem on its own line, exit 2; all well, one line on
/// standard output, exit 0. Run as root, as an operator checks a service's configuration (the
/// judgement for the account the sensor drops to is the point).
@Suite(.serialized, Prerequisite.trait(Prerequisite.root.map { "\($0): the checks judge files for the account root drops to" }))
struct CheckConfigTests {
    static let rule = "alert udp any any -> any 571 (msg:\"check-config test\"; sid:1; rev:1;)\n"

    /// A directory for the test: rules in it, readable by all, owned by root.
    static func setUp() throws -> (dir: TempDirectory, rules: String) {
        try Prerequisite.require(Prerequisite.root)
        let dir = try TempDirectory()
        chmod(dir.path, 0o755)
        let rules = dir.file("local.rules")
        try rule.write(toFile: rules, atomically: false, encoding: .utf8)
        return (dir, rules)
    }

    static func config(_ dir: TempDirectory, _ text: String) throws -> String {
        let path = dir.file("ghostport.yaml")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o640)
        return path
    }

    /// The three the issue found: an EVE path in a missing directory, an unknown user and an
    /// interface that does not exist, each named, nothing else said.
    @Test func namesEveryProblemOnItsOwnLine() throws {
        let (dir, rules) = try Self.setUp()
        let config = try Self.config(dir, """
            interface: nosuch0
            rules: [\(rules)]
            outputs:
              eve:
                path: \(dir.path)/missing/eve.json
            user: nosuchuser9
            """)
        let result = try Tool.ghostport(["run", "-T", "--config", config])
        #expect(result.status == 2)
        #expect(result.stdout == "")
        // Without the account, the outputs cannot be judged for it: the user's line stands for them.
        #expect(result.errorLines == [
            "ghostport: interface: nosuch0: no such interface (ip link lists them)",
            "ghostport: user: nosuchuser9: no such user (create it, as the package's sysusers.d entry does, or name another with --user)",
            "ghostport: configuration: 2 problems",
        ])

        let named = try Tool.ghostport(["run", "--check-config", "--config", config, "--user", "nobody", "-i", "lo"])
        #expect(named.status == 2)
        #expect(named.errorLines == [
            "ghostport: outputs.eve.path: \(dir.path)/missing/eve.json: directory \(dir.path)/missing does not exist",
            "ghostport: configuration: 1 problem",
        ])
    }

    /// Workers: the count in the all-well line; with a listener baseline, a problem, and `run`
    /// itself refuses to start with it (exit 2, the same line).
    @Test func workers() throws {
        let (dir, rules) = try Self.setUp()
        let config = try Self.config(dir, """
            interface: lo
            rules: [\(rules)]
            capture:
              workers: 3
            outputs:
              eve:
                path: \(dir.path)/eve.json
            """)
        let fine = try Tool.ghostport(["run", "-T", "--config", config, "--allow-root"])
        #expect(fine.status == 0 && fine.stdout.hasSuffix(" with 3 workers\n"), "\(fine.stdout) \(fine.stderr)")
        let baseline = dir.file("listeners.txt")
        try "".write(toFile: baseline, atomically: false, encoding: .utf8)
        let message = "capture.workers 2: a listener baseline (baseline.file) is kept by one engine; run 1 worker with it"
        let line = "ghostport: " + message
        let checked = try Tool.ghostport(["run", "-T", "--config", config, "--allow-root", "--workers", "2"])
        #expect(checked.status == 0, "no baseline yet: \(checked.stderr)")
        let withBaseline = try Self.config(dir, """
            interface: lo
            rules: [\(rules)]
            capture:
              workers: 2
            baseline:
              file: \(baseline)
            outputs:
              eve:
                path: \(dir.path)/eve.json
            """)
        let refused = try Tool.ghostport(["run", "-T", "--config", withBaseline, "--allow-root"])
        #expect(refused.status == 2 && refused.errorLines.contains(line), "\(refused.stderr)")
        let started = try Tool.ghostport(["run", "--config", withBaseline, "--allow-root"])
        #expect(started.status == 2 && started.stderr.contains(message), "\(started.stderr)")
    }

    /// The outputs are judged for the account the sensor drops to, not for root running the check.
    @Test func judgesTheOutputsForTheSensorsAccount() throws {
        let (dir, rules) = try Self.setUp()
        let eve = dir.file("log/eve.json")
        mkdir(dir.file("log"), 0o755)  // root's: nobody may not create files in it
        let arguments = ["run", "-T", "--rules", rules, "-i", "lo", "-o", eve]
        let refused = try Tool.ghostport(arguments + ["--user", "nobody"])
        #expect(refused.status == 2)
        #expect(refused.errorLines == [
            "ghostport: outputs.eve.path: \(eve): user nobody may not create files in \(dir.file("log"))",
            "ghostport: configuration: 1 problem",
        ])
        // Root keeping root may.
        let asRoot = try Tool.ghostport(arguments + ["--allow-root"])
        #expect(asRoot.status == 0, "\(asRoot.stderr)")
        #expect(asRoot.stdout == "configuration OK: built-in defaults, 1 rules, capturing on lo as root\n")

        // Given to nobody, the directory passes; a directory above it nobody cannot enter fails.
        let nobody = getpwnam("nobody")!.pointee
        chown(dir.file("log"), nobody.pw_uid, nobody.pw_gid)
        let given = try Tool.ghostport(arguments + ["--user", "nobody"])
        #expect(given.status == 0, "\(given.stderr)")
        #expect(given.stdout.hasSuffix("capturing on lo as nobody\n"))
        chmod(dir.path, 0o700)
        let shut = try Tool.ghostport(arguments + ["--user", "nobody"])
        #expect(shut.errorLines.first == "ghostport: outputs.eve.path: \(eve): user nobody may not enter \(dir.path)")
        chmod(dir.path, 0o755)

        // An existing file nobody may not write, and a directory where the file should be.
        try Data().write(to: URL(fileURLWithPath: eve))
        chown(eve, 0, 0)
        chmod(eve, 0o644)
        let file = try Tool.ghostport(arguments + ["--user", "nobody"])
        #expect(file.errorLines.first == "ghostport: outputs.eve.path: \(eve): not writable by user nobody")
        unlink(eve)
        mkdir(eve, 0o755)
        let directory = try Tool.ghostport(arguments + ["--user", "nobody"])
        #expect(directory.errorLines.first == "ghostport: outputs.eve.path: \(eve): is a directory")
    }

    /// Syslog: a socket nobody serves (a logger that died leaves its socket file) and a missing
    /// one are problems; a served one passes.
    @Test func checksTheSyslogSocketIsServed() throws {
        let (dir, rules) = try Self.setUp()
        let socketPath = dir.file("log.sock")
        func check() throws -> ProcessOutput {
            let config = try Self.config(dir, """
                interface: lo
                rules: [\(rules)]
                outputs:
                  eve:
                    enabled: false
                  syslog:
                    enabled: true
                    socket: \(socketPath)
                allow_root: true
                """)
            return try Tool.ghostport(["run", "-T", "--config", config])
        }
        let missing = try check()
        #expect(missing.status == 2)
        #expect(missing.errorLines.first == "ghostport: outputs.syslog.socket: \(socketPath): no such socket (is a syslog daemon running?)")

        let server = try #require(DatagramListener(socketPath))
        let served = try check()
        #expect(served.status == 0, "\(served.stderr)")
        server.close()  // the file stays, nobody behind it
        let dead = try check()
        #expect(dead.status == 2)
        #expect(dead.errorLines.first == "ghostport: outputs.syslog.socket: \(socketPath): Connection refused (is a syslog daemon serving it?)")
    }

    /// The evidence directory may be created (one level); the textfile's directory must exist.
    @Test func checksTheEvidenceAndTextfileDirectories() throws {
        let (dir, rules) = try Self.setUp()
        try Data().write(to: URL(fileURLWithPath: dir.file("plain")))
        let config = try Self.config(dir, """
            interface: lo
            rules: [\(rules)]
            outputs:
              eve:
                enabled: false
              evidence:
                dir: \(dir.file("plain"))/evidence
            stats:
              prometheus_textfile: \(dir.path)/textfile/ghostport.prom
            allow_root: true
            """)
        let result = try Tool.ghostport(["run", "-T", "--config", config])
        #expect(result.status == 2)
        #expect(result.errorLines == [
            "ghostport: outputs.evidence.dir: \(dir.file("plain"))/evidence: \(dir.file("plain")) is not a directory",
            "ghostport: stats.prometheus_textfile: directory \(dir.path)/textfile does not exist",
            "ghostport: configuration: 2 problems",
        ])
        mkdir(dir.file("textfile"), 0o755)
        let fixed = try Tool.ghostport(["run", "-T", "--config", config, "--evidence", dir.file("evidence")])
        #expect(fixed.status == 0, "\(fixed.stderr)")
    }

    /// Without root, capturing needs CAP_NET_RAW: the check says so (setpriv drops to nobody
    /// with no capability).
    @Test(Prerequisite.trait(Prerequisite.tools("setpriv", packages: ["setpriv": "util-linux"])))
    func saysWhenItCannotCapture() throws {
        try Prerequisite.require(Prerequisite.tools("setpriv", packages: ["setpriv": "util-linux"]))
        let (dir, rules) = try Self.setUp()
        // A copy nobody can reach wherever the checkout is (a home directory may be closed).
        let binary = dir.file("ghostport")
        try FileManager.default.copyItem(atPath: Tool.ghostport, toPath: binary)
        chmod(binary, 0o755)
        let nobody = getpwnam("nobody")!.pointee
        let result = try Tool.run(Prerequisite.which("setpriv")!, [
            "--reuid=\(nobody.pw_uid)", "--regid=\(nobody.pw_gid)", "--clear-groups", "--inh-caps=-all",
            // Under .ci/run's AddressSanitizer build, no leak check at exit for this copy: it
            // runs as nobody without capabilities, and the exit status is what this test reads.
            "/usr/bin/env", "ASAN_OPTIONS=detect_leaks=0", binary, "run", "-T", "--rules", rules, "-i", "lo",
        ])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.errorLines == [
            "ghostport: capture: running as nobody without CAP_NET_RAW: capturing needs root or that capability",
            "ghostport: configuration: 1 problem",
        ])
    }
}
