import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `read`'s progress bar as a terminal sees it: `script` gives `read` a pseudo-terminal, and the
/// capture comes through a pipe the test feeds in two parts. While the writer holds back the
/// second part no packet arrives, so a bar redrawn on packets would stand still; the bar is
/// redrawn on a timer and counts every packet read (none of these is turned away, but the
/// count is the reader's, not the engine's), with no ETA, since a pipe has no end to estimate.
@Suite(.serialized) struct ProgressBarTests {
    static let tools = Prerequisite.tools("script", "python3", packages: ["script": "bsdutils"])

    @Test(Prerequisite.trait(tools))
    func redrawsOnATimerAndCountsEveryPacketFromAPipe() throws {
        try Prerequisite.require(Self.tools)
        let work = try TempDirectory()
        // 600 probes to 571/udp from 600 sources, then 400 more.
        let frames = (0..<1000).map { i in
            Packet.ethernet(Network.ipv4(src: "10.\(i / 250).\(i % 250).1", dst: "192.168.4.20",
                                         .udp(sport: UInt16(40000 + i), dport: 571, payload: [1, 2, 3])))
        }
        let bytes = CaptureFile(frames: frames).bytes()
        let firstPart = 24 + frames.prefix(600).reduce(0) { $0 + 16 + $1.count }
        let capture = try work.write("capture.pcap", bytes)
        let fifo = work.file("capture.fifo"), go = work.file("go"), typescript = work.file("typescript")
        #expect(mkfifo(fifo, 0o600) == 0)

        // The writer: the first 600 packets, then nothing until the test says go.
        let writer = try Child(["python3", "-c", """
            import os, sys, time
            data = open(sys.argv[1], 'rb').read()
            out = open(sys.argv[2], 'wb')
            out.write(data[:int(sys.argv[3])]); out.flush()
            print('first part written', flush=True)
            while not os.path.exists(sys.argv[4]): time.sleep(0.05)
            out.write(data[int(sys.argv[3]):]); out.close()
            """, capture, fifo, String(firstPart), go])
        defer { writer.kill() }
        let command = "\(Live.ghostport) read -q -o \(work.file("eve.json")) \(fifo)"
        let reader = try Child(["script", "-qfec", command, typescript])
        defer { reader.kill() }

        // What the terminal showed: script's standard output (its typescript file adds a header).
        func screen() -> String { reader.stdout }
        func redraws(_ text: String) -> [String] {
            text.split(separator: "\r").map(String.init).filter { $0.contains(" pkts") }
        }
        // Redraws saying 600 packets while no packet comes: the timer, not the packets. The
        // writer waits for this, so however slow the machine, the bar catches up: two redraws
        // of 600 packets, and one with the 600 probes' alerts.
        let stalled = Live.wait(timeout: 60) {
            let waiting = redraws(screen()).filter { $0.hasPrefix("600 pkts ") }
            return waiting.count >= 2 && waiting.contains { $0.contains(" 600 alerts") }
        }
        #expect(stalled, "no two redraws of 600 packets (one with 600 alerts) while the pipe was quiet: \(screen().debugDescription)")
        #expect(FileManager.default.createFile(atPath: go, contents: nil))
        #expect(reader.wait(timeout: 60) == 0, "\(reader.stderr) \(screen().debugDescription)")

        let drawn = redraws(screen())
        for line in drawn {
            // "600 pkts  0.1 MiB  2.3k pkt/s  0.0 MiB/s  600 alerts", the line cleared after it.
            #expect(line.range(of: #"^\d+ pkts  \d+\.\d MiB  [\d.]+[kM]? pkt/s  \d+\.\d MiB/s  \d+ alerts?\x1B\[K$"#,
                               options: .regularExpression) != nil, "\(line.debugDescription)")
            #expect(!line.contains("ETA") && !line.contains("%"), "a pipe has no total: \(line.debugDescription)")
        }
        // The 600 probes alerted before the pause, one per flow, and the count said so.
        #expect(drawn.contains { $0.contains("600 pkts ") && $0.contains(" 600 alerts") }, "\(drawn)")
        // The bar is gone at the end: the last thing written clears the line.
        #expect(screen().hasSuffix("\r\u{1B}[K"), "\(screen().suffix(80).debugDescription)")
        let eve = (try? String(contentsOfFile: work.file("eve.json"), encoding: .utf8)) ?? ""
        #expect(eve.components(separatedBy: "\"event_type\":\"alert\"").count - 1 == 1000)
    }

    /// Not a terminal (a file, a pipe to less, a CI log): no bar, nothing but the summary.
    @Test func noBarWhenStandardErrorIsNotATerminal() throws {
        let work = try TempDirectory()
        let frames = (0..<10).map { i in
            Packet.ethernet(Network.ipv4(src: "10.0.0.\(i + 1)", dst: "192.168.4.20", .udp(sport: 4000, dport: 571)))
        }
        let capture = try work.write("capture.pcap", CaptureFile(frames: frames))
        let child = try Child([Live.ghostport, "read", "-o", work.file("eve.json"), capture])
        #expect(child.wait(timeout: 60) == 0)
        #expect(!child.stderr.contains("\r") && !child.stderr.contains("pkts"), "\(child.stderr.debugDescription)")
        #expect(child.stderr.hasPrefix("read 10 packets"), "\(child.stderr)")
    }
}
