import Foundation
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Faults around the sensor rather than in the traffic: the syslog daemon going and coming,
/// rules files that cannot be read at a reload, capture files changing under `read`, and SIGTERM
/// at any moment. Each time the sensor stays up (or `read` ends cleanly), says what happened
/// once, and loses no alert it could have written.
@Suite("faults", .serialized)
struct FaultTests {
    // MARK: syslog socket missing, gone, back

    /// The syslog socket is missing at start, then served by rsyslogd, then left stale (rsyslogd
    /// killed), served again, then removed (rsyslogd stopped): the EVE file keeps all 20 alerts,
    /// rsyslog gets exactly the 8 sent while it ran, each outage is logged once and each return
    /// once, and the final stats count the 12 alerts syslog never got.
    @Test(Live.requires(), Prerequisite.trait(RsyslogDaemon.unavailableReasonOwnSocket))
    func syslogSocketMissingGoneAndBack() throws {
        try Prerequisite.require(RsyslogDaemon.unavailableReasonOwnSocket)
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let socket = directory.file("log.sock"), received = directory.file("local5.log")
        let config = directory.file("ghostport.yaml")
        try "outputs:\n  syslog:\n    enabled: true\n    format: text\n    socket: \(socket)\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--config", config], directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        #expect(sensor.waitForLog("syslog: \(socket): No such file or directory", timeout: 60),
                "a missing socket at start is not reported: \(sensor.stderr)")

        var sent = 0
        func burst(_ base: Int) {
            #expect((try? Traffic.udp(from: pair, to: 571, count: 4, rate: 50, base: base)) == 4)
            sent += 4
            let eveHasThem = Live.wait(timeout: 60) { EVEFile(path: sensor.eve).alerts(sid: 9005712).count >= sent }
            #expect(eveHasThem, "EVE alerts \(EVEFile(path: sensor.eve).alerts(sid: 9005712).count) of \(sent)")
        }
        burst(41_000)  // no logger at all
        var daemon = try RsyslogDaemon(facility: "local5", socket: socket, output: received)
        burst(41_100)
        #expect(daemon.waitForLines(4).count == 4)
        #expect(sensor.waitForLog("syslog: \(socket): delivering again; 4 messages were dropped meanwhile", timeout: 60),
                "no recovery logged: \(sensor.stderr)")
        daemon.stop(signal: SIGKILL)  // its socket stays, with nobody reading it
        burst(41_200)
        #expect(sensor.waitForLog("syslog: \(socket): Connection refused", timeout: 60), "a stale socket: \(sensor.stderr)")
        daemon = try RsyslogDaemon(facility: "local5", socket: socket, output: received)
        burst(41_300)
        #expect(daemon.waitForLines(8).count == 8)
        daemon.stop()  // removes its socket
        burst(41_400)
        #expect(sensor.child.isRunning, "the sensor exited: \(sensor.stderr)")
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")

        let eve = EVEFile(path: sensor.eve)
        #expect(eve.broken.isEmpty)
        let alerted = eve.alerts(sid: 9005712).compactMap(\.srcPort)
        let expected = [41_000, 41_100, 41_200, 41_300, 41_400].flatMap { $0 ..< $0 + 4 }
        #expect(alerted.sorted() == expected, "EVE alerts from ports \(alerted.sorted())")
        let dropped = eve.records.last?.ownStats("output", "syslog_dropped")
        #expect(dropped == 12, "ghostport.stats.output.syslog_dropped: \(String(describing: dropped))")

        let lines = (try? String(contentsOfFile: received, encoding: .utf8))?.split(separator: "\n") ?? []
        let delivered = lines.compactMap { line -> Int? in
            guard let arrow = line.range(of: " -> ") else { return nil }
            return Int(line[..<arrow.lowerBound].split(separator: ":").last ?? "")
        }
        #expect(delivered.sorted() == Array(41_100 ..< 41_104) + Array(41_300 ..< 41_304), "rsyslog got \(lines)")

        let log = sensor.stderr
        let outages = log.components(separatedBy: "alerts to syslog are dropped").count - 1
        let returns = log.components(separatedBy: "delivering again").count - 1
        #expect(outages == 3 && returns == 2, "outages logged \(outages) (3 expected), returns \(returns) (2):\n\(log)")
    }

    // MARK: Redis killed and restarted

    /// The sensor writes to Redis (and its file); Redis is SIGKILLed and restarted under it. The
    /// sensor stays up, says once that delivery failed and once that it resumed, and at the end
    /// counts every record: written + lost = the records of its EVE file. Redis (append-only,
    /// fsynced at each write, so what it acknowledged survives the kill) holds them in order,
    /// none twice, and every record made after the recovery.
    @Test(Live.requires(), Prerequisite.trait(RedisServer.unmet))
    func redisKilledAndRestarted() throws {
        try Prerequisite.require(RedisServer.unmet)
        let server = try RedisServer(persistent: true)
        let pair = try VethPair()
        defer { pair.teardown() }
        let sensor = try Sensor(interface: pair.rootEnd, ["--allow-root", "--redis", server.url, "--redis-mode", "rpush",
                                                          "--redis-key", "eve"])
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        func burst(_ base: Int, expected: Int) {
            #expect((try? Traffic.udp(from: pair, to: 571, count: 4, rate: 50, base: base)) == 4)
            #expect(Live.wait(timeout: 60) { EVEFile(path: sensor.eve).alerts(sid: 9005712).count >= expected })
        }
        burst(42_000, expected: 4)
        #expect(Live.wait(timeout: 60) { (try? server.list("eve").count) == EVEFile(path: sensor.eve).lines.count },
                "Redis does not get the records: \(sensor.stderr)")
        server.stop(signal: SIGKILL)
        burst(42_100, expected: 8)
        #expect(sensor.waitForLog("records wait in the queue", timeout: 60), "no outage logged: \(sensor.stderr)")
        try server.start()
        #expect(sensor.waitForLog("delivering again", timeout: 60), "no recovery logged: \(sensor.stderr)")
        let recovered = EVEFile(path: sensor.eve).lines.count
        burst(42_200, expected: 12)
        #expect(sensor.child.isRunning, "the sensor exited: \(sensor.stderr)")
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")

        let lines = EVEFile(path: sensor.eve).lines
        let log = sensor.stderr
        #expect(log.components(separatedBy: "records wait in the queue").count - 1 == 1, "\(log)")
        #expect(log.components(separatedBy: "delivering again").count - 1 == 1, "\(log)")
        // "redis: W of P records written (...), L lost" (or "none lost").
        let line = try #require(log.split(separator: "\n").last { $0.contains("records written") }, "\(log)")
        let summary = line.components(separatedBy: "ghostport: redis: ").last ?? ""
        let numbers = summary.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let written = try #require(numbers.first { _ in true }), produced = numbers.dropFirst().first ?? -1
        let lost = summary.contains("none lost") ? 0 : (Int(summary.components(separatedBy: "), ").last?.split(separator: " ").first ?? "") ?? -1)
        #expect(produced == lines.count, "\(summary); the file has \(lines.count) records")
        #expect(written + lost == produced, "\(summary)")
        print("Redis killed and restarted under the sensor: \(summary); Redis holds \((try? server.list("eve").count) ?? -1)")

        let stored = try server.list("eve")
        #expect(Set(stored).count == stored.count, "a record is in Redis twice")
        var position = 0
        for record in stored {
            guard let found = lines[position...].firstIndex(of: record) else {
                Issue.record("a record in Redis is out of order or not in the file: \(record)")
                break
            }
            position = found + 1
        }
        #expect(stored.count >= written && stored.count <= written + lost, "stored \(stored.count); \(summary)")
        // Everything made after the recovery is there, the final stats record included.
        #expect(stored.suffix(lines.count - recovered) == lines.suffix(lines.count - recovered),
                "the records made after the recovery are not all in Redis")
    }

    // MARK: EVE path unwritable at rotation

    /// A sensor running as nobody, its log directory made root's (0755) and eve.json rotated away:
    /// the SIGHUP cannot create a new eve.json (permission denied), then eve.json is a directory
    /// (is a directory); each time one line says so and records go on into the rotated file.
    /// With the directory writable again the next SIGHUP opens a new eve.json. Between the files
    /// every flow alerted once and no line is cut.
    ///
    /// The traffic comes in four bursts, each sent after the event it follows and waited for
    /// until the sensor has written it: nothing depends on how fast the machine is.
    @Test(Live.requires(extra: getpwnam("nobody") == nil ? "no user 'nobody'" : nil))
    func rotationToAnUnwritablePathKeepsTheOldFile() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        chmod(directory.path, 0o777)
        let sensor = try Sensor(interface: pair.rootEnd, ["--user", "nobody"], directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        let burst = 100
        var sent = 0
        func alerts(_ path: String) -> Int { EVEFile(path: path).alerts(sid: 9005712).count }
        /// Sends the next burst of flows and waits until `path` holds `expected` of their alerts.
        func sendBurst(expecting expected: @escaping () -> Bool, _ what: String) throws {
            #expect(try Traffic.udp(from: pair, to: 571, count: burst, rate: 500, base: 32000 + sent) == burst)
            sent += burst
            #expect(Live.wait(timeout: 60, expected), "\(what): the burst's alerts never arrived; stderr: \(sensor.stderr)")
        }

        try sendBurst(expecting: { alerts(sensor.eve) == burst }, "before rotation")
        let rotated = sensor.eve + ".1"
        chmod(directory.path, 0o755)  // root's now: nobody cannot create a file in it
        try FileManager.default.moveItem(atPath: sensor.eve, toPath: rotated)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("\(sensor.eve): Permission denied; still writing to the old file", timeout: 60),
                "\(sensor.stderr)")
        try sendBurst(expecting: { alerts(rotated) == 2 * burst }, "after the denied reopen")

        chmod(directory.path, 0o777)
        try FileManager.default.createDirectory(atPath: sensor.eve, withIntermediateDirectories: false)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("\(sensor.eve): Is a directory; still writing to the old file", timeout: 60),
                "\(sensor.stderr)")
        try sendBurst(expecting: { alerts(rotated) == 3 * burst }, "after the reopen onto a directory")

        try FileManager.default.removeItem(atPath: sensor.eve)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("\(sensor.eve): reopened", timeout: 60), "\(sensor.stderr)")
        try sendBurst(expecting: { alerts(sensor.eve) == burst }, "after the reopen")
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")

        let old = EVEFile(path: rotated), new = EVEFile(path: sensor.eve)
        #expect(old.broken.isEmpty && new.broken.isEmpty, "cut lines: \(old.broken.prefix(2)) \(new.broken.prefix(2))")
        let ports = (old.alerts(sid: 9005712) + new.alerts(sid: 9005712)).compactMap(\.srcPort)
        let missing = Set(32000 ..< 32000 + sent).subtracting(ports).sorted()
        #expect(ports.count == sent && Set(ports).count == sent,
                "alerts \(ports.count), distinct \(Set(ports).count) for \(sent) flows; missing \(missing); stderr: \(sensor.stderr)")
        let log = sensor.stderr
        #expect(log.components(separatedBy: "still writing to the old file").count - 1 == 2, "\(log)")
        #expect(!log.contains("write failed"), "a write failed: \(log)")
    }

    /// The live sensor's EVE file on a 1 MiB tmpfs that fills up: one line when records start
    /// being lost, one when writing resumes with how many were lost, the same count in the final
    /// stats, and no cut line.
    @Test(Live.requires("mount", "umount"), Prerequisite.trait(Prerequisite.tmpfs))
    func fullFilesystemUnderTheLiveSensor() throws {
        try Prerequisite.require(Prerequisite.tmpfs)
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        let mountPoint = directory.file("tmpfs")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        try sh("mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", mountPoint)
        defer { _ = try? sh("umount", "-l", mountPoint) }
        let eve = mountPoint + "/eve.json"
        let child = try Child([Live.ghostport, "run", "-i", pair.rootEnd, "-o", eve, "--stats-interval", "0", "--allow-root"])
        defer { child.kill() }
        #expect(Live.wait(timeout: 60) { child.stderr.contains("capturing on") }, "\(child.stderr)")
        #expect(try Traffic.udp(from: pair, to: 571, count: 3, rate: 50, base: 47000) == 3)
        #expect(Live.wait(timeout: 60) { EVEFile(path: eve).alerts.count == 3 })
        // Fill every page left.
        _ = try? Child.run(["dd", "if=/dev/zero", "of=\(mountPoint)/filler", "bs=4096"], timeout: 20)
        #expect(try Traffic.udp(from: pair, to: 571, count: 40, rate: 100, base: 47100) == 40)
        #expect(Live.wait(timeout: 60) { child.stderr.contains("\(eve): write failed: No space left on device") }, "\(child.stderr)")
        unlink(mountPoint + "/filler")
        #expect(try Traffic.udp(from: pair, to: 571, count: 3, rate: 50, base: 47200) == 3)
        #expect(Live.wait(timeout: 60) { child.stderr.contains("\(eve): writing again; ") }, "\(child.stderr)")
        child.signal(SIGTERM)
        #expect(child.wait(timeout: 60) == 0, "\(child.stderr)")

        let file = EVEFile(path: eve)
        #expect(file.broken.isEmpty, "cut lines: \(file.broken.prefix(2))")
        let log = child.stderr
        #expect(log.components(separatedBy: "write failed").count - 1 == 1, "\(log)")
        let lost = file.records.last?.ownStats("output", "lost")
        #expect((lost ?? 0) > 0, "ghostport.stats.output.lost \(String(describing: lost))")
        if let lost { #expect(log.contains("writing again; \(lost) EVE record"), "lost \(lost): \(log)") }
        // Every alert of the last burst made it.
        let ports = Set(file.alerts(sid: 9005712).compactMap(\.srcPort))
        #expect((47200 ..< 47203).allSatisfy(ports.contains), "\(ports.sorted())")
    }

    // MARK: rules unreadable at reload

    /// A sensor running as nobody with one rules file: SIGHUP after the file became unreadable
    /// for nobody (root's, mode 0600), held invalid UTF-8, became a directory, a broken symlink,
    /// and was deleted.
    /// Each time one line names the file and why, the old rule keeps alerting; a broken config
    /// file does not matter (a reload reads the rules only); the fixed file then loads.
    @Test(Live.requires(extra: getpwnam("nobody") == nil ? "no user 'nobody'" : nil))
    func reloadWithUnreadableRulesKeepsTheOldOnes() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        // nobody writes eve.json here and reads the rules; sticky, or run refuses rules others could replace
        chmod(directory.path, 0o1777)
        let rulesFile = directory.file("live.rules"), config = directory.file("ghostport.yaml")
        let good = "alert udp any any -> any 571 (msg:\"live test 571/udp\"; sid:1; rev:1;)\n"
        try good.write(toFile: rulesFile, atomically: true, encoding: .utf8)
        chmod(rulesFile, 0o644)
        try "stats:\n  interval: 0\n".write(toFile: config, atomically: true, encoding: .utf8)
        let sensor = try Sensor(interface: pair.rootEnd, ["--user", "nobody", "--config", config, "--rules", rulesFile],
                                directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        #expect(!sensor.stderr.contains("not readable"), "a readable rules file reported: \(sensor.stderr)")
        let traffic = try Traffic.Stream(from: pair, to: 571, rate: 100, base: 20000)
        func sid(_ sid: Int) -> Int { EVEFile(path: sensor.eve).alerts(sid: sid).count }
        #expect(Live.wait(timeout: 60) { sid(1) > 0 }, "no sid 1 alert before the reloads")

        let fm = FileManager.default
        var failures = 0
        func reloadFails(_ reason: String, _ breakIt: () throws -> Void) throws {
            try breakIt()
            sensor.child.signal(SIGHUP)
            failures += 1
            let logged = Live.wait(timeout: 60) {
                sensor.stderr.components(separatedBy: "rules not reloaded").count - 1 >= failures
            }
            #expect(logged, "no reload failure logged for '\(reason)': \(sensor.stderr)")
            let lines = sensor.stderr.split(separator: "\n").filter { $0.contains("rules not reloaded") }
            #expect(lines.count == failures, "one line per failed reload: \(lines)")
            if let last = lines.last {
                #expect(last.contains(rulesFile) && last.contains(reason) && last.contains("keeping the 1 rules"),
                        "the line does not name the file and '\(reason)': \(last)")
            }
            let before = sid(1)
            #expect(Live.wait(timeout: 60) { sid(1) > before }, "sid 1 stopped alerting after '\(reason)'")
            try? fm.removeItem(atPath: rulesFile)
        }
        try reloadFails("permission denied (the sensor runs as user nobody)") {
            try good.write(toFile: rulesFile, atomically: false, encoding: .utf8)
            chmod(rulesFile, 0o600)
        }
        try reloadFails(":1:1: unknown action") {  // invalid UTF-8 where "al" of "alert" was
            try Data([0xFF, 0xFE] + Array(good.utf8.dropFirst(2))).write(to: URL(fileURLWithPath: rulesFile))
            chmod(rulesFile, 0o644)
        }
        try reloadFails("a directory without *.rules files") { try fm.createDirectory(atPath: rulesFile, withIntermediateDirectories: false) }
        try reloadFails("no such file or directory") { try fm.createSymbolicLink(atPath: rulesFile, withDestinationPath: directory.file("gone")) }
        try reloadFails("no such file or directory") {}

        // A reload reads the rules, never the config: garbage there changes nothing.
        try "stats: [unclosed\n\u{1}".write(toFile: config, atomically: true, encoding: .utf8)
        try (good + "alert udp any any -> any 39 (msg:\"live test 39/udp\"; sid:2; rev:1;)\n")
            .write(toFile: rulesFile, atomically: true, encoding: .utf8)
        chmod(rulesFile, 0o644)
        sensor.child.signal(SIGHUP)
        #expect(sensor.waitForLog("rules reloaded: 2 rules", timeout: 60), "no reload: \(sensor.stderr)")
        #expect(!sensor.stderr.contains(config), "the config file was read at the reload: \(sensor.stderr)")
        #expect(try Traffic.udp(from: pair, to: 39, count: 5, rate: 50, base: 45000) == 5)
        #expect(Live.wait(timeout: 60) { sid(2) == 5 }, "sid 2 alerts: \(sid(2))")
        #expect(traffic.stop() > 0, "the traffic loop failed")
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")
        #expect(EVEFile(path: sensor.eve).broken.isEmpty)
    }

    /// Dropping to nobody with a rules file only root can read: the sensor runs on the rules it
    /// loaded as root, and says at once that a reload will fail.
    @Test(Live.requires(extra: getpwnam("nobody") == nil ? "no user 'nobody'" : nil))
    func rulesUnreadableAfterDroppingRootAreReportedAtStart() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        let directory = try TempDirectory()
        chmod(directory.path, 0o1777)  // sticky, or run refuses rules others could replace
        let rulesFile = directory.file("live.rules")
        try "alert udp any any -> any 571 (msg:\"live test\"; sid:1; rev:1;)\n".write(toFile: rulesFile, atomically: true, encoding: .utf8)
        chmod(rulesFile, 0o600)
        let sensor = try Sensor(interface: pair.rootEnd, ["--user", "nobody", "--rules", rulesFile], directory: directory)
        defer { sensor.child.kill() }
        #expect(sensor.waitUntilCapturing(), "the sensor did not start: \(sensor.stderr)")
        #expect(sensor.stderr.contains("\(rulesFile): not readable by user nobody"), "no warning: \(sensor.stderr)")
        #expect(try Traffic.udp(from: pair, to: 571, count: 2, rate: 50, base: 46000) == 2)
        #expect(Live.wait(timeout: 60) { EVEFile(path: sensor.eve).alerts(sid: 1).count == 2 })
        #expect(sensor.stop() == 0, "exit status; stderr: \(sensor.stderr)")
    }

    // MARK: capture files changing while read

    /// A writer appends a capture in uneven pieces (cutting records) while `read` reads it: `read`
    /// stops where the data stops, a clean end or a warning with the byte offset, and its alerts
    /// and flows are exactly those of a read of the same packets from a finished file.
    @Test(Offline.requires)
    func readWhileAppended() throws {
        let work = try TempDirectory()
        let big = try Offline.bigCapture()
        let growing = work.file("growing.pcap"), eve = work.file("eve.json")
        // The header and a first piece, then the rest in 64 KiB + 7 byte pieces every 5 ms.
        let writer = try Child(["python3", "-c", """
            import sys, time
            src, dst = open(sys.argv[1], 'rb'), open(sys.argv[2], 'wb')
            dst.write(src.read(1 << 20)); dst.flush()
            print('started', flush=True)
            while True:
                piece = src.read(65543)
                if not piece: break
                dst.write(piece); dst.flush(); time.sleep(0.005)
            """, big, growing])
        defer { writer.kill() }
        #expect(Live.wait(timeout: 60) { writer.stdout.contains("started") })
        let read = try Child.run([Live.ghostport, "read", "--no-progress", "-o", eve, growing], timeout: 60)
        #expect(read.status == 0 || read.status == 1, "status \(read.status): \(read.stderr)")
        if read.status == 1 {
            #expect(read.stderr.contains("\(growing): truncated at byte offset "), "\(read.stderr)")
        }
        try Offline.expectSameAsPrefix(eve: eve, summary: read.stderr, of: big, in: work)
    }

    /// `truncate -s` cuts a big capture while `read` is in the middle of it, once inside a record
    /// (libpcap sees a cut record) and once on a record boundary (libpcap sees a clean end; the
    /// shrunken file gives it away): a warning with the file and byte offset, status 1, and every
    /// alert and flow of the packets before the cut, as a read of those packets alone gives.
    @Test(Offline.requires)
    func readWhileTruncated() throws {
        let big = try Offline.bigCapture()
        let size = (try FileManager.default.attributesOfItem(atPath: big)[.size] as? Int) ?? 0
        let boundary = try TempDirectory()
        try Offline.prefix(of: big, packets: 200_000, to: boundary.file("p.pcap"))
        let boundarySize = (try FileManager.default.attributesOfItem(atPath: boundary.file("p.pcap"))[.size] as? Int) ?? 0
        for (cutSize, reason) in [(size / 3 + 5, "truncated dump file"), (boundarySize, "the file shrank from \(size) to \(boundarySize) bytes")] {
            let work = try TempDirectory()
            let cut = work.file("cut.pcap"), eve = work.file("eve.json")
            try FileManager.default.copyItem(atPath: big, toPath: cut)
            let child = try Child([Live.ghostport, "read", "--no-progress", "-o", eve, cut])
            // Cut once the reader is well into the file, before it reaches the cut.
            let reading = Live.wait(timeout: 60) { (Offline.position(of: child.pid, in: cut) ?? 0) > 4 << 20 }
            let position = Offline.position(of: child.pid, in: cut) ?? 0
            #expect(reading && position < cutSize, "read at byte \(position) of a cut at \(cutSize); make the capture bigger")
            try sh("truncate", "-s", String(cutSize), cut)
            let status = child.wait(timeout: 60)
            #expect(status == 1, "status \(String(describing: status)): \(child.stderr)")
            #expect(child.stderr.contains("\(cut): truncated at byte offset ") && child.stderr.contains(reason), "\(child.stderr)")
            try Offline.expectSameAsPrefix(eve: eve, summary: child.stderr, of: big, in: work)
        }
    }

    // MARK: SIGTERM at any moment

    /// `read` on a pipe whose writer went quiet (it holds the pipe open): SIGTERM cannot wake the
    /// reader blocked in read(2), so after a second `read` finishes without it: status 143 within
    /// a few seconds, the flows and stats of what came through written whole.
    @Test(Offline.requires)
    func sigtermWhileReadWaitsOnAQuietPipe() throws {
        let big = try Offline.bigCapture()
        let work = try TempDirectory()
        let fifo = work.file("capture.fifo"), eve = work.file("eve.json")
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = try Child(["python3", "-c", """
            import sys, time
            data = open(sys.argv[1], 'rb').read(1 << 20)
            out = open(sys.argv[2], 'wb')
            out.write(data); out.flush()
            print('written', flush=True)
            time.sleep(60)
            """, big, fifo])
        defer { writer.kill() }
        let child = try Child([Live.ghostport, "read", "--no-progress", "-o", eve, fifo])
        defer { child.kill() }
        #expect(Live.wait(timeout: 60) { writer.stdout.contains("written") }, "the writer did not finish: \(writer.stderr)")
        Live.sleep(0.5)
        let started = Date()
        child.signal(SIGTERM)
        let status = child.wait(timeout: 60)
        #expect(status == 143, "status \(String(describing: status)): \(child.stderr)")
        // Well before the writer's 60 s: the reader was left behind, not waited for.
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(child.stderr.contains("left behind") && child.stderr.contains("SIGTERM: stopped reading after"), "\(child.stderr)")
        let file = EVEFile(path: eve)
        #expect(file.broken.isEmpty, "cut lines: \(file.broken.prefix(2))")
        #expect(file.records.last?.eventType == "stats" && file.stats.count == 1)
        #expect(file.flows.count > 0, "no flows from the packets that came through")
    }

    /// `read` on a big capture, SIGTERM after 0 ms to 1 s (start-up, rules, mid-stream): each time
    /// a prompt exit, status 143 with "SIGTERM: ..." said, or before main the signal's own death
    /// with nothing written; the EVE file whole lines, the final stats last.
    @Test(Offline.requires)
    func sigtermAtAnyMomentDuringRead() throws {
        let big = try Offline.bigCapture()
        var outcomes: [String: Int] = [:]
        for delay in Faults.delays {
            let work = try TempDirectory()
            let eve = work.file("eve.json")
            let child = try Child([Live.ghostport, "read", "--no-progress", "-o", eve, big])
            if delay > 0 { Live.sleep(delay) }
            child.signal(SIGTERM)
            let status = child.wait(timeout: 60)
            #expect(status != nil, "no exit 15 s after SIGTERM at \(delay) s")
            child.kill()
            outcomes[Faults.expectCleanStop(child, status: status, eve: eve, delay: delay, cleanStatus: [143, 0],
                                            stopped: "SIGTERM: "), default: 0] += 1
        }
        print("read, SIGTERM at \(Faults.delays.count) moments: \(outcomes.sorted { $0.key < $1.key })")
    }

    /// `ghostport run` on a veth while UDP flows arrive, SIGTERM after 0 ms to 1 s: status 0 each
    /// time (or, before main, the signal's own death with nothing written); whole lines; the final
    /// stats last whenever the EVE file was opened.
    @Test(Live.requires())
    func sigtermAtAnyMomentDuringRun() throws {
        let pair = try VethPair()
        defer { pair.teardown() }
        // Flows throughout, however long the twenty runs take.
        let traffic = try Traffic.Stream(from: pair, to: 571, rate: 400, base: 30000)
        var outcomes: [String: Int] = [:]
        for delay in Faults.delays {
            let work = try TempDirectory()
            let eve = work.file("eve.json")
            let child = try Child([Live.ghostport, "run", "-i", pair.rootEnd, "-o", eve, "--stats-interval", "0", "--allow-root"])
            if delay > 0 { Live.sleep(delay) }
            child.signal(SIGTERM)
            let status = child.wait(timeout: 60)
            #expect(status != nil, "no exit 10 s after SIGTERM at \(delay) s")
            child.kill()
            outcomes[Faults.expectCleanStop(child, status: status, eve: eve, delay: delay, cleanStatus: [0],
                                            stopped: "stop"), default: 0] += 1
        }
        print("run, SIGTERM at \(Faults.delays.count) moments: \(outcomes.sorted { $0.key < $1.key })")
        #expect(traffic.stop() > 0, "the traffic loop failed")
    }
}

enum Faults {
    /// 20 moments from 0 to 1 s, denser early where start-up happens.
    static let delays: [Double] = [0, 0.001, 0.003, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05,
                                   0.07, 0.1, 0.13, 0.17, 0.22, 0.3, 0.4, 0.55, 0.75, 1.0]

    /// A stop that left nothing half-done: exited (not trapped, no core), with `cleanStatus`, or
    /// killed by the SIGTERM itself before `main` blocked it, having written nothing.
    /// Returns what happened, for a tally.
    @discardableResult
    static func expectCleanStop(_ child: Child, status: Int32?, eve path: String, delay: Double, cleanStatus: Set<Int32>,
                                stopped: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        guard let status else { return "hung" }
        let exists = FileManager.default.fileExists(atPath: path)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if child.process.terminationReason == .uncaughtSignal {
            #expect(status == 128 + SIGTERM && size == 0,
                    "at \(delay) s: died of signal \(status - 128) with \(size) bytes written; stderr: \(child.stderr)",
                    sourceLocation: sourceLocation)
            return "killed before main"
        }
        #expect(cleanStatus.contains(status), "at \(delay) s: status \(status); stderr: \(child.stderr)",
                sourceLocation: sourceLocation)
        #expect(!child.stderr.contains("Fatal error") && !child.stderr.contains("Crash"),
                "at \(delay) s: \(child.stderr)", sourceLocation: sourceLocation)
        guard exists else {
            // Only `run` stops before opening its output, and says so.
            #expect(child.stderr.contains("before the capture started"), "at \(delay) s: no EVE file; stderr: \(child.stderr)",
                    sourceLocation: sourceLocation)
            return "stopped before opening its output"
        }
        let eve = EVEFile(path: path)
        #expect(eve.broken.isEmpty, "at \(delay) s: cut lines \(eve.broken.prefix(2))", sourceLocation: sourceLocation)
        #expect(eve.records.last?.eventType == "stats" && eve.stats.count == 1,
                "at \(delay) s: \(eve.stats.count) stats records, the last record \(eve.records.last?.eventType ?? "none")",
                sourceLocation: sourceLocation)
        if status != 0 {
            #expect(child.stderr.contains(stopped), "at \(delay) s: the stop is not reported: \(child.stderr)",
                    sourceLocation: sourceLocation)
        }
        return "status \(status), \(eve.alerts.count > 0 ? "alerts and " : "")stats written"
    }
}

/// Offline fault tests: the ghostport binary and python3; no root.
enum Offline {
    static let requires: ConditionTrait = {
        var reasons: [String] = []
        if Live.which("python3") == nil { reasons.append("missing python3") }
        if Live.which("truncate") == nil { reasons.append("missing truncate") }
        if !FileManager.default.isExecutableFile(atPath: Live.ghostport) { reasons.append("no ghostport binary at \(Live.ghostport)") }
        return Prerequisite.trait(reasons.isEmpty ? nil : reasons.joined(separator: "; "))
    }()

    private static let cache = Mutex<String?>(nil)

    /// How far process `pid` has read `path` (its descriptor's offset, from /proc), or nil.
    static func position(of pid: Int32, in path: String) -> Int? {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        for fd in fds where (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) == path {
            let info = (try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8)) ?? ""
            if let line = info.split(separator: "\n").first(where: { $0.hasPrefix("pos:") }) {
                return Int(line.dropFirst(4).trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }

    /// A TrafficGen scenario of 600,000 packets (about a second of `read` in a debug build). The
    /// generator is deterministic, so one copy in the temporary directory serves every run.
    static func bigCapture() throws -> String {
        try cache.withLock { cached in
            if let cached, FileManager.default.fileExists(atPath: cached) { return cached }
            let path = NSTemporaryDirectory() + "ghostport-faults-scenario-600000-seed5.pcap"
            if !FileManager.default.fileExists(atPath: path) {
                let partial = path + ".\(getpid())"
                _ = try Scenario(Scenario.Configuration(seed: 5, packets: 600_000)).writeCapture(to: partial)
                guard rename(partial, path) == 0 else { throw CommandFailure(description: "rename \(partial): \(errno)") }
            }
            cached = path
            return path
        }
    }

    /// The first `count` records of the classic pcap `source`, written to `target`.
    static func prefix(of source: String, packets count: Int, to target: String) throws {
        try sh("python3", "-c", """
            import struct, sys
            src, n = open(sys.argv[1], 'rb'), int(sys.argv[2])
            out = open(sys.argv[3], 'wb')
            head = src.read(24); out.write(head)
            endian = '<' if head[:4] in (b'\\xd4\\xc3\\xb2\\xa1', b'\\x4d\\x3c\\xb2\\xa1') else '>'
            for _ in range(n):
                rec = src.read(16)
                caplen = struct.unpack(endian + 'IIII', rec)[2]
                out.write(rec + src.read(caplen))
            """, source, String(count), target)
    }

    /// The packets `read` reported (its summary's "read N packets"), read again from a finished
    /// file of just those packets, give the same alerts and flows.
    static func expectSameAsPrefix(eve: String, summary: String, of big: String, in work: TempDirectory,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        let got = EVEFile(path: eve)
        #expect(got.broken.isEmpty, "cut lines: \(got.broken.prefix(2))", sourceLocation: sourceLocation)
        #expect(got.records.last?.eventType == "stats", sourceLocation: sourceLocation)
        guard let range = summary.range(of: #"read (\d+) packets"#, options: .regularExpression),
              let packets = Int(summary[range].split(separator: " ")[1]) else {
            Issue.record("no packet count in: \(summary)", sourceLocation: sourceLocation)
            return
        }
        #expect(packets > 0, sourceLocation: sourceLocation)
        let prefix = work.file("prefix.pcap"), expectedEVE = work.file("expected.json")
        try Offline.prefix(of: big, packets: packets, to: prefix)
        let again = try Child.run([Live.ghostport, "read", "--no-progress", "--quiet", "-o", expectedEVE, prefix], timeout: 60)
        #expect(again.status == 0, "\(again.stderr)", sourceLocation: sourceLocation)
        let expected = EVEFile(path: expectedEVE)
        func comparable(_ file: EVEFile) -> [String] {
            file.lines.filter { !$0.contains("\"event_type\":\"stats\"") }.map {
                $0.replacingOccurrences(of: #","pcap_filename":"[^"]*""#, with: "", options: .regularExpression)
            }
        }
        #expect(expected.alerts.count > 0, sourceLocation: sourceLocation)
        let (mine, theirs) = (comparable(got), comparable(expected))
        #expect(mine == theirs, "\(mine.count) records against \(theirs.count) from the same \(packets) packets",
                sourceLocation: sourceLocation)
        print("\(packets) packets read before the end of the data: \(got.alerts.count) alerts, as from a whole file")
    }
}
