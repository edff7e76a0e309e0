import Foundation
import Testing
import TestSupport

/// `ghostport report` and `read --report`: the page's figures against an aggregation of the same
/// EVE records by Tests/report/check_report.py (Python's json module, none of ghostport's code);
/// the page in a real browser (Debian's Chromium, headless: no console message, no request, a
/// screenshot that is not blank); hostile and broken input.
@Suite("the HTML report")
struct ReportTests {
    static let checker = Repository.root + "/Tests/report/check_report.py"
    static let browser = Repository.root + "/Tests/report/browser_check.py"
    static let chromiumUnmet = Prerequisite.tools("chromium")
    static let all = ["--top", "100000"]

    /// A generated capture with every record kind: scans, answered, rejected and unanswered flows
    /// (Scenario), a flood with backscatter (FloodScenario), decode anomalies; evidence files.
    struct Capture {
        let directory: TempDirectory
        var eve: String { directory.file("eve.json") }
        var page: String { directory.file("read.html") }

        init() throws {
            directory = try TempDirectory()
            _ = try Repository.generate("scenario", seed: 21, packets: 30_000, in: directory.path)
            var flood = FloodScenario.Configuration()
            flood.floodFlows = 3_000
            flood.backscatterFlows = 300
            _ = try FloodScenario(flood).write(to: directory.path, name: "flood")
            let anomalies = try directory.write("anomalies.pcap", GoldenCaptures.anomalies())
            let read = try Tool.ghostport(["read", "--quiet", "--anomalies", "--evidence", directory.file("evidence"),
                                           "--output", eve, "--report", page] + FloodTests.limits + ReportTests.all
                                          + [directory.file("scenario.pcap"), directory.file("flood.pcap"),
                                             anomalies])
            #expect(read.status == 0, "\(read.stderr)")
        }
    }

    static func check(_ page: String, _ eve: [String]) throws -> ProcessOutput {
        try Tool.run(Prerequisite.python, [checker, page] + eve)
    }

    static func records(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test("read --report and report on its EVE: every tile, port, answered listener, source and scan as Python counts them")
    func figures() throws {
        let capture = try Capture()
        let kinds = Set(try Self.records(capture.eve).compactMap { $0["event_type"] as? String })
        #expect(kinds == ["alert", "flow", "flood", "anomaly", "stats"], "\(kinds)")
        let fromRead = try Self.check(capture.page, [capture.eve])
        #expect(fromRead.status == 0, "read --report:\n\(fromRead.stdout)\(fromRead.stderr)")

        let page = capture.directory.file("report.html")
        let report = try Tool.ghostport(["report", "-o", page] + Self.all + [capture.eve])
        #expect(report.status == 0 && report.stderr.isEmpty, "\(report.stderr)")
        let fromReport = try Self.check(page, [capture.eve])
        #expect(fromReport.status == 0, "report:\n\(fromReport.stdout)\(fromReport.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        // What the checker does not compare: the evidence files are named, the flood is listed.
        let evidence = try FileManager.default.contentsOfDirectory(atPath: capture.directory.file("evidence"))
        #expect(!evidence.isEmpty && evidence.contains { html.contains($0) })
        #expect(html.contains("<table id=\"floods\""))
        #expect(html.contains("<table id=\"anomalies\""))
    }

    @Test("the default caps: 20 rows a table, the rest counted, the shown rows still the busiest")
    func capped() throws {
        let capture = try Capture()
        let page = capture.directory.file("capped.html")
        let report = try Tool.ghostport(["report", "-o", page, capture.eve])
        #expect(report.status == 0, "\(report.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("id=\"sources-more\""))
        let check = try Self.check(page, [capture.eve])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test("rotated inputs, newest first, one gzip-compressed, one from standard input: the same figures as the whole file")
    func rotatedInputs() throws {
        let capture = try Capture()
        let lines = try String(contentsOfFile: capture.eve, encoding: .utf8).split(separator: "\n")
        let third = lines.count / 3
        let parts = [lines[..<third], lines[third..<(2 * third)], lines[(2 * third)...]]
        let dir = capture.directory
        for (i, part) in parts.enumerated() {
            try (part.joined(separator: "\n") + "\n").write(toFile: dir.file("eve.json.\(2 - i)"), atomically: true, encoding: .utf8)
        }
        let gzip = try Tool.run("/bin/gzip", ["-9", dir.file("eve.json.1")])
        #expect(gzip.status == 0)
        // As a shell's glob names them: the newest (the current file) first.
        let page = dir.file("rotated.html")
        let report = try Tool.ghostport(["report", "-o", page] + Self.all + ["-", dir.file("eve.json.1.gz"), dir.file("eve.json.2")],
                                        stdinPath: dir.file("eve.json.0"))
        #expect(report.status == 0, "\(report.stderr)")
        // Standard input comes last, as read: a stats record split across runs would show here.
        let check = try Self.check(page, [capture.eve])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(try String(contentsOfFile: page, encoding: .utf8).contains("eve.json.1.gz ("))
    }

    @Test("a Suricata eve.json (Tests/report/suricata-eve.json: alerts both ways, ICMP, flow, dns, anomaly, stats): the shared fields")
    func suricata() throws {
        let dir = try TempDirectory()
        let eve = Repository.root + "/Tests/report/suricata-eve.json"
        let page = dir.file("suricata.html")
        let report = try Tool.ghostport(["report", "-o", page, eve])
        #expect(report.status == 0 && report.stderr.isEmpty, "\(report.stderr)")
        let check = try Self.check(page, [eve])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        // Two severity-2 scans, one severity-1 response (from port 80, to the client), one ping;
        // two sensors; the last stats record's drops; times in UTC (the records are +0100).
        #expect(html.contains("id=\"alerts-sev1\" data-v=\"1\"") && html.contains("id=\"alerts-sev2\" data-v=\"2\""))
        #expect(html.contains("<tr data-key=\"80/tcp\">") && html.contains("<tr data-key=\"22/tcp\">"))
        #expect(html.contains("<dd>sensor-1, sensor-2</dd>"))
        #expect(html.contains("40,000</span> loaded, 0 failed, loaded 2024-03-01 08:59:52.000 UTC"))
        #expect(html.contains("id=\"dropped\">30</b>"))
        #expect(html.contains("2024-03-01 09:00:00.123 to 2024-03-01 09:00:16.000 UTC"))
        #expect(html.contains("dns 1"))
    }

    @Test("a live sensor's drops and lost records make the page say it cannot be trusted")
    func drops() throws {
        let capture = try Capture()
        // Two runs of a live sensor: cumulative stats, a restart (uptime back to 10) between them.
        func stats(_ uptime: Int, packets: Int, drops: Int, ring: Int, lost: Int) -> String {
            """
            {"timestamp":"2025-06-15T10:00:\(10 + uptime % 50)Z","event_type":"stats","stats":{"uptime":\(uptime),"capture":{"kernel_packets":\(packets),"kernel_drops":\(drops),"kernel_ifdrops":0},"decoder":{"pkts":\(packets),"bytes":1},"flow":{"active":0},"detect":{"alert":0,"alerts_suppressed":0}},"ghostport":{"stats":{"capture":{"ring_waits":0,"ring_drops":\(ring)},"flow":{"created":5},"detect":{"alerts_shed_source":0,"alerts_shed_sid":0},"output":{"lost":\(lost),"evidence_errors":0}}}}
            """
        }
        let live = [stats(10, packets: 100, drops: 1, ring: 0, lost: 0), stats(20, packets: 200, drops: 4, ring: 2, lost: 0),
                    stats(10, packets: 50, drops: 3, ring: 0, lost: 6)].joined(separator: "\n") + "\n"
        let file = capture.directory.file("live.json")
        try live.write(toFile: file, atomically: true, encoding: .utf8)
        let page = capture.directory.file("live.html")
        let report = try Tool.ghostport(["report", "-o", page, file])
        #expect(report.status == 0, "\(report.stderr)")
        let check = try Self.check(page, [file])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        // Runs: (4 + 2) and 3 dropped; 6 records lost.
        #expect(html.contains("The sensor dropped <b data-v=\"9\" id=\"dropped\">9</b> packets in this span"))
        #expect(html.contains("6 records were lost writing the EVE output"))
        #expect(html.contains("2 sensor runs"))
    }

    /// Every string of every record of a real read replaced by markup that would run script if
    /// it were placed unescaped, in two variants: all strings, and all but the ones that decide
    /// which table a record reaches (event_type, timestamp, kind, verdict, direction).
    static let payloads = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>", "' onmouseover='alert(3)",
                           "</td></tr></table><svg onload=alert(4)>", "&lt;b&gt;entity&lt;/b&gt;", "javascript:alert(5)"]

    static func poison(_ value: Any, keep: Set<String>, key: String, counter: inout Int) -> Any {
        switch value {
        case let object as [String: Any]:
            var copy: [String: Any] = [:]
            for (name, inner) in object { copy[name] = poison(inner, keep: keep, key: name, counter: &counter) }
            return copy
        case let array as [Any]:
            return array.map { poison($0, keep: keep, key: key, counter: &counter) }
        case is String where !keep.contains(key):
            counter += 1
            return payloads[counter % payloads.count]
        default:
            return value
        }
    }

    static func hostileEVE(_ capture: Capture) throws -> String {
        var lines: [String] = []
        var counter = 0
        for record in try records(capture.eve) {
            for keep in [Set(["event_type", "timestamp"]), Set(["event_type", "timestamp", "kind", "verdict", "direction", "proto"])] {
                let poisoned = poison(record, keep: keep, key: "", counter: &counter)
                lines.append(String(decoding: try JSONSerialization.data(withJSONObject: poisoned), as: UTF8.self))
            }
        }
        let file = capture.directory.file("hostile.json")
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test("markup in every string field of every record stays text: one script element, no other element from the input")
    func hostileFields() throws {
        let capture = try Capture()
        let file = try Self.hostileEVE(capture)
        let page = capture.directory.file("hostile.html")
        let report = try Tool.ghostport(["report", "-o", page, "--top", "50", file])
        #expect(report.status == 0, "\(report.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.components(separatedBy: "<script").count == 2)
        for tag in ["<img", "<svg onload", "<b>", "<table><svg"] { #expect(!html.contains(tag), "\(tag) reached the page") }
        // As a browser's parser sees it: only the elements ghostport writes, no event handler attribute.
        let parse = """
            import sys
            from html.parser import HTMLParser
            tags, handlers = set(), []
            class P(HTMLParser):
                def handle_starttag(self, tag, attrs):
                    tags.add(tag)
                    handlers.extend(name for name, _ in attrs if name.startswith("on"))
            P().feed(open(sys.argv[1], encoding="utf-8").read())
            print(" ".join(sorted(tags)), "|", " ".join(handlers))
            """
        let parsed = try Tool.run(Prerequisite.python, ["-c", parse, page])
        let parts = parsed.stdout.split(separator: "|").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let written: Set<String> = ["html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "dl", "dt", "dd", "section",
                                    "p", "b", "ul", "li", "code", "div", "span", "svg", "line", "text", "g", "rect", "i", "table",
                                    "thead", "tbody", "tr", "th", "td", "path", "footer", "script"]
        #expect(parts.count == 2 && Set(parts[0].split(separator: " ").map(String.init)).isSubset(of: written), "\(parsed.stdout)")
        #expect(parts.count == 2 && parts[1].isEmpty, "event handlers: \(parsed.stdout)")
        // Each payload is on the page as text (escaped), so the fields were shown.
        for payload in Self.payloads {
            let escaped = payload.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
                .replacingOccurrences(of: "'", with: "&#39;")
            #expect(html.contains(escaped), "\(payload) is not on the page as text")
        }
    }

    @Test(Prerequisite.trait(ReportTests.chromiumUnmet))
    func inChromium() throws {
        try Prerequisite.require(Self.chromiumUnmet)
        let capture = try Capture()
        let browsed = try Tool.run(Prerequisite.python, [Self.browser, capture.page, capture.directory.file("page.png")])
        #expect(browsed.status == 0, "\(browsed.stderr)")
        let result = try #require(JSONSerialization.jsonObject(with: Data(browsed.stdout.utf8)) as? [String: Any])
        #expect((result["console"] as? [String])?.isEmpty == true, "console: \(result["console"] ?? "")")
        #expect((result["requests"] as? [String])?.isEmpty == true, "requests: \(result["requests"] ?? "")")
        #expect((result["colors"] as? Int ?? 0) > 100, "the screenshot has \(result["colors"] ?? 0) colours")
        // The DOM the browser built holds the figures: the alerts tile, as Python counts them.
        let dom = try #require(result["dom"] as? String)
        let alerts = try Self.records(capture.eve).filter { $0["event_type"] as? String == "alert" }.count
        #expect(dom.contains("id=\"tile-alerts\" data-v=\"\(alerts)\""))
        #expect(dom.contains("<table id=\"ports\""))

        // The hostile page: nothing runs (a script refused by the policy would be a console message).
        let hostile = capture.directory.file("hostile.html")
        let report = try Tool.ghostport(["report", "-o", hostile, "--top", "50", try Self.hostileEVE(capture)])
        #expect(report.status == 0)
        let browsedHostile = try Tool.run(Prerequisite.python, [Self.browser, hostile, capture.directory.file("hostile.png")])
        let hostileResult = try #require(JSONSerialization.jsonObject(with: Data(browsedHostile.stdout.utf8)) as? [String: Any])
        #expect((hostileResult["console"] as? [String])?.isEmpty == true, "console: \(hostileResult["console"] ?? "")")
        #expect((hostileResult["requests"] as? [String])?.isEmpty == true, "requests: \(hostileResult["requests"] ?? "")")
        let hostileDOM = try #require(hostileResult["dom"] as? String)
        #expect(hostileDOM.components(separatedBy: "<script").count == 2)
        #expect(!hostileDOM.contains("<img") && hostileDOM.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    }

    @Test("the policy's hashes are the SHA-256 of the page's one style sheet and one script, as Python's hashlib computes them")
    func policyHashes() throws {
        let dir = try TempDirectory()
        let eve = dir.file("empty.json")
        try "".write(toFile: eve, atomically: true, encoding: .utf8)
        let page = dir.file("empty.html")
        let report = try Tool.ghostport(["report", "-o", page, eve])
        #expect(report.status == 0, "\(report.stderr)")
        let script = """
            import base64, hashlib, re, sys
            page = open(sys.argv[1], encoding="utf-8").read()
            policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
            for tag, directive in (("style", "style-src"), ("script", "script-src")):
                body = re.findall(r"<%s>(.*?)</%s>" % (tag, tag), page, re.S)
                assert len(body) == 1, tag
                digest = "sha256-" + base64.b64encode(hashlib.sha256(body[0].encode()).digest()).decode()
                expected = "%s '%s'" % (directive, digest)
                assert expected in policy, "%s: policy %s lacks %s" % (tag, policy, expected)
            assert "default-src 'none'" in policy
            print("ok")
            """
        let result = try Tool.run(Prerequisite.python, ["-c", script, page])
        #expect(result.status == 0 && result.stdout.contains("ok"), "\(result.stdout)\(result.stderr)")
    }

    @Test("broken input: an empty file, a truncated one, binary junk, a 10 MB line; counted and named, never a crash")
    func brokenInput() throws {
        let capture = try Capture()
        let dir = capture.directory
        let whole = try String(contentsOfFile: capture.eve, encoding: .utf8)
        try "".write(toFile: dir.file("empty.json"), atomically: true, encoding: .utf8)
        // Cut in the middle of its last record.
        let truncated = String(whole.utf8.prefix(whole.utf8.count - 40))!
        try truncated.write(toFile: dir.file("truncated.json"), atomically: true, encoding: .utf8)
        var generator = SplitMix64(seed: 7)
        let junk = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        #expect(FileManager.default.createFile(atPath: dir.file("junk.bin"), contents: Data(junk)))
        let long = "{\"event_type\":\"alert\",\"alert\":{\"signature\":\"" + String(repeating: "A", count: 10 << 20) + "\"}}\n"
        try (long + whole.split(separator: "\n").prefix(5).joined(separator: "\n") + "\n").write(toFile: dir.file("long.json"), atomically: true, encoding: .utf8)

        let empty = try Tool.ghostport(["report", "-o", dir.file("empty.html"), dir.file("empty.json")])
        #expect(empty.status == 0 && empty.stderr.isEmpty, "\(empty.stderr)")
        #expect(try String(contentsOfFile: dir.file("empty.html"), encoding: .utf8).contains("no timestamped record"))

        let cut = try Tool.ghostport(["report", "-o", dir.file("truncated.html")] + Self.all + [dir.file("truncated.json")])
        #expect(cut.status == 0)
        let lastLine = whole.split(separator: "\n").count
        #expect(cut.stderr.contains("truncated.json:\(lastLine): "), "\(cut.stderr)")
        let check = try Self.check(dir.file("truncated.html"), [dir.file("truncated.json")])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        let binary = try Tool.ghostport(["report", "-o", dir.file("junk.html"), dir.file("junk.bin")])
        #expect(binary.status == 0)
        let junkCheck = try Self.check(dir.file("junk.html"), [dir.file("junk.bin")])
        #expect(junkCheck.status == 0, "\(junkCheck.stdout)\(junkCheck.stderr)")
        #expect(binary.stderr.contains("junk.bin:1: "), "\(binary.stderr)")

        let longLine = try Tool.ghostport(["report", "-o", dir.file("long.html"), dir.file("long.json")])
        #expect(longLine.status == 0)
        #expect(longLine.stderr.contains("long.json:1: a line of \(long.utf8.count - 1) bytes, longer than 1048576: skipped"), "\(longLine.stderr)")
        #expect(try String(contentsOfFile: dir.file("long.html"), encoding: .utf8).contains("id=\"malformed\" data-v=\"1\""))

        // A missing input: one line, exit 2, no page.
        let missing = try Tool.ghostport(["report", "-o", dir.file("missing.html"), dir.file("nowhere.json")])
        #expect(missing.status == 2 && missing.errorLines == ["ghostport: \(dir.file("nowhere.json")): no such file or directory"])
        #expect(!FileManager.default.fileExists(atPath: dir.file("missing.html")))
        // A corrupt gzip file: the page of what could be read, exit 1.
        let gz = Data([0x1F, 0x8B, 0x08, 0x00]) + Data(junk.prefix(100))
        #expect(FileManager.default.createFile(atPath: dir.file("bad.gz"), contents: gz))
        let badGzip = try Tool.ghostport(["report", "-o", dir.file("bad.html"), dir.file("bad.gz")])
        #expect(badGzip.status == 1 && badGzip.stderr.contains("bad.gz"), "\(badGzip.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.file("bad.html")))
    }
}
