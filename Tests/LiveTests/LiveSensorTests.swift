import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `ghostport run` on real parts: a network namespace per test joined to the root namespace by a
/// veth pair, the sensor capturing the root end, real kernels answering (RST, ICMP port
/// unreachable, a listener). Root only; each test removes what it made.
@Suite("ghostport run, live", .serialized)
struct LiveSensorTests {
    /// Every line of the file parses; the last record is the final stats with no drops.
    private func expectCleanEnd(_ eve: EVEFile, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(eve.broken.isEmpty, "lines that are not whole JSON: \(eve.broken.prefix(3))", sourceLocation: sourceLocation)
        #expect(eve.records.last?.eventType == "stats", "the last record is not stats", sourceLocation: sourceLocation)
        let stats = eve.records.last ?? [:]
        #expect(stats.capture("kernel_drops") == 0, "kernel_drops \(String(describing: stats.capture("kernel_drops")))",
                sourceLocation: sourceLocation)
        #expect(stats.capture("ring_drops") == 0, "ring_drops \(String(describing: stats.capture("ring_drops")))",
                sourceLocation: sourceLocation)
    }

    // MARK: 1. probes and verdicts

    /// Probes from the peer namespace to the root end: 571/tcp (the kernel resets), 571/udp (ICMP
    /// port unreachable), 519/tcp with a listener (answered), 517/udp to a socket that never
    /// replies (unanswered), and 571/tcp over IPv6 (reset).
    @Test(Live.requires())
    func probesAndVerdicts() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let sensor = try Sensor(interface: pair.rootEnd)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")

        // A TCP listener on 519 and a silent UDP socket on 517, bound to the root end's address only.
        let listener = try pair.startHere(["python3", "-c", """
            import socket, sys, time
            t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((sys.argv[1], 519)); t.listen(4); t.settimeout(15)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], 517))
            print("ready", flush=True)
            c, _ = t.accept(); c.recv(100); c.close()
            time.sleep(15)
            """, pair.rootAddress])
        #expect(Live.wait(timeout: 60) { listener.stdout.contains("ready") }, "listener: \(listener.stderr)")

        let probes = try pair.run(["python3", "-c", """
            import socket, sys
            dst, dst6 = sys.argv[1], sys.argv[2]
            def tcp(family, address, port):
                s = socket.socket(family, socket.SOCK_STREAM); s.settimeout(3)
                try:
                    s.connect((address, port)); s.sendall(b"hello"); print(port, "tcp connected")
                except ConnectionRefusedError:
                    print(port, "tcp refused")
                s.close()
            def udp(port):
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(1.5)
                u.connect((dst, port)); u.send(b"probe")
                try:
                    u.recv(100); print(port, "udp answered")
                except ConnectionRefusedError:
                    print(port, "udp refused")
                except socket.timeout:
                    print(port, "udp silent")
            tcp(socket.AF_INET, dst, 571)
            udp(571)
            tcp(socket.AF_INET, dst, 519)
            udp(517)
            tcp(socket.AF_INET6, dst6, 571)
            """, pair.rootAddress, pair.rootAddress6], timeout: 20)
        #expect(probes.stdout.contains("571 tcp refused") && probes.stdout.contains("571 udp refused")
                && probes.stdout.contains("519 tcp connected") && probes.stdout.contains("517 udp silent"),
                "the kernels did not answer as planned: \(probes.stdout) \(probes.stderr)")
        Live.sleep(0.5)
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")

        let eve = EVEFile(path: sensor.eve)
        expectCleanEnd(eve)
        for sid in [9005710, 9005712, 9005190, 9005191, 9005172] {
            #expect(eve.alerts(sid: sid).count >= 1, "no alert with sid \(sid)")
        }
        // 571/tcp probes: one over IPv4, one over IPv6.
        #expect(eve.alerts(sid: 9005710).count == 2)
        func verdicts(_ port: Int, _ proto: String, ipVersion: Int? = nil) -> [String] {
            eve.flows.filter { flow in
                flow.destPort == port && flow.proto == proto && (ipVersion == nil || flow["ip_v"] as? Int == ipVersion)
            }.compactMap(\.verdict)
        }
        #expect(verdicts(571, "tcp", ipVersion: 4) == ["rejected"])
        #expect(verdicts(571, "tcp", ipVersion: 6) == ["rejected"])
        #expect(verdicts(571, "udp") == ["rejected"])
        #expect(verdicts(519, "tcp") == ["answered"])
        #expect(verdicts(517, "udp") == ["unanswered"])
        let alertCount = (eve.stats.last?["stats"] as? [String: Any]).flatMap { ($0["detect"] as? [String: Any])?["alert"] as? Int }
        #expect(alertCount == eve.alerts.count, "stats alerts \(String(describing: alertCount)), alert records \(eve.alerts.count)")
    }

    // MARK: 2. tcpreplay at a fixed rate

    /// A TrafficGen scenario of 20,000 packets replayed at 5,000 packets/s from the peer namespace:
    /// every watched flow ends with the truth's verdict, the scanners are called scanners, and
    /// nothing is dropped.
    @Test(Live.requires("tcpreplay"))
    func tcpreplayAtFixedRate() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let work = try TempDirectory()
        let (capture, truth) = try Live.scenario("replay", seed: 7, packets: 20_000, in: work)

        let (sensor, replay) = try pair.replay(capture)

        let eve = EVEFile(path: sensor.eve)
        #expect(eve.broken.isEmpty)
        let stats = eve.records.last ?? [:]
        let kernelDrops = stats.capture("kernel_drops"), ringDrops = stats.capture("ring_drops")
        let sentLine = replay.stdout.split(separator: "\n").first { $0.contains("Actual:") } ?? ""
        print("tcpreplay --pps 5000: \(sentLine.trimmingCharacters(in: .whitespaces)); ghostport kernel_packets "
              + "\(stats.capture("kernel_packets") ?? -1), kernel_drops \(kernelDrops ?? -1), ring_drops \(ringDrops ?? -1)")
        let lines = (try? String(contentsOfFile: sensor.eve, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        let differences = TruthCheck.differences(truth, eve: lines, ignoring: [pair.peerAddress])
        let shown = differences.prefix(20).joined(separator: "\n")
        #expect(differences.isEmpty,
                "verdicts differ from the truth (kernel_drops \(kernelDrops ?? -1), ring_drops \(ringDrops ?? -1)):\n\(shown)")
        #expect(kernelDrops == 0)
        #expect(ringDrops == 0)
    }

    // MARK: syslog

    /// `ghostport run --syslog` with a text-format config: a real rsyslogd started by the test
    /// writes what it receives on local5, and the alerts arrive as Snort-like lines.
    @Test(Live.requires(), Prerequisite.trait(RsyslogDaemon.unavailableReason))
    func alertsReachRsyslog() throws {
        try Prerequisite.require(RsyslogDaemon.unavailableReason)
        let daemon = try RsyslogDaemon(facility: "local5")
        defer { daemon.stop() }
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let config = directory.file("ghostport.yaml")
        try "outputs:\n  syslog:\n    enabled: true\n    format: text\n".write(toFile: config, atomically: true, encoding: .utf8)
        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--config", config], directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        #expect(try Traffic.udp(from: pair, to: 571, count: 3, rate: 50, base: 41_000) == 3)
        let lines = daemon.waitForLines(3)
        #expect(sensor.stop() == 0)
        #expect(lines.count == 3, "rsyslog got: \(lines)")
        for line in lines {
            #expect(line.hasPrefix("err|local5|ghostport|[1:9005712:1] GHOSTPORT probe to abandoned port 571/udp (meter, udemon) "
                                   + "[Classification: Attempted Information Leak] [Priority: 3] {UDP} \(pair.peerAddress):"),
                    "\(line)")
            #expect(line.hasSuffix(" -> \(pair.rootAddress):571"), "\(line)")
        }
    }

    // MARK: 3. rotation

    /// `mv eve.json eve.json.1` and SIGHUP while UDP flows arrive: the sensor writes on in a new
    /// eve.json; between the two files no line is cut and every flow alerted once. The flows run
    /// from before the rotation until alerts reach the new file, whatever the machine's speed.
    @Test(Live.requires())
    func rotationUnderTraffic() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let sensor = try Sensor(interface: pair.rootEnd)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")

        let traffic = try Traffic.Stream(from: pair, to: 571, rate: 200, base: 30000)
        #expect(Live.wait(timeout: 60) { EVEFile(path: sensor.eve).alerts.count >= 100 }, "no alerts: \(sensor.stderr)")
        let rotated = sensor.eve + ".1"
        try FileManager.default.moveItem(atPath: sensor.eve, toPath: rotated)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("reopened", timeout: 60), "no reopen logged: \(sensor.stderr)")
        #expect(Live.wait(timeout: 60) { EVEFile(path: sensor.eve).alerts.count >= 100 }, "no alerts after the reopen")
        let flows = traffic.stop()
        #expect(flows > 200, "the traffic loop failed")
        func total() -> Int { EVEFile(path: rotated).alerts.count + EVEFile(path: sensor.eve).alerts.count }
        #expect(Live.wait(timeout: 60) { total() >= flows }, "alerts \(total()) of \(flows) flows")
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")

        #expect(FileManager.default.fileExists(atPath: sensor.eve), "no new eve.json after SIGHUP")
        let before = EVEFile(path: rotated), after = EVEFile(path: sensor.eve)
        #expect(before.broken.isEmpty, "cut lines in eve.json.1: \(before.broken.prefix(3))")
        #expect(after.broken.isEmpty, "cut lines in eve.json: \(after.broken.prefix(3))")
        #expect(before.alerts.count > 0 && after.alerts.count > 0,
                "alerts before rotation \(before.alerts.count), after \(after.alerts.count)")
        let ports = (before.alerts(sid: 9005712) + after.alerts(sid: 9005712)).compactMap(\.srcPort)
        #expect(ports.count == flows, "alerts \(ports.count) for \(flows) flows")
        #expect(Set(ports).count == flows, "distinct flows alerted \(Set(ports).count) of \(flows)")
        #expect(before.alerts.count + after.alerts.count == flows)
        #expect(after.records.last?.eventType == "stats")
    }

    // MARK: 4. reload

    /// SIGHUP with a broken rules file keeps the loaded rules and says where the error is; a fixed
    /// file with a new rule then loads and its sid alerts.
    @Test(Live.requires())
    func reloadKeepsOldRulesOnError() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let rules = directory.file("rules")
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        let rulesFile = rules + "/live.rules"
        let good = "alert udp any any -> any 571 (msg:\"live test 571/udp\"; sid:1; rev:1;)\n"
        try good.write(toFile: rulesFile, atomically: true, encoding: .utf8)

        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--rules", rules], directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        let traffic = try Traffic.Stream(from: pair, to: 571, rate: 100, base: 20000)
        func sid(_ sid: Int) -> Int { EVEFile(path: sensor.eve).alerts(sid: sid).count }
        // Waits, not sleeps: on a loaded machine the traffic generator can take seconds to start.
        #expect(Live.wait(timeout: 60) { sid(1) > 0 }, "no sid 1 alert before the reload")

        // Broken: an unknown keyword on line 2, column 59.
        try (good + "alert udp any any -> any 571 (msg:\"broken\"; sid:3; rev:1; nosuchkeyword:1;)\n")
            .write(toFile: rulesFile, atomically: true, encoding: .utf8)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("rules not reloaded", timeout: 60), "no reload failure logged: \(sensor.stderr)")
        let log = sensor.stderr
        #expect(log.contains(rulesFile + ":2:59: ") && log.contains("nosuchkeyword"),
                "the error does not say file:line:column and why: \(log)")
        let afterFailure = sid(1)
        #expect(Live.wait(timeout: 60) { sid(1) > afterFailure },
                "sid 1 stopped alerting after the failed reload (\(afterFailure) then \(sid(1)))")

        // Fixed, with a new rule on 39/udp.
        try (good + "alert udp any any -> any 39 (msg:\"live test 39/udp\"; sid:2; rev:1;)\n")
            .write(toFile: rulesFile, atomically: true, encoding: .utf8)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("rules reloaded: 2 rules", timeout: 60), "no reload logged: \(sensor.stderr)")
        let sent = try Traffic.udp(from: pair, to: 39, count: 5, rate: 50, base: 45000)
        #expect(sent == 5)
        #expect(Live.wait(timeout: 60) { sid(2) == 5 }, "sid 2 alerts: \(sid(2))")
        let afterReload = sid(1)
        #expect(Live.wait(timeout: 60) { sid(1) > afterReload }, "sid 1 stopped alerting after the reload")
        _ = traffic.stop()
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")
        #expect(EVEFile(path: sensor.eve).broken.isEmpty)
    }

    /// SIGHUP after the rules file became writable by others: refused with one line saying why,
    /// the loaded rules keep alerting; once the mode is fixed the next SIGHUP loads the new rules.
    @Test(Live.requires())
    func reloadRefusesRulesWritableByOthers() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let rules = directory.file("rules")
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        chmod(rules, 0o755)
        let rulesFile = rules + "/live.rules"
        let good = "alert udp any any -> any 571 (msg:\"live test 571/udp\"; sid:1; rev:1;)\n"
        try good.write(toFile: rulesFile, atomically: false, encoding: .utf8)
        chmod(rulesFile, 0o644)

        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--rules", rules], directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        let traffic = try Traffic.Stream(from: pair, to: 571, rate: 100, base: 20000)
        func sid(_ sid: Int) -> Int { EVEFile(path: sensor.eve).alerts(sid: sid).count }
        #expect(Live.wait(timeout: 60) { sid(1) > 0 }, "no sid 1 alert before the reload")

        try (good + "alert udp any any -> any 39 (msg:\"live test 39/udp\"; sid:2; rev:1;)\n")
            .write(toFile: rulesFile, atomically: false, encoding: .utf8)
        chmod(rulesFile, 0o666)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("rules not reloaded", timeout: 60), "no reload refusal logged: \(sensor.stderr)")
        let refusal = "\(rulesFile): writable by others (mode 0666); refusing to load"
        #expect(sensor.stderr.components(separatedBy: refusal).count == 2, "said once: \(sensor.stderr)")
        let afterRefusal = sid(1)
        #expect(Live.wait(timeout: 60) { sid(1) > afterRefusal }, "sid 1 stopped alerting after the refused reload")

        chmod(rulesFile, 0o644)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("rules reloaded: 2 rules", timeout: 60), "no reload logged: \(sensor.stderr)")
        #expect(sensor.stderr.components(separatedBy: refusal).count == 2, "the fixed file is not refused")
        _ = traffic.stop()
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")
        #expect(EVEFile(path: sensor.eve).broken.isEmpty)
    }

    // MARK: 5. interface loss

    /// The veth disappears for 2 s and comes back under the same name: the sensor says the
    /// capture failed, then recovered, alerts on what comes after, and never exits.
    @Test(Live.requires())
    func interfaceLossAndRecovery() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let sensor = try Sensor(interface: pair.rootEnd)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        #expect(try Traffic.udp(from: pair, to: 571, count: 3, rate: 50, base: 21000) == 3)

        try pair.deleteLink()
        #expect(sensor.waitForLog("failed", timeout: 60), "no failure logged: \(sensor.stderr)")
        Live.sleep(2)
        #expect(sensor.child.isRunning, "the sensor exited when the interface went away: \(sensor.stderr)")
        try pair.create()
        #expect(sensor.waitForLog("recovered", timeout: 60), "no recovery logged: \(sensor.stderr)")
        #expect(sensor.child.isRunning)

        #expect(try Traffic.udp(from: pair, to: 571, count: 3, rate: 50, base: 22000) == 3)
        func alerted() -> [Int] { EVEFile(path: sensor.eve).alerts(sid: 9005712).compactMap(\.srcPort) }
        #expect(Live.wait(timeout: 60) { Set(alerted().filter { (22000 ..< 22003).contains($0) }).count == 3 },
                "alerts after recovery from ports \(alerted()); stderr: \(sensor.stderr)")
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")
        let log = sensor.stderr
        if let failed = log.range(of: "failed"), let recovered = log.range(of: "recovered") {
            #expect(failed.lowerBound < recovered.lowerBound, "\"recovered\" logged before \"failed\"")
        }
        #expect(EVEFile(path: sensor.eve).broken.isEmpty)
    }

    // MARK: 6. SIGTERM during traffic

    /// SIGTERM in the middle of a stream: exit 0 within 5 s, every line whole, stats last.
    @Test(Live.requires())
    func sigtermDuringTraffic() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let sensor = try Sensor(interface: pair.rootEnd)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        let traffic = try Traffic.udpInBackground(from: pair, to: 571, count: 1000, rate: 500, base: 23000)
        #expect(Live.wait(timeout: 60) { !EVEFile(path: sensor.eve).alerts.isEmpty }, "no alert before SIGTERM")
        #expect(traffic.isRunning, "the traffic ended before SIGTERM")
        let started = Date()
        let status = sensor.stop()
        #expect(status == 0, "exit status \(String(describing: status)); stderr: \(sensor.stderr)")
        #expect(Date().timeIntervalSince(started) < 5)
        traffic.kill()

        let eve = EVEFile(path: sensor.eve)
        #expect(eve.broken.isEmpty, "cut lines: \(eve.broken.prefix(3))")
        #expect(eve.records.last?.eventType == "stats", "the last record is \(eve.records.last?.eventType ?? "nothing")")
        #expect(eve.stats.count == 1)
        #expect(eve.alerts.count > 0)
        // Every alerted flow has its flow record, written at shutdown.
        let alerted = Set(eve.alerts.compactMap(\.srcPort)), ended = Set(eve.flows.compactMap(\.srcPort))
        #expect(alerted.isSubset(of: ended), "alerted flows without a flow record: \(alerted.subtracting(ended).count)")
    }

    // MARK: 6b. the final stats record's time

    /// A sensor that saw traffic, but none its rules want, stamps its final stats record with the
    /// time it stopped.
    ///
    /// A regression: the capture thread's first clock tick once waited for an admitted packet
    /// (an `Int64.min` start wrapped the difference), stamping such a record 1970-01-01.
    @Test(Live.requires())
    func finalStatsTimeWithoutWatchedTraffic() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let sensor = try Sensor(interface: pair.rootEnd)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        // TCP connections to 40000, which no shipped rule watches, reset by the root namespace's
        // kernel (TCP, so no ICMP error comes back: those are admitted as possible refusals).
        let connects = try pair.run(["python3", "-c", """
            import socket, sys, time
            for i in range(20):
                s = socket.socket(); s.settimeout(1)
                try:
                    s.connect((sys.argv[1], 40000))
                except OSError:
                    pass
                s.close(); time.sleep(0.1)
            print("done")
            """, pair.rootAddress], timeout: 20)
        #expect(connects.stdout.contains("done"), "connections: \(connects.stderr)")
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")
        let eve = EVEFile(path: sensor.eve)
        let stamp = eve.records.last?["timestamp"] as? String ?? ""
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        let date = stamp.count > 24 ? formatter.date(from: String(stamp.prefix(19)) + String(stamp.suffix(5))) : nil
        #expect(date.map { abs($0.timeIntervalSinceNow) < 60 } == true, "final stats record stamped \(stamp)")
    }

    // MARK: 7. sd_notify

    /// NOTIFY_SOCKET and WATCHDOG_USEC=1000000: READY with STATUS, watchdog pings every half
    /// second, RELOADING then READY on SIGHUP, STOPPING on SIGTERM.
    @Test(Live.requires())
    func systemdNotify() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let socketPath = directory.file("notify")
        let listener = try NotifySocket(path: socketPath)
        let sensor = try Sensor(interface: pair.rootEnd, directory: directory,
                                environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "1000000"])
        defer { sensor.child.kill() }

        let ready = listener.receive(until: { $0.contains("READY=1") }, timeout: 60)
        #expect(ready.contains { $0.contains("READY=1") }, "no READY=1: \(ready); stderr: \(sensor.stderr)")
        #expect(ready.contains { $0.contains("STATUS=capturing on \(pair.rootEnd)") }, "no STATUS: \(ready)")

        var seen = 0
        let pings = listener.receive(until: { message in
            if message.contains("WATCHDOG=1") { seen += 1 }
            return seen >= 4
        }, timeout: 60)
        let watchdogs = pings.filter { $0.contains("WATCHDOG=1") }.count
        #expect(watchdogs >= 4, "\(watchdogs) WATCHDOG=1 (WATCHDOG_USEC 1 s): \(pings)")

        sensor.child.signal(SIGHUP)
        let reload = listener.receive(until: { $0.contains("READY=1") }, timeout: 60)
        let reloading = reload.firstIndex { $0.contains("RELOADING=1") }
        let readyAgain = reload.lastIndex { $0.contains("READY=1") }
        #expect(reloading != nil, "no RELOADING=1 after SIGHUP: \(reload)")
        if let reloading, let readyAgain { #expect(reloading < readyAgain, "READY=1 before RELOADING=1: \(reload)") }
        #expect(readyAgain != nil, "no READY=1 after the reload: \(reload)")

        sensor.child.signal(SIGTERM)
        let stopping = listener.receive(until: { $0.contains("STOPPING=1") }, timeout: 60)
        #expect(stopping.contains { $0.contains("STOPPING=1") }, "no STOPPING=1: \(stopping)")
        let status = sensor.child.wait(timeout: 60)
        #expect(status == 0, "exit status \(String(describing: status)) after SIGTERM; stderr: \(sensor.stderr)")
    }

    // MARK: 8. privileges

    /// `--user nobody`: uid 65534, only CAP_NET_RAW and CAP_NET_ADMIN effective, no new
    /// privileges; the capture still works and the EVE file is written.
    @Test(Live.requires(extra: getpwnam("nobody") == nil ? "no user 'nobody'" : nil))
    func dropsToNobody() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        // The sensor opens its output after dropping root: let nobody create it.
        chmod(directory.path, 0o777)
        let sensor = try Sensor(interface: pair.rootEnd, ["--user", "nobody"], directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")

        let status = (try? String(contentsOfFile: "/proc/\(sensor.child.pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) } ?? "(missing)"
        }
        let uids = field("Uid").split(whereSeparator: { $0 == "\t" || $0 == " " })
        #expect(uids == ["65534", "65534", "65534", "65534"], "Uid: \(field("Uid"))")
        #expect(UInt64(field("CapEff"), radix: 16) == 0x3000, "CapEff: \(field("CapEff"))")
        #expect(field("NoNewPrivs") == "1", "NoNewPrivs: \(field("NoNewPrivs"))")
        // Every thread, not just the main one.
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(sensor.child.pid)/task")) ?? []
        for task in tasks {
            let text = (try? String(contentsOfFile: "/proc/\(sensor.child.pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            #expect(text.contains("Uid:\t65534\t65534\t65534\t65534"), "thread \(task) is not uid 65534")
        }

        #expect(try Traffic.udp(from: pair, to: 571, count: 2, rate: 50, base: 24000) == 2)
        Live.sleep(0.6)
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")
        let eve = EVEFile(path: sensor.eve)
        #expect(eve.alerts(sid: 9005712).count == 2)
        var info = stat()
        #expect(stat(sensor.eve, &info) == 0 && info.st_uid == 65534, "eve.json is not owned by nobody")
    }

    /// As root with neither `--user` nor `--allow-root`, and no `ghostport` account: exit 2 and
    /// say why.
    @Test(Live.requires(extra: getpwnam("ghostport") != nil ? "a 'ghostport' user exists here" : nil))
    func refusesRootWithoutAccount() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let child = try Child([Live.ghostport, "run", "-i", pair.rootEnd, "-o", directory.file("eve.json")])
        defer { child.kill() }
        let status = child.wait(timeout: 60)
        #expect(status == 2, "exit status \(String(describing: status)); stderr: \(child.stderr)")
        #expect(child.stderr.contains("refusing to run as root"), "stderr: \(child.stderr)")
        #expect(child.stderr.contains("'ghostport'"), "the message does not name the missing user: \(child.stderr)")
        #expect(child.stderr.contains("--user") && child.stderr.contains("--allow-root"), "stderr: \(child.stderr)")
    }
}

/// A Unix datagram socket standing in for systemd's notification socket.
final class NotifySocket {
    private let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw CommandFailure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < 108 else { throw CommandFailure(description: "socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw CommandFailure(description: "bind \(path): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Messages received until one satisfies `done` (included) or `timeout` seconds pass.
    func receive(until done: (String) -> Bool, timeout: Double) -> [String] {
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = String(decoding: buffer[0 ..< count], as: UTF8.self)
            messages.append(message)
            if done(message) { break }
        }
        return messages
    }
}
