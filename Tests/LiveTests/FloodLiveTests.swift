import Foundation
import Testing
import TestSupport

/// A flood on 571/tcp with needles in it, replayed over a veth pair into `ghostport run` while it
/// is reloaded three times: what comes out is checked against the generator's truth
/// (`FloodCheck`), as the offline read of the same capture is (`FloodTests`).
@Suite("a flood, live, reloaded during it", .serialized)
struct FloodLiveTests {
    /// 20,000 flood flows, 2,000 of backscatter, 10 answered and 10 rejected sessions and a scan:
    /// 22,730 packets at 5,000 a second, some 4.5 s. The whole flood fits in the kernel's capture
    /// buffer (64 MiB; about 3 MB of it), so however slowly the sensor runs on a busy machine
    /// nothing may be dropped, and every count must be exact; the reloads (rules read, compiled
    /// and swapped in, the EVE file reopened) cost no packet: kernel and ring drops are both 0.
    /// The flood window is a day long, so the flood is one episode unless it crosses midnight UTC.
    @Test(Live.requires("tcpreplay"))
    func floodWithReloads() throws {
        try Prerequisite.require(Live.unmet(["ip", "python3", "tcpreplay"]))
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        var configuration = FloodScenario.Configuration()
        configuration.floodFlows = 20_000
        configuration.backscatterFlows = 2_000
        let truth = try FloodScenario(configuration).write(to: directory.path, name: "flood")

        let sensor = try Sensor(interface: pair.rootEnd, [
            "--allow-root", "--alert-limit-per-sid", "100", "--alert-limit-per-source", "100",
            "--flood-per-port", "200", "--flood-sensor-wide", "2000", "--flood-window", "86400",
        ])
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")

        let replay = try pair.start(["tcpreplay", "-i", pair.peerEnd, "--pps", "5000", directory.file("flood.pcap")])
        // The first reload once the flood reaches the engine (its first alert is written), the
        // next ones each when the one before has been swapped in.
        #expect(Live.wait(timeout: 120) { !EVEFile(path: sensor.eve).alerts.isEmpty }, "no alert: \(sensor.stderr)")
        func reloads() -> Int { sensor.stderr.components(separatedBy: "rules reloaded").count - 1 }
        for reload in 1...3 {
            sensor.child.signal(SIGHUP)
            #expect(Live.wait(timeout: 120) { reloads() >= reload }, "reload \(reload) not logged: \(sensor.stderr)")
        }
        #expect(replay.wait(timeout: 600) == 0, "tcpreplay: \(replay.stdout) \(replay.stderr)")
        try sensor.stopAfterMarker(from: pair)

        let eve = EVEFile(path: sensor.eve)
        #expect(eve.broken.isEmpty, "cut lines: \(eve.broken.prefix(3))")
        #expect(reloads() == 3 && sensor.stderr.components(separatedBy: "reopened").count - 1 == 3, "\(sensor.stderr)")
        // The marker (from the peer's own address, refused by the root namespace's stack) is not the flood's.
        let records = eve.records.filter { $0["src_ip"] as? String != pair.peerAddress }
        let problems = FloodCheck.differences(truth, records: records, budget: .init(perPort: 200, alertsPerSid: 100))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        let stats = try #require(eve.stats.last)
        #expect(stats.capture("kernel_drops") == 0 && stats.capture("ring_drops") == 0,
                "kernel drops \(stats.capture("kernel_drops") ?? -1), ring drops \(stats.capture("ring_drops") ?? -1)")
        // The disk: a flow record is some 600 bytes, so one per flow would be over 13 MB; the
        // whole file stays under a tenth of that.
        let bytes = eve.lines.reduce(0) { $0 + $1.utf8.count + 1 }
        #expect(bytes < (truth.flood.flows + truth.backscatter.flows) * 60, "\(bytes) bytes of EVE")
    }
}
