import Foundation
import Testing
import TestSupport

/// The listener baseline, live: a sensor learns a real listener (a socket in the root namespace,
/// clients in the peer's), a second sensor on the same file detects with it: the learned
/// listener is known, a new one on another watched port alerts as new exactly once, and once an
/// operator adds it to the file and sends SIGHUP it is known too.
@Suite("the listener baseline, live", .serialized)
struct BaselineLiveTests {
    /// TCP listeners on `ports` at `address`, accepting until killed; prints "ready".
    static let listeners = """
        import select, socket, sys
        address, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
        servers = []
        for port in ports:
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, port)); s.listen(16); servers.append(s)
        print("ready", flush=True)
        while True:
            ready, _, _ = select.select(servers, [], [])
            for s in ready:
                c, _ = s.accept(); c.settimeout(2)
                try: c.recv(100); c.sendall(b"hi")
                except OSError: pass
                c.close()
        """

    /// One TCP session to `port` of `address`, from the peer namespace: says "connected".
    static func session(_ pair: VethPair, port: Int) throws -> Bool {
        let result = try pair.run(["python3", "-c", """
            import socket, sys
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
            s.sendall(b"hello"); s.recv(10); s.close(); print("connected")
            """, pair.rootAddress, String(port)], timeout: 30)
        return result.stdout.contains("connected")
    }

    static func sensor(_ pair: VethPair, config: String, directory: TempDirectory) throws -> Sensor {
        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--config", config], directory: directory)
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        return sensor
    }

    @Test(Live.requires())
    func learnThenDetect() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let baseline = directory.file("baseline.txt")
        let listener = try pair.startHere(["python3", "-c", Self.listeners, pair.rootAddress, "571", "519"])
        #expect(Live.wait(timeout: 60) { listener.stdout.contains("ready") }, "listener: \(listener.stderr)")

        // 1. Learning (for a day from now): three sessions to 571.
        let learning = directory.file("learn.yaml")
        try "baseline:\n  file: \(baseline)\n  learn_days: 1\n  flush_seconds: 1\n".write(toFile: learning, atomically: true, encoding: .utf8)
        let first = try Self.sensor(pair, config: learning, directory: try TempDirectory())
        for _ in 0..<3 { #expect(try Self.session(pair, port: 571)) }
        // Flushed while it runs (every second), not only at exit.
        #expect(Live.wait(timeout: 60) { ((try? String(contentsOfFile: baseline, encoding: .utf8)) ?? "").contains("\(pair.rootAddress) 571/tcp ") },
                "the listener was not written: \(first.stderr)")
        try first.stopAfterMarker(from: pair)
        let learnedAlerts = EVEFile(path: first.eve).alerts(sid: 9_005_711)
        #expect(learnedAlerts.map { ($0["ghostport"] as? [String: Any])?["listener"] as? String } == ["learning", "known", "known"])
        let learned = try String(contentsOfFile: baseline, encoding: .utf8)
        let line = learned.split(separator: "\n").first { $0.hasPrefix("\(pair.rootAddress) 571/tcp ") }
        #expect(line?.split(separator: " ")[4] == "3" && line?.split(separator: " ")[5] == "1", "\(learned)")
        #expect(!learned.contains("519/tcp"))

        // 2. Detecting (learning ended long ago): 571 is known; 519 starts answering: new, once;
        // added to the file by hand and SIGHUP: known.
        let detecting = directory.file("detect.yaml")
        // No flush while it runs (the edit below then meets no write of the sensor's): at exit only.
        try "baseline:\n  file: \(baseline)\n  learn_until: 2020-01-01T00:00:00Z\n  flush_seconds: 3600\n"
            .write(toFile: detecting, atomically: true, encoding: .utf8)
        let second = try Self.sensor(pair, config: detecting, directory: try TempDirectory())
        #expect(second.waitForLog("1 listeners", timeout: 30), "\(second.stderr)")
        #expect(try Self.session(pair, port: 571))
        #expect(try Self.session(pair, port: 519))
        #expect(try Self.session(pair, port: 519))
        #expect(Live.wait(timeout: 60) { EVEFile(path: second.eve).alerts(sid: 8_999_004).count == 1 }, "no new-listener alert: \(second.stderr)")
        let edited = try String(contentsOfFile: baseline, encoding: .utf8) + "\(pair.rootAddress) 519/tcp # the plant's PLC, since 2026-12\n"
        try edited.write(toFile: baseline, atomically: true, encoding: .utf8)
        second.child.signal(SIGHUP)
        #expect(second.waitForLog("reread, 2 listeners", timeout: 60), "\(second.stderr)")
        #expect(try Self.session(pair, port: 519))
        try second.stopAfterMarker(from: pair)

        let eve = EVEFile(path: second.eve)
        func status(_ alert: [String: Any]) -> String? { (alert["ghostport"] as? [String: Any])?["listener"] as? String }
        #expect(eve.alerts(sid: 9_005_711).map(status) == ["known"])
        let newAlerts = eve.alerts(sid: 8_999_004)
        #expect(newAlerts.count == 1 && newAlerts.first.map(status) == "new")
        #expect((newAlerts.first?["alert"] as? [String: Any])?["severity"] as? Int == 1)
        #expect(newAlerts.first?["src_ip"] as? String == pair.rootAddress && newAlerts.first?["src_port"] as? Int == 519)
        // The first session to 519 was the new-listener alert; the second, still new, its rule's
        // alert marked new; the third, after the edit, known.
        let answers519 = eve.alerts(sid: 9_005_191)
        #expect(answers519.map(status) == ["new", "known"], "\(answers519.map(status))")
        // Kept across the restart, the edit's comment too, with the second run's figures.
        let final = try String(contentsOfFile: baseline, encoding: .utf8)
        // The hand-added line, with its comment, now has the times and flow of the answer after the edit.
        let line519 = final.split(separator: "\n").first { $0.hasPrefix("\(pair.rootAddress) 519/tcp ") }
        #expect(line519?.hasSuffix(" 1 1 # the plant's PLC, since 2026-12") == true && line519?.split(separator: " ")[2] != "-", "\(final)")
        let line571 = final.split(separator: "\n").first { $0.hasPrefix("\(pair.rootAddress) 571/tcp ") }
        #expect(line571?.split(separator: " ")[4] == "4", "\(final)")
    }
}
