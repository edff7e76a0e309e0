import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `--kernel-filter auto` on a real interface: the kernel runs the rules' filter, the alerts
/// stay the same, and a reload installs the new rules' filter.
@Suite("kernel filter, live", .serialized)
struct KernelFilterLiveTests {
    /// What identifies an alert apart from its time: sid and the two ends.
    /// The alerts on the replayed traffic (not the replay's marker, sent from each run's own veth).
    private func alertKeys(_ eve: EVEFile) -> Set<String> {
        Set(eve.alerts.filter { $0.destPort != Live.markerPort }.map { alert in
            ["\(alert.sid ?? -1)", alert["src_ip"] as? String ?? "", "\(alert.srcPort ?? -1)",
             alert["dest_ip"] as? String ?? "", "\(alert.destPort ?? -1)", alert.proto ?? ""].joined(separator: " ")
        })
    }

    /// Replays `capture` from the peer at 5,000 packets/s into a sensor started with `arguments`.
    private func replay(_ capture: String, _ arguments: [String]) throws -> (eve: EVEFile, log: String) {
        let pair = try VethPair()
        defer { pair.teardown() }
        let (sensor, _) = try pair.replay(capture, into: ["--allow-root"] + arguments)
        return (EVEFile(path: sensor.eve), sensor.stderr)
    }

    /// A TrafficGen scenario of 20,000 packets replayed twice, with the kernel filter off and on:
    /// the same alerts, far fewer packets delivered, and the start log says which.
    @Test(Live.requires("tcpreplay"))
    func sameAlertsWithAndWithoutKernelFilter() throws {
        let work = try TempDirectory()
        let (capture, _) = try Live.scenario("replay", seed: 7, packets: 20_000, in: work)

        let off = try replay(capture, ["--kernel-filter", "off"])
        let auto = try replay(capture, ["--kernel-filter", "auto"])
        #expect(off.log.contains("kernel filter: off\n"), "\(off.log)")
        #expect(auto.log.contains("kernel filter: auto, 382 tcp + 185 udp + 7 sctp ports in 259 ranges, "), "\(auto.log)")
        #expect(auto.log.contains(" BPF instructions"))

        let offAlerts = alertKeys(off.eve), autoAlerts = alertKeys(auto.eve)
        #expect(offAlerts.count > 50)
        #expect(autoAlerts == offAlerts,
                "only without: \(offAlerts.subtracting(autoAlerts).sorted().prefix(5)); only with: \(autoAlerts.subtracting(offAlerts).sorted().prefix(5))")
        let offStats = off.eve.records.last ?? [:], autoStats = auto.eve.records.last ?? [:]
        for stats in [offStats, autoStats] {
            #expect(stats.capture("kernel_drops") == 0)
            #expect(stats.capture("ring_drops") == 0)
        }
        // The kernel counts only what the filter keeps.
        let delivered = (off: offStats.capture("kernel_packets") ?? -1, auto: autoStats.capture("kernel_packets") ?? -1)
        print("kernel_packets without the kernel filter \(delivered.off), with it \(delivered.auto); alerts \(offAlerts.count)")
        #expect(delivered.off >= 20_000)
        #expect(delivered.auto > 0 && delivered.auto * 10 < delivered.off)
    }

    /// A rule added by SIGHUP alerts: its packets pass the reinstalled kernel filter, where the
    /// filter from the start turned them away.
    @Test(Live.requires())
    func reloadInstallsTheNewRulesFilter() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let rulesFile = directory.file("live.rules")
        let first = "alert tcp any any -> any 571 (msg:\"live test 571/tcp\"; sid:1; rev:1;)\n"
        try first.write(toFile: rulesFile, atomically: true, encoding: .utf8)
        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--rules", rulesFile], directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        #expect(sensor.stderr.contains("kernel filter: auto, 1 tcp port in 1 range, "), "\(sensor.stderr)")

        try (first + "alert udp any any -> any 39 (msg:\"live test 39/udp\"; sid:2; rev:1;)\n")
            .write(toFile: rulesFile, atomically: true, encoding: .utf8)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("reload: kernel filter: auto, 1 tcp + 1 udp ports in 2 ranges, ", timeout: 60),
                "no new kernel filter logged: \(sensor.stderr)")
        #expect(try Traffic.udp(from: pair, to: 39, count: 5, rate: 50, base: 45000) == 5)
        #expect(Live.wait(timeout: 60) { EVEFile(path: sensor.eve).alerts(sid: 2).count >= 5 }, "\(sensor.stderr)")
        #expect(EVEFile(path: sensor.eve).alerts(sid: 2).count == 5, "sid 2 alerts after the reload: \(sensor.stderr)")

        // A rule on any port makes a filter impossible: the reload takes it away, and says why.
        try (first + "alert udp any any -> any any (msg:\"live test any/udp\"; sid:3; rev:1;)\n")
            .write(toFile: rulesFile, atomically: true, encoding: .utf8)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("reload: kernel filter: off (rule sid 3 matches any udp port)", timeout: 60),
                "\(sensor.stderr)")
        #expect(try Traffic.udp(from: pair, to: 4321, count: 3, rate: 50, base: 46000) == 3)
        #expect(Live.wait(timeout: 60) { EVEFile(path: sensor.eve).alerts(sid: 3).count >= 3 }, "sid 3 alerts: \(sensor.stderr)")
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")
    }

    /// With `--bpf` the user's filter runs first: what it turns away never reaches the sensor,
    /// though the rules watch it.
    @Test(Live.requires())
    func userFilterRunsBeforeTheRules() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let rulesFile = directory.file("live.rules")
        try """
            alert udp any any -> any 39 (msg:"live test 39/udp"; sid:2; rev:1;)
            alert udp any any -> any 40 (msg:"live test 40/udp"; sid:3; rev:1;)

            """.write(toFile: rulesFile, atomically: true, encoding: .utf8)
        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--rules", rulesFile, "--bpf", "not udp port 40"],
                                directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        #expect(sensor.stderr.contains("kernel filter: auto, 2 udp ports in 1 range, "), "\(sensor.stderr)")
        #expect(sensor.stderr.contains(" (binary search), after the bpf filter's "), "\(sensor.stderr)")
        #expect(try Traffic.udp(from: pair, to: 39, count: 3, rate: 50, base: 45000) == 3)
        #expect(try Traffic.udp(from: pair, to: 40, count: 3, rate: 50, base: 46000) == 3)
        // Two more to 39/udp after the 40/udp ones: once these have alerted, the sensor has seen
        // everything sent before them, in order.
        #expect(try Traffic.udp(from: pair, to: 39, count: 2, rate: 50, base: 47000) == 2)
        #expect(Live.wait(timeout: 60) { EVEFile(path: sensor.eve).alerts(sid: 2).count >= 5 }, "\(sensor.stderr)")
        let eve = EVEFile(path: sensor.eve)
        #expect(eve.alerts(sid: 2).count == 5)
        #expect(eve.alerts(sid: 3).isEmpty)
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")
    }

    /// Anomaly records need every packet: `auto` stays off and says so.
    @Test(Live.requires())
    func anomaliesKeepTheFilterOff() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--anomalies"])
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        #expect(sensor.stderr.contains("kernel filter: off (anomaly records are on, and they need every packet)"),
                "\(sensor.stderr)")
        #expect(sensor.stop() == 0)
    }
}
