import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `ghostport tail`: one readable line per alert, following the file as logrotate replaces it.
@Suite struct TailTests {
    static func alert(sid: Int, severity: Int, verdict: String, src: String, port: Int, second: Int) -> String {
        #"{"timestamp":"2026-12-03T10:00:0\#(second).250000+0000","flow_id":1,"event_type":"alert","src_ip":"\#(src)","src_port":40001,"#
            + #""dest_ip":"192.168.4.20","dest_port":\#(port),"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":\#(sid),"#
            + #""rev":1,"signature":"sig \#(sid)","category":"","severity":\#(severity)},"ghostport":{"kind":"probe","verdict":"\#(verdict)","#
            + #""watched_port":\#(port),"service":"meter"}}"# + "\n"
    }

    static let flow = #"{"timestamp":"2026-12-03T10:00:00.000000+0000","event_type":"flow","src_ip":"10.0.0.1"}"# + "\n"

    static func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    @Test func followsAcrossRotationAndPrintsOnlyAlerts() throws {
        let dir = try TempDirectory()
        let eve = dir.file("eve.json")
        try (Self.alert(sid: 1, severity: 3, verdict: "probe", src: "10.0.0.1", port: 571, second: 1)
             + Self.flow
             + Self.alert(sid: 2, severity: 3, verdict: "probe", src: "10.0.0.2", port: 571, second: 2)
             + Self.alert(sid: 3, severity: 1, verdict: "answered", src: "2001:db8::7", port: 519, second: 3))
            .write(toFile: eve, atomically: false, encoding: .utf8)
        let tail = try Child([Live.ghostport, "tail", "-n", "2", eve])
        defer { tail.kill() }
        func lines() -> [String] { tail.stdout.split(separator: "\n").map(String.init) }
        // The last two alerts already there; the flow record and sid 1 not.
        #expect(Live.wait(timeout: 60) { lines().count >= 2 }, "\(tail.stdout) \(tail.stderr)")
        #expect(lines() == [
            "2026-12-03 10:00:02.250  sev 3  probe      10.0.0.2:40001 -> 192.168.4.20:571/tcp  meter  sig 2",
            "2026-12-03 10:00:03.250  sev 1  answered   [2001:db8::7]:40001 -> 192.168.4.20:519/tcp  meter  sig 3",
        ], "not a terminal: no colour")

        // New alerts as they are written.
        try Self.append(Self.alert(sid: 4, severity: 2, verdict: "probe", src: "10.0.0.4", port: 571, second: 4), to: eve)
        #expect(Live.wait(timeout: 60) { lines().count >= 3 }, "\(tail.stdout)")

        // logrotate: the sensor writes a last alert to the old file, the file is renamed, the
        // sensor reopens the path and writes on. Both alerts, in that order.
        try Self.append(Self.alert(sid: 5, severity: 3, verdict: "probe", src: "10.0.0.5", port: 571, second: 5), to: eve)
        #expect(rename(eve, eve + ".1") == 0)
        try Self.alert(sid: 6, severity: 3, verdict: "probe", src: "10.0.0.6", port: 571, second: 6)
            .write(toFile: eve, atomically: false, encoding: .utf8)
        #expect(Live.wait(timeout: 60) { lines().count >= 5 }, "\(tail.stdout) \(tail.stderr)")
        #expect(lines().suffix(3).map { $0.components(separatedBy: "  ").last ?? "" } == ["sig 4", "sig 5", "sig 6"])
        #expect(tail.stderr.contains("\(eve): a new file (rotated); following it"), "\(tail.stderr)")

        // Truncated in place (copytruncate) and written again, less than was there: read again
        // from the start. (Like tail -F, a file that grew back past the old end before the next
        // look is indistinguishable from one that grew.)
        try "".write(toFile: eve, atomically: false, encoding: .utf8)
        try Self.append(Self.alert(sid: 7, severity: 3, verdict: "probe", src: "1.0.0.7", port: 571, second: 7), to: eve)
        #expect(Live.wait(timeout: 60) { lines().count >= 6 }, "\(tail.stdout)")
        #expect(lines().last?.hasSuffix("sig 7") == true)
        #expect(tail.isRunning)
    }

    @Test("tail --redis: a stream's last alerts as the file's, then new ones; a consumer group's two consumers each entry once; a channel; Redis restarted under it",
          Prerequisite.trait(RedisServer.unmet))
    func followsRedis() throws {
        let dir = try TempDirectory()
        let server = try RedisServer()
        let url = server.url
        // A read into a stream and a file at once: tail's backlog from each is the same.
        let (capture, _) = try Live.scenario("tail", seed: 12, packets: 20_000, in: dir)
        let read = try Child.run([Live.ghostport, "read", "--quiet", "-o", dir.file("eve.json"), "--redis", url, "--redis-mode", "stream",
                                  "--redis-key", "fleet", capture], timeout: 120)
        #expect(read.status == 0, "\(read.stderr)")
        let alerts = try String(contentsOfFile: dir.file("eve.json"), encoding: .utf8).split(separator: "\n")
            .filter { $0.contains("\"event_type\":\"alert\"") }.map { String($0) + "\n" }
        #expect(alerts.count > 60)
        let fromFile = try Child.run([Live.ghostport, "tail", "--no-follow", "-n", "50", dir.file("eve.json")], timeout: 60)
        let fromRedis = try Child.run([Live.ghostport, "tail", "--no-follow", "-n", "50", "--redis", url, "--redis-key", "fleet"], timeout: 60)
        #expect(fromRedis.status == 0 && fromRedis.stdout == fromFile.stdout && fromFile.stdout.split(separator: "\n").count == 50,
                "\(fromRedis.stderr)")
        let everything = try Child.run([Live.ghostport, "tail", "--no-follow", "--json", "-n", "100000", "--redis", url, "--redis-key", "fleet"],
                                       timeout: 60)
        #expect(everything.stdout == alerts.joined(), "every alert of the stream, oldest first, as the file has them")

        // Following: a plain tail, two consumers of one group, a channel's subscriber.
        let follower = try Child([Live.ghostport, "tail", "--json", "-n", "0", "--redis", url, "--redis-key", "fleet"])
        defer { follower.kill() }
        let first = try Child([Live.ghostport, "tail", "--json", "--redis", url, "--redis-key", "fleet", "--group", "g", "--consumer", "a"])
        defer { first.kill() }
        let second = try Child([Live.ghostport, "tail", "--json", "--redis", url, "--redis-key", "fleet", "--group", "g", "--consumer", "b"])
        defer { second.kill() }
        let subscriber = try Child([Live.ghostport, "tail", "--json", "--redis", url, "--redis-mode", "channel", "--redis-key", "news"])
        defer { subscriber.kill() }
        // Each is reading once Redis shows it blocked in its command (the follower's XREAD names
        // the last entry it saw, so nothing written after can be missed).
        #expect(Live.wait(timeout: 60) {
            let clients = (try? server.cli(["CLIENT", "LIST"])) ?? ""
            func count(_ command: String) -> Int { clients.components(separatedBy: " cmd=\(command) ").count - 1 }
            return count("xread") == 1 && count("xreadgroup") == 2 && count("subscribe") == 1
        }, "\(follower.stderr) \(first.stderr) \(second.stderr) \(subscriber.stderr)")
        let again = try Child.run([Live.ghostport, "read", "--quiet", "--redis", url, "--redis-mode", "stream", "--redis-key", "fleet",
                                   capture], timeout: 120)
        #expect(again.status == 0, "\(again.stderr)")
        let published = try Child.run([Live.ghostport, "read", "--quiet", "--redis", url, "--redis-mode", "channel", "--redis-key", "news",
                                       capture], timeout: 120)
        #expect(published.status == 0, "\(published.stderr)")
        #expect(Live.wait(timeout: 120) {
            follower.stdout.utf8.count >= alerts.joined().utf8.count && first.stdout.utf8.count + second.stdout.utf8.count >= alerts.joined().utf8.count
                && subscriber.stdout.utf8.count >= alerts.joined().utf8.count
        }, "follower \(follower.stdout.count), group \(first.stdout.count)+\(second.stdout.count), channel \(subscriber.stdout.count)")
        #expect(follower.stdout == alerts.joined(), "the new entries' alerts, once each, in order")
        #expect(subscriber.stdout == alerts.joined(), "the channel's alerts, in order")
        let shared = (first.stdout + second.stdout).split(separator: "\n").map(String.init)
        #expect(shared.count == alerts.count && Set(shared) == Set(alerts.map { String($0.dropLast()) }),
                "the group's two consumers: \(first.stdout.split(separator: "\n").count) and \(second.stdout.split(separator: "\n").count)")
        #expect(!first.stdout.isEmpty && !second.stdout.isEmpty, "both consumers got entries")
        #expect(try server.cli(["XPENDING", "fleet", "g"]).hasPrefix("0"), "every entry the group printed is acknowledged")

        // Redis stops and starts again: the follower says so, reconnects, and prints what comes next.
        server.stop()
        try server.start()
        #expect(Live.wait(timeout: 60) { follower.stderr.contains("connected again") }, "\(follower.stderr)")
        #expect(follower.stderr.contains("reconnecting"))
        let line = Self.alert(sid: 9, severity: 1, verdict: "answered", src: "10.0.0.9", port: 571, second: 9)
        _ = try server.cli(["XADD", "fleet", "*", "eve", String(line.dropLast())])
        #expect(Live.wait(timeout: 60) { follower.stdout.hasSuffix(line) }, "\(follower.stdout.suffix(300))")
        #expect(follower.isRunning)

        // What cannot be followed: a list; a server that is not there.
        let list = try Child.run([Live.ghostport, "tail", "--redis", url, "--redis-mode", "list"], timeout: 60)
        #expect(list.status == 2 && list.stderr.contains("a list is a queue its consumers empty"), "\(list.stderr)")
        let away = try Child.run([Live.ghostport, "tail", "--no-follow", "--redis", "redis://127.0.0.1:1/0"], timeout: 60)
        #expect(away.status == 2 && away.stderr.contains("cannot connect"), "\(away.stderr)")
    }

    @Test func filtersBySeverityAndPassesJSONThrough() throws {
        let dir = try TempDirectory()
        let eve = dir.file("eve.json")
        let severe = Self.alert(sid: 3, severity: 1, verdict: "answered", src: "10.0.0.3", port: 519, second: 3)
        try (Self.alert(sid: 1, severity: 3, verdict: "probe", src: "10.0.0.1", port: 571, second: 1) + Self.flow + severe)
            .write(toFile: eve, atomically: false, encoding: .utf8)
        let json = try Child.run([Live.ghostport, "tail", "--no-follow", "--json", "--min-severity", "2", eve], timeout: 60)
        #expect(json.status == 0 && json.stdout == severe, "\(json.stdout) \(json.stderr)")
        let coloured = try Child.run([Live.ghostport, "tail", "--no-follow", "--color", eve], timeout: 60)
        #expect(coloured.stdout.split(separator: "\n").last?.hasPrefix("\u{1B}[31;1m2026-12-03 10:00:03.250  sev 1  answered") == true,
                "\(coloured.stdout.debugDescription)")
        let missing = try Child.run([Live.ghostport, "tail", dir.file("none.json")], timeout: 60)
        #expect(missing.status == 2 && missing.stderr == "ghostport: \(dir.file("none.json")): no such file or directory\n")
    }
}
