import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What the live tests need from the machine: root, and a few tools. Every test names the tools
/// it uses; when one is missing, or the tests do not run as root, the test is skipped and the
/// reason printed.
enum Live {
    /// The repository root, from this file's path (Tests/LiveTests/LiveSupport.swift).
    static let repository: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The `ghostport` binary SwiftPM built next to the test bundle.
    static let ghostport: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("ghostport").path
    }()

    /// A watched port (43/udp, nicname) that TrafficGen's scenarios leave alone: a replay's marker.
    static let markerPort = 43

    /// A TrafficGen scenario written into `directory` as `name.pcap`, with its truth.
    static func scenario(_ name: String, seed: UInt64, packets: Int, in directory: TempDirectory) throws
        -> (path: String, truth: Scenario.Truth) {
        let truth = try Scenario(Scenario.Configuration(seed: seed, packets: packets)).write(to: directory.path, name: name)
        return (directory.file(name + ".pcap"), truth)
    }

    /// The absolute path of `tool` on the PATH (plus the sbin directories), or nil.
    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/" + tool) {
            return directory + "/" + tool
        }
        return nil
    }

    /// Why the tests cannot run here, or nil when they can.
    static func unmet(_ tools: [String]) -> String? {
        var reasons: [String] = []
        if geteuid() != 0 { reasons.append("needs root (network namespaces, veth pairs, live capture)") }
        let missing = tools.filter { which($0) == nil }
        if !missing.isEmpty { reasons.append("missing tool(s): \(missing.joined(separator: ", "))") }
        if !FileManager.default.isExecutableFile(atPath: ghostport) { reasons.append("no ghostport binary at \(ghostport)") }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    /// A trait that runs the test only as root with `tools` present (under CI always: there,
    /// what is missing fails the test, see `Prerequisite`); the comment says why not.
    static func requires(_ tools: String..., extra: String? = nil) -> ConditionTrait {
        var reason = unmet(["ip", "python3"] + tools)
        if reason == nil, let extra { reason = extra }
        return Prerequisite.trait(reason)
    }

    /// Sleeps for `seconds`.
    static func sleep(_ seconds: Double) {
        Thread.sleep(forTimeInterval: seconds)
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
    @discardableResult
    static func wait(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            sleep(0.05)
        }
        return condition()
    }
}

/// What a finished command left.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A child process whose output goes to files (never pipes, so it cannot stall on a full pipe).
final class Child {
    let process = Process()
    let outPath: String
    let errPath: String
    private let directory: TempDirectory
    private var handles: [FileHandle] = []

    init(_ arguments: [String], environment: [String: String]? = nil) throws {
        directory = try TempDirectory()
        outPath = directory.file("stdout")
        errPath = directory.file("stderr")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/null"))
        handles = [out, err, input]
        let executable = arguments[0].hasPrefix("/") ? arguments[0] : (Live.which(arguments[0]) ?? arguments[0])
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        try process.run()
    }

    deinit {
        kill()
        for handle in handles { try? handle.close() }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { if process.isRunning { _ = Glibc.kill(pid, number) } }

    /// Waits up to `timeout` seconds for the exit; its status, or nil when it still runs.
    func wait(timeout: Double) -> Int32? {
        guard Live.wait(timeout: timeout, { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }

    /// SIGKILL when it still runs (cleanup after a failed test).
    func kill() {
        if process.isRunning {
            _ = Glibc.kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Runs `arguments` to the end, killing it after `timeout` seconds.
    static func run(_ arguments: [String], timeout: Double = 30) throws -> CommandResult {
        let child = try Child(arguments)
        let status = child.wait(timeout: timeout)
        if status == nil { child.kill() }
        return CommandResult(status: status ?? -1, stdout: child.stdout, stderr: child.stderr)
    }
}

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs a command that must succeed (set-up steps).
@discardableResult
func sh(_ arguments: String..., timeout: Double = 30) throws -> String {
    let result = try Child.run(arguments, timeout: timeout)
    guard result.status == 0 else {
        throw CommandFailure(description: "\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
    }
    return result.stdout
}

/// One network namespace (the peer) joined to the root namespace by a veth pair, with addresses
/// 10.250.N.1/24 (root end) and 10.250.N.2/24 (peer end), and fd00:250:N::1/2 /64. Everything
/// the tests send stays on this pair. `teardown()` removes both.
final class VethPair {
    let namespace: String
    let rootEnd: String
    let peerEnd: String
    let subnet: Int
    var rootAddress: String { "10.250.\(subnet).1" }
    var peerAddress: String { "10.250.\(subnet).2" }
    var rootAddress6: String { "fd00:250:\(subnet)::1" }
    var peerAddress6: String { "fd00:250:\(subnet)::2" }
    private var children: [Child] = []
    private var removed = false

    init() throws {
        let tag = String(UInt32.random(in: 0 ..< 0x100_0000), radix: 16).leftPadded(to: 6)
        namespace = "gpt-\(tag)"
        rootEnd = "gpt\(tag)r"
        peerEnd = "gpt\(tag)p"
        let used = (try? sh("ip", "-4", "-o", "addr", "show")) ?? ""
        var subnet = Int.random(in: 1 ... 254)
        for _ in 0 ..< 300 where used.contains("10.250.\(subnet).") { subnet = Int.random(in: 1 ... 254) }
        self.subnet = subnet
        do {
            try sh("ip", "netns", "add", namespace)
            try create()
        } catch {
            teardown()
            throw error
        }
    }

    deinit { teardown() }

    /// Makes the veth pair (again, after `deleteLink`) with its addresses, both ends up.
    func create() throws {
        try sh("ip", "link", "add", rootEnd, "type", "veth", "peer", "name", peerEnd, "netns", namespace)
        try sh("ip", "addr", "add", "\(rootAddress)/24", "dev", rootEnd)
        try sh("ip", "-6", "addr", "add", "\(rootAddress6)/64", "dev", rootEnd, "nodad")
        try sh("ip", "link", "set", rootEnd, "up")
        try sh("ip", "netns", "exec", namespace, "ip", "addr", "add", "\(peerAddress)/24", "dev", peerEnd)
        try sh("ip", "netns", "exec", namespace, "ip", "-6", "addr", "add", "\(peerAddress6)/64", "dev", peerEnd, "nodad")
        try sh("ip", "netns", "exec", namespace, "ip", "link", "set", peerEnd, "up")
        try sh("ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up")
    }

    /// Deletes the veth pair (both ends go).
    func deleteLink() throws { try sh("ip", "link", "del", rootEnd) }

    /// Runs `arguments` inside the peer namespace, to the end.
    @discardableResult
    func run(_ arguments: [String], timeout: Double = 30) throws -> CommandResult {
        try Child.run(["ip", "netns", "exec", namespace] + arguments, timeout: timeout)
    }

    /// Starts a sensor on the root end with `arguments`, replays `capture` into it from the peer
    /// at `pps`, then sends a marker (one datagram to `Live.markerPort`, a watched port no
    /// scenario uses) and stops the sensor once the marker's alert is written: it has then seen
    /// everything sent before, however slow the machine. Returns the stopped sensor (EVE file,
    /// log, its exit status checked) and what tcpreplay said.
    func replay(_ capture: String, pps: Int = 5_000, into arguments: [String] = ["--allow-root"]) throws
        -> (sensor: Sensor, tcpreplay: CommandResult) {
        let sensor = try Sensor(interface: rootEnd, arguments)
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        let replay = try run(["tcpreplay", "-i", peerEnd, "--pps", String(pps), capture], timeout: 600)
        #expect(replay.status == 0, "tcpreplay: \(replay.stdout) \(replay.stderr)")
        try sensor.stopAfterMarker(from: self)
        return (sensor, replay)
    }

    /// Starts `arguments` inside the peer namespace; killed at teardown if it still runs.
    func start(_ arguments: [String]) throws -> Child {
        let child = try Child(["ip", "netns", "exec", namespace] + arguments)
        children.append(child)
        return child
    }

    /// Starts `arguments` in the root namespace; killed at teardown if it still runs.
    func startHere(_ arguments: [String]) throws -> Child {
        let child = try Child(arguments)
        children.append(child)
        return child
    }

    /// Kills what it started, deletes the veth pair and the namespace. Safe to call twice.
    func teardown() {
        guard !removed else { return }
        removed = true
        for child in children { child.kill() }
        children.removeAll()
        _ = try? Child.run(["ip", "link", "del", rootEnd], timeout: 10)
        _ = try? Child.run(["ip", "netns", "del", namespace], timeout: 10)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// `ghostport run` as a child process writing EVE to a file in its own directory.
final class Sensor {
    let child: Child
    let directory: TempDirectory
    let eve: String

    /// Starts `ghostport run -i INTERFACE -o DIR/eve.json --stats-interval 0 ARGUMENTS...`, without
    /// the live alert limit (100 per source a minute), which these tests' one-source traffic would
    /// reach; `AlertFloodTests` tests the limit.
    init(interface: String, _ arguments: [String] = ["--allow-root"], directory: TempDirectory? = nil,
         environment: [String: String]? = nil) throws {
        self.directory = try directory ?? TempDirectory()
        eve = self.directory.file("eve.json")
        child = try Child([Live.ghostport, "run", "-i", interface, "-o", eve, "--stats-interval", "0",
                           "--alert-limit-per-source", "0", "--alert-limit-per-sid", "0"] + arguments,
                          environment: environment)
    }

    deinit { child.kill() }

    var stderr: String { child.stderr }

    /// Waits until standard error says the capture runs.
    func waitUntilCapturing(timeout: Double = 60) -> Bool {
        Live.wait(timeout: timeout) { stderr.contains("capturing on") || !child.isRunning }
            && child.isRunning
    }

    /// Waits until standard error contains `text`.
    @discardableResult
    func waitForLog(_ text: String, timeout: Double) -> Bool {
        Live.wait(timeout: timeout) { stderr.contains(text) }
    }

    /// Sends a marker from `pair`'s peer (one datagram to `Live.markerPort`, a watched port no
    /// scenario uses) and stops the sensor once the marker's alert is written: it has then seen
    /// everything sent before, however slow the machine. Expects exit status 0.
    func stopAfterMarker(from pair: VethPair, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try Traffic.udp(from: pair, to: Live.markerPort, count: 1, rate: 10, base: 64_000) == 1,
                sourceLocation: sourceLocation)
        #expect(Live.wait(timeout: 120) { EVEFile(path: eve).alerts.contains { $0.destPort == Live.markerPort } },
                "the marker's alert never came: \(stderr)", sourceLocation: sourceLocation)
        #expect(stop() == 0, "exit status; stderr: \(stderr)", sourceLocation: sourceLocation)
    }

    /// SIGTERM, then the exit status (nil: still running a minute later, then killed).
    func stop() -> Int32? {
        child.signal(SIGTERM)
        let status = child.wait(timeout: 60)
        if status == nil { child.kill() }
        return status
    }
}

/// EVE records read back from a file.
struct EVEFile {
    var lines: [String] = []
    var records: [[String: Any]] = []
    /// Lines that are not whole JSON objects.
    var broken: [String] = []

    init(path: String) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lines.append(String(line))
        }
        if lines.last == "" { lines.removeLast() }
        for line in lines {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] {
                records.append(object)
            } else {
                broken.append(line)
            }
        }
        // A file must end with a newline: a last line without one is cut.
        if !text.isEmpty && !text.hasSuffix("\n") { broken.append("(no final newline) " + (lines.last ?? "")) }
    }

    var alerts: [[String: Any]] { records.filter { $0["event_type"] as? String == "alert" } }
    var flows: [[String: Any]] { records.filter { $0["event_type"] as? String == "flow" } }
    var stats: [[String: Any]] { records.filter { $0["event_type"] as? String == "stats" } }

    func alerts(sid: Int) -> [[String: Any]] { alerts.filter { $0.sid == sid } }
}

extension Dictionary where Key == String, Value == Any {
    var sid: Int? { (self["alert"] as? [String: Any])?["signature_id"] as? Int }
    var verdict: String? { (self["ghostport"] as? [String: Any])?["verdict"] as? String }
    var destPort: Int? { self["dest_port"] as? Int }
    var srcPort: Int? { self["src_port"] as? Int }
    var proto: String? { (self["proto"] as? String)?.lowercased() }
    var eventType: String? { self["event_type"] as? String }
    /// A stats record's capture counter: Suricata's `stats.capture.NAME` (kernel_packets,
    /// kernel_drops, kernel_ifdrops), else ghostport's own `ghostport.stats.capture.NAME` (ring_drops, ring_waits).
    func capture(_ name: String) -> Int? {
        ((self["stats"] as? [String: Any])?["capture"] as? [String: Any])?[name] as? Int
            ?? ownStats("capture", name)
    }

    /// `ghostport.stats.SECTION.NAME` of a stats record.
    func ownStats(_ section: String, _ name: String) -> Int? {
        ((((self["ghostport"] as? [String: Any])?["stats"] as? [String: Any])?[section]) as? [String: Any])?[name] as? Int
    }
}

/// Small traffic generators, run with `python3 -c` inside a namespace.
enum Traffic {
    /// `DST PORT COUNT RATE SPORT_BASE`: COUNT UDP datagrams, each from its own source port
    /// (SPORT_BASE + i), paced at RATE per second; SIGTERM stops it early. Prints how many it sent.
    static let udpFlows = """
        import signal, socket, sys, time
        dst, port, n, rate, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
        # The test process may block SIGTERM, and a child inherits that mask.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        start = time.monotonic()
        sent = 0
        for i in range(n):
            if stopping:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", base + i))
            s.sendto(b"ghostport live test", (dst, port))
            s.close()
            sent += 1
            delay = start + (i + 1) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        print(sent, flush=True)
        """

    /// UDP flows to `port` from `count` source ports starting at `base`, run in `pair`'s namespace.
    static func udp(from pair: VethPair, to port: Int, count: Int, rate: Double, base: Int) throws -> Int {
        let result = try pair.run(["python3", "-c", udpFlows, pair.rootAddress, String(port), String(count), String(rate),
                                   String(base)], timeout: Double(count) / rate + 20)
        return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// The same, in the background.
    static func udpInBackground(from pair: VethPair, to port: Int, count: Int, rate: Double, base: Int) throws -> Child {
        try pair.start(["python3", "-c", udpFlows, pair.rootAddress, String(port), String(count), String(rate), String(base)])
    }

    /// UDP flows to `port` (one per source port from `base` up, at `rate` per second) that go on
    /// until `stop()` says how many were sent: a test ties what it checks to events (a log line,
    /// an alert), never to how long its traffic lasts on a busy machine.
    final class Stream {
        private let child: Child

        init(from pair: VethPair, to port: Int, rate: Double, base: Int) throws {
            child = try Traffic.udpInBackground(from: pair, to: port, count: 65_535 - base, rate: rate, base: base)
        }

        deinit { child.kill() }

        /// Stops the flows and returns how many were sent (-1 when the sender failed).
        func stop() -> Int {
            child.signal(SIGTERM)
            guard child.wait(timeout: 30) == 0 else { return -1 }
            return Int(child.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }
}
