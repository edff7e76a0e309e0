import Testing
@testable import Output

/// The progress bar's line: what a file and a pipe show, the rates and the time left.
@Suite struct ProgressLineTests {
    @Test func aFileShowsHowFarAndTheTimeLeft() {
        // 120 of 300 MiB in 2 s: 60 MiB/s, so 180 MiB take 3 s more.
        let line = ProgressLine.render(bytesRead: 120 << 20, bytesTotal: 300 << 20, packets: 1_843_200, alerts: 12, seconds: 2)
        #expect(line == "[############..................]   40%  120.0/300.0 MiB  1843200 pkts  921.6k pkt/s  60.0 MiB/s  12 alerts  ETA 0:03")
    }

    @Test func aPipeHasNoTotalAndNoEstimate() {
        let line = ProgressLine.render(bytesRead: 120 << 20, bytesTotal: nil, packets: 1_843_200, alerts: 1, seconds: 2)
        #expect(line == "1843200 pkts  120.0 MiB  921.6k pkt/s  60.0 MiB/s  1 alert")
    }

    @Test func theFirstFrameBeforeAnyTimePassed() {
        #expect(ProgressLine.render(bytesRead: 0, bytesTotal: 1 << 20, packets: 0, alerts: 0, seconds: 0)
                == "[..............................]    0%  0.0/1.0 MiB  0 pkts  0 alerts")
        #expect(ProgressLine.render(bytesRead: 1 << 20, bytesTotal: 1 << 20, packets: 10, alerts: 0, seconds: 0.5)
                == "[##############################]  100%  1.0/1.0 MiB  10 pkts  20 pkt/s  2.0 MiB/s  0 alerts  ETA 0:00")
    }

    @Test(arguments: [(0.0, "0:00"), (0.2, "0:01"), (59.0, "0:59"), (61.0, "1:01"), (3599.0, "59:59"),
                      (3600.0, "1:00:00"), (3661.0, "1:01:01"), (1e12, "--:--"), (Double.infinity, "--:--")])
    func clock(seconds: Double, expected: String) {
        #expect(ProgressLine.clock(seconds) == expected)
    }

    @Test(arguments: [(0.0, "0"), (950.4, "950"), (999.6, "1000"), (1_000.0, "1.0k"), (12_345.0, "12.3k"), (4_560_000.0, "4.6M")])
    func rate(value: Double, expected: String) {
        #expect(ProgressLine.rate(value) == expected)
    }
}
