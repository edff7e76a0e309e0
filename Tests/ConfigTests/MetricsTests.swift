import Config
import Detect
import Flow
import Output
import Testing
import Wire

@Suite struct MetricsTests {
    @Test func theTextfileValuesComeFromTheEngineCounters() {
        var stats = EngineStats()
        stats.packets = 10
        stats.bytes = 640
        stats.decodeEvents[Int(DecodeEvent.ipv4TruncPkt.rawValue)] = 2
        stats.uninspected = 4
        stats.watchedFlows = 3
        stats.alertsBySid = [9_005_710: 2]
        stats.suppressed = 1
        stats.repeats = 6
        stats.alertsShedBySource = 13
        stats.alertsShedBySid = 14
        stats.alertSourcesEvicted = 15
        stats.evidenceErrors = 5
        stats.verdicts[Int(Verdict.unanswered.rawValue)] = 1
        stats.verdicts[Int(Verdict.answered.rawValue)] = 2
        var extra = StatsExtra()
        extra.uptimeSeconds = 30
        extra.kernelDrops = 9
        extra.ringDrops = 8
        extra.ringWaits = 7
        extra.outputLost = 11
        var flows = FlowTable(capacity: 1024, seed: 0).counters  // FlowCounters has no public init
        flows.active = 2
        flows.created = 5
        flows.timedOut = 3
        flows.evicted = 1
        flows.ended = 4

        let metrics = SensorMetrics(stats: stats, extra: extra, flows: flows)
        var expected = SensorMetrics()
        expected.uptimeSeconds = 30
        expected.packets = 10
        expected.bytes = 640
        expected.decodeEvents = ["decoder.ipv4.trunc_pkt": 2]
        expected.uninspected = 4
        expected.flowsActive = 2
        expected.flowsCreated = 5
        expected.flowsTimedOut = 3
        expected.flowsEvicted = 1
        expected.flowsEnded = 4
        expected.flowsWatched = 3
        expected.alertsBySid = [9_005_710: 2]
        expected.suppressed = 1
        expected.repeats = 6
        expected.alertsShedBySource = 13
        expected.alertsShedBySid = 14
        expected.alertSourcesEvicted = 15
        expected.verdicts = ["unanswered": 1, "rejected": 0, "answered": 2]
        expected.kernelDrops = 9
        expected.ringWaits = 7
        expected.ringDrops = 8
        expected.outputLost = 11
        expected.evidenceErrors = 5
        #expect(metrics == expected)
        #expect(PrometheusTextfile.render(metrics).contains("ghostport_decode_events_total{event=\"decoder.ipv4.trunc_pkt\"} 2\n"))
        #expect(!PrometheusTextfile.render(metrics).contains("ghostport_kernel_packets_total"))  // offline: no pcap_stats
    }
}
