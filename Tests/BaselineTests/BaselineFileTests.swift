import Baseline
import Foundation
import Testing
import TestSupport
import Wire

@Suite("the baseline file")
struct BaselineFileTests {
    static let v4 = IPAddress(ipv4: 0xC000_0207)  // 192.0.2.7
    static let v6 = IPAddress(high: 0x2001_0DB8_0000_0000, low: 5, isIPv6: true)

    @Test("written and read back: the same listeners, figures, comments and since")
    func roundTrip() throws {
        let baseline = ListenerBaseline(since: 1_764_547_200)
        let dicom = ListenerKey(address: Self.v4, port: 104, proto: 6)
        let plant = ListenerKey(address: Self.v6, port: 519, proto: 17)
        baseline.observe(dicom, client: IPAddress(ipv4: 1), start: 1_764_576_001, end: 1_764_576_005, learning: true)
        baseline.observe(dicom, client: IPAddress(ipv4: 2), start: 1_764_580_000, end: 1_764_580_001, learning: true)
        baseline.observe(dicom, client: IPAddress(ipv4: 1), start: 1_764_590_000, end: 1_764_590_002, learning: true)
        baseline.observe(plant, client: IPAddress(ipv4: 3), start: 1_764_600_000, end: 1_764_600_000, learning: true)
        let text = BaselineFile.format(baseline)
        #expect(text.contains("since 2025-12-01T00:00:00Z\n"))
        #expect(text.contains("192.0.2.7 104/tcp 2025-12-01T08:00:01Z 2025-12-01T11:53:22Z 3 2\n"), "\(text)")
        #expect(text.contains("2001:db8::5 519/udp "))
        let edited = text.replacingOccurrences(of: " 3 2\n", with: " 3 2 # PACS archive, radiology\n")
        let read = try BaselineFile.parse(edited, path: "b").get()
        #expect(read.since == 1_764_547_200)
        #expect(read.entries[dicom] == ListenerEntry(firstSeen: 1_764_576_001, lastSeen: 1_764_590_002, flows: 3, clients: 2,
                                                     comment: "PACS archive, radiology"))
        #expect(read.entries[plant]?.flows == 1)
        #expect(BaselineFile.format(read) == edited, "a file read and written again is the same text")
    }

    @Test("hand-written lines: only the address and port are needed; blank lines and comments are skipped")
    func handEdited() throws {
        let text = """
            # written by hand
            198.51.100.9 87/tcp

            10.0.0.5   519/tcp - - 0 0   # plant PLC
            \t2001:db8::1 104/sctp # bare\r
            """
        let read = try BaselineFile.parse(text, path: "b").get()
        #expect(read.count == 3 && read.since == nil)
        #expect(read.entries[ListenerKey(address: IPAddress(ipv4: 0xC633_6409), port: 87, proto: 6)] == ListenerEntry())
        #expect(read.entries[ListenerKey(address: IPAddress(ipv4: 0x0A00_0005), port: 519, proto: 6)]?.comment == "plant PLC")
        #expect(read.entries[ListenerKey(address: IPAddress(high: 0x2001_0DB8_0000_0000, low: 1, isIPv6: true), port: 104, proto: 132)]?.comment == "bare")
    }

    @Test("a line that cannot be read is FILE:LINE: reason, each one", arguments: [
        ("192.0.2 104/tcp", "'192.0.2' is not an IPv4 or IPv6 address"),
        ("192.0.2.7", "a port and protocol must follow the address"),
        ("192.0.2.7 104", "'104' is not a port and protocol"),
        ("192.0.2.7 104/icmp", "'104/icmp' is not a port and protocol"),
        ("192.0.2.7 70000/tcp", "'70000/tcp' is not a port and protocol"),
        ("192.0.2.7 104/tcp yesterday", "'yesterday' is not a time (first seen)"),
        ("192.0.2.7 104/tcp - 2025-02-30T00:00:00Z", "'2025-02-30T00:00:00Z' is not a time (last seen)"),
        ("192.0.2.7 104/tcp - - many", "'many' is not a count of flows"),
        ("192.0.2.7 104/tcp - - 1 -2", "'-2' is not a count of clients"),
        ("192.0.2.7 104/tcp - - 1 2 3", "7 fields; at most 6"),
        ("since last week", "`since` takes one time"),
    ])
    func brokenLine(line: String, reason: String) {
        let text = "# header\n192.0.2.8 104/tcp\n\(line)\n"
        guard case .failure(let errors) = BaselineFile.parse(text, path: "/etc/ghostport/baseline.txt") else {
            Issue.record("\(line) was read")
            return
        }
        #expect(errors.messages.count == 1)
        #expect(errors.messages.first?.hasPrefix("/etc/ghostport/baseline.txt:3: \(reason)") == true, "\(errors.messages)")
    }

    @Test("a listener twice, and more listeners than the bound, are errors")
    func duplicatesAndBound() {
        guard case .failure(let twice) = BaselineFile.parse("192.0.2.7 104/tcp\n192.0.2.7 104/tcp\n", path: "b") else {
            Issue.record("a duplicate was read")
            return
        }
        #expect(twice.messages == ["b:2: 192.0.2.7 104/tcp is listed twice"])
        guard case .failure(let full) = BaselineFile.parse("192.0.2.7 1/tcp\n192.0.2.7 2/tcp\n192.0.2.7 3/tcp\n", path: "b", capacity: 2) else {
            Issue.record("three listeners were read into a baseline of two")
            return
        }
        #expect(full.messages == ["b:3: more than 2 listeners (baseline.max_listeners)"])
    }

    @Test("a truncated file: whole lines are read, a cut line is an error naming it")
    func truncated() throws {
        let baseline = ListenerBaseline()
        for port in UInt16(1)...40 {
            baseline.observe(ListenerKey(address: Self.v4, port: port, proto: 6), client: IPAddress(ipv4: 9),
                             start: 1_764_576_001, end: 1_764_576_002, learning: true)
        }
        let text = BaselineFile.format(baseline)
        var cuts = 0
        for cut in stride(from: text.utf8.count - 1, to: text.utf8.count / 2, by: -7) {
            let prefix = String(decoding: Array(text.utf8)[..<cut], as: UTF8.self)
            switch BaselineFile.parse(prefix, path: "b") {
            case .success(let read):
                // Cut at a field boundary the line still reads: as a listener the full file has.
                #expect(read.entries.keys.allSatisfy { baseline.contains($0) })
            case .failure(let errors):
                cuts += 1
                let lastLine = prefix.split(separator: "\n", omittingEmptySubsequences: false).count
                #expect(errors.messages.count == 1 && errors.messages[0].hasPrefix("b:\(lastLine): "), "\(errors.messages)")
            }
        }
        #expect(cuts > 0)
    }

    @Test("written atomically: a write that cannot finish leaves the old file whole, no temporary behind")
    func atomicWrite() throws {
        let directory = try TempDirectory()
        let path = directory.file("baseline.txt")
        let old = ListenerBaseline()
        old.observe(ListenerKey(address: Self.v4, port: 104, proto: 6), client: Self.v4, start: 1, end: 2, learning: true)
        try BaselineFile.write(old, to: path)
        let before = try String(contentsOfFile: path, encoding: .utf8)
        #expect(try BaselineFile.load(path).get().count == 1)

        // The temporary file's name taken by a directory: the write fails before the rename.
        try FileManager.default.createDirectory(atPath: "\(path).tmp.\(getpid())", withIntermediateDirectories: false)
        let new = ListenerBaseline()
        #expect(throws: BaselineErrors.self) { try BaselineFile.write(new, to: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
        try FileManager.default.removeItem(atPath: "\(path).tmp.\(getpid())")

        // A sensor killed between writing the temporary file and renaming it: the old file is
        // what loads, the leftover temporary is ignored and replaced by the next write.
        try "192.0.2.7 104/tc".write(toFile: "\(path).tmp.12345", atomically: false, encoding: .utf8)
        #expect(try BaselineFile.load(path).get().count == 1)
        try BaselineFile.write(new, to: path)
        #expect(try BaselineFile.load(path).get().count == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["baseline.txt", "baseline.txt.tmp.12345"])
    }

    @Test("a missing file: an error, or an empty baseline for a sensor about to learn")
    func missing() {
        guard case .failure(let errors) = BaselineFile.load("/nonexistent/baseline.txt") else {
            Issue.record("a missing file loaded")
            return
        }
        #expect(errors.messages.count == 1 && errors.messages[0].hasPrefix("/nonexistent/baseline.txt: "))
        #expect((try? BaselineFile.load("/nonexistent/baseline.txt", missingIsEmpty: true).get().count) == 0)
    }

    @Test("bounded: a full baseline learns no more listeners, counts them refused, and still updates its own")
    func bounded() {
        let baseline = ListenerBaseline(capacity: 2)
        for port in UInt16(1)...3 {
            baseline.observe(ListenerKey(address: Self.v4, port: port, proto: 6), client: Self.v4, start: 10, end: 11, learning: true)
        }
        #expect(baseline.count == 2 && baseline.refused == 1)
        #expect(baseline.observe(ListenerKey(address: Self.v4, port: 1, proto: 6), client: Self.v6, start: 20, end: 21, learning: true))
        #expect(baseline.entries[ListenerKey(address: Self.v4, port: 1, proto: 6)] == ListenerEntry(firstSeen: 10, lastSeen: 21, flows: 2, clients: 2))
        // Not learning: known listeners are updated, new ones are not added.
        #expect(!ListenerBaseline().observe(ListenerKey(address: Self.v4, port: 1, proto: 6), client: Self.v4, start: 1, end: 1, learning: false))
    }

    @Test("reload: the file's lines win (a deleted one stays deleted); what this run saw since its last save is brought in")
    func reload() throws {
        let a = ListenerKey(address: Self.v4, port: 104, proto: 6), b = ListenerKey(address: Self.v4, port: 519, proto: 6)
        let c = ListenerKey(address: Self.v4, port: 87, proto: 17), d = ListenerKey(address: Self.v6, port: 571, proto: 6)
        let held = ListenerBaseline(since: 100)
        held.observe(a, client: Self.v6, start: 110, end: 111, learning: true)
        held.observe(b, client: Self.v6, start: 120, end: 121, learning: true)
        held.markSaved(at: 130)
        // Since the save: a answers again, c is learned. Meanwhile the operator deleted b and
        // added d (with no times) to the file.
        held.observe(a, client: Self.v4, start: 140, end: 141, learning: true)
        held.observe(c, client: Self.v4, start: 150, end: 151, learning: true)
        let file = try BaselineFile.parse("since 1970-01-01T00:01:40Z\n192.0.2.7 104/tcp - - 1 1 # archive\n2001:db8::5 571/tcp # new by hand\n",
                                          path: "b").get()
        held.reload(from: file, learning: true)
        #expect(Set(held.entries.keys) == [a, c, d])
        #expect(held.entries[a] == ListenerEntry(firstSeen: 110, lastSeen: 141, flows: 2, clients: 2, comment: "archive"))
        #expect(held.entries[c]?.flows == 1 && held.entries[d] == ListenerEntry(comment: "new by hand"))
        // Not learning: what was learned since the save is not brought back.
        let again = ListenerBaseline(since: 100)
        again.markSaved(at: 130)
        again.observe(c, client: Self.v4, start: 150, end: 151, learning: true)
        again.reload(from: file, learning: false)
        #expect(Set(again.entries.keys) == [a, d])
    }

    @Test("times: UTC text and back, impossible dates refused")
    func times() {
        #expect(UTCTime.format(0) == "1970-01-01T00:00:00Z")
        #expect(UTCTime.parse("2024-02-29T23:59:59Z") == 1_709_251_199)
        #expect(UTCTime.parse(UTCTime.format(1_764_576_001)) == 1_764_576_001)
        for bad in ["2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-01-01 00:00:00Z", "2025-01-01T00:00:00", "2025-01-01T24:00:00Z"] {
            #expect(UTCTime.parse(bad) == nil, "\(bad)")
        }
    }
}
