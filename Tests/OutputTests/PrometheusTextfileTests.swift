import Detect
import Foundation
@testable import Output
import Testing
import Wire

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "ghostport-prom-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Counts in the one statistics model, as the engine, the flow table, the capture and the outputs keep them.
private func small() -> SensorStats {
    var stats = SensorStats()
    stats.uptimeSeconds = 90
    stats.engine.packets = 1000
    stats.engine.bytes = 64000
    stats.engine.decodeEvents[Int(DecodeEvent.ipv4TruncPkt.rawValue)] = 2
    stats.engine.decodeEvents[Int(DecodeEvent.tcpHlenTooSmall.rawValue)] = 1
    stats.engine.uninspected = 900
    stats.flows.active = 3
    stats.flows.created = 10
    stats.flows.timedOut = 6
    stats.flows.evicted = 1
    stats.flows.ended = 0
    stats.engine.watchedFlows = 8
    stats.engine.alertsBySid = [9_005_711: 1, 9_005_710: 4]
    stats.engine.suppressed = 2
    stats.engine.repeats = 5
    stats.engine.alertsShedBySource = 12
    stats.engine.alertsShedBySid = 3
    stats.engine.alertSourcesEvicted = 1
    stats.engine.verdicts[Int(Verdict.unanswered.rawValue)] = 5
    stats.engine.verdicts[Int(Verdict.rejected.rawValue)] = 2
    stats.engine.verdicts[Int(Verdict.answered.rawValue)] = 1
    stats.capture.kernelPackets = 1010
    stats.capture.kernelDrops = 7
    stats.capture.ringDrops = 3
    stats.output.lost = 0
    return stats
}

@Suite struct PrometheusTextfileTests {
    @Test func exactRendering() {
        #expect(PrometheusTextfile.render(small()) == """
            # HELP ghostport_uptime_seconds Seconds since the sensor started.
            # TYPE ghostport_uptime_seconds gauge
            ghostport_uptime_seconds 90
            # HELP ghostport_packets_total Packets decoded.
            # TYPE ghostport_packets_total counter
            ghostport_packets_total 1000
            # HELP ghostport_bytes_total Bytes of the packets decoded, on the wire.
            # TYPE ghostport_bytes_total counter
            ghostport_bytes_total 64000
            # HELP ghostport_decode_events_total Decode events, by Suricata event name.
            # TYPE ghostport_decode_events_total counter
            ghostport_decode_events_total{event="decoder.ipv4.trunc_pkt"} 2
            ghostport_decode_events_total{event="decoder.tcp.hlen_too_small"} 1
            # HELP ghostport_uninspected_packets_total IP packets no loaded rule could match.
            # TYPE ghostport_uninspected_packets_total counter
            ghostport_uninspected_packets_total 900
            # HELP ghostport_flows_active Flows in the flow table.
            # TYPE ghostport_flows_active gauge
            ghostport_flows_active 3
            # HELP ghostport_flows_created_total Flows created.
            # TYPE ghostport_flows_created_total counter
            ghostport_flows_created_total 10
            # HELP ghostport_flows_timed_out_total Flows ended by their idle timeout.
            # TYPE ghostport_flows_timed_out_total counter
            ghostport_flows_timed_out_total 6
            # HELP ghostport_flows_evicted_total Flows pushed out of a full flow table.
            # TYPE ghostport_flows_evicted_total counter
            ghostport_flows_evicted_total 1
            # HELP ghostport_flows_ended_total Flows that reached the closed state.
            # TYPE ghostport_flows_ended_total counter
            ghostport_flows_ended_total 0
            # HELP ghostport_flows_watched_total Flows to watched ports.
            # TYPE ghostport_flows_watched_total counter
            ghostport_flows_watched_total 8
            # HELP ghostport_alerts_total Alerts written, by signature id.
            # TYPE ghostport_alerts_total counter
            ghostport_alerts_total{sid="9005710"} 4
            ghostport_alerts_total{sid="9005711"} 1
            # HELP ghostport_alerts_suppressed_total Alerts a threshold or detection filter held back.
            # TYPE ghostport_alerts_suppressed_total counter
            ghostport_alerts_suppressed_total 2
            # HELP ghostport_alert_repeats_total Matches of a sid its flow had already alerted on.
            # TYPE ghostport_alert_repeats_total counter
            ghostport_alert_repeats_total 5
            # HELP ghostport_alerts_shed_total Alerts the sensor-wide limit kept from the output, by the limit that was reached.
            # TYPE ghostport_alerts_shed_total counter
            ghostport_alerts_shed_total{reason="sid"} 3
            ghostport_alerts_shed_total{reason="source"} 12
            # HELP ghostport_alert_limit_sources_evicted_total Sources pushed out of the alert limiter's full table before their window ended.
            # TYPE ghostport_alert_limit_sources_evicted_total counter
            ghostport_alert_limit_sources_evicted_total 1
            # HELP ghostport_verdicts_total Ended flows to watched ports, by verdict.
            # TYPE ghostport_verdicts_total counter
            ghostport_verdicts_total{verdict="answered"} 1
            ghostport_verdicts_total{verdict="backscatter"} 0
            ghostport_verdicts_total{verdict="rejected"} 2
            ghostport_verdicts_total{verdict="unanswered"} 5
            # HELP ghostport_flows_folded_total Watched flows folded into flood aggregates past the flow-record budget, by kind.
            # TYPE ghostport_flows_folded_total counter
            ghostport_flows_folded_total{kind="flood"} 0
            ghostport_flows_folded_total{kind="backscatter"} 0
            # HELP ghostport_flood_records_total Flood aggregate records written.
            # TYPE ghostport_flood_records_total counter
            ghostport_flood_records_total 0
            # HELP ghostport_kernel_packets_total Packets the kernel delivered (pcap_stats ps_recv).
            # TYPE ghostport_kernel_packets_total counter
            ghostport_kernel_packets_total 1010
            # HELP ghostport_kernel_drops_total Packets dropped for lack of kernel buffer (ps_drop).
            # TYPE ghostport_kernel_drops_total counter
            ghostport_kernel_drops_total 7
            # HELP ghostport_ring_waits_total Times the capture thread found the ring full and waited.
            # TYPE ghostport_ring_waits_total counter
            ghostport_ring_waits_total 0
            # HELP ghostport_ring_drops_total Packets dropped because the ring was full.
            # TYPE ghostport_ring_drops_total counter
            ghostport_ring_drops_total 3
            # HELP ghostport_output_lost_total EVE records lost to write errors.
            # TYPE ghostport_output_lost_total counter
            ghostport_output_lost_total 0
            # HELP ghostport_evidence_errors_total Evidence packets not written.
            # TYPE ghostport_evidence_errors_total counter
            ghostport_evidence_errors_total 0

            """)
    }

    @Test func labelValuesAreEscaped() {
        #expect(PrometheusTextfile.escapeLabel("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
    }

    @Test func everyLineIsWellFormed() {
        // Each sample: name, optional {label="value"}, a space, digits.
        let sample = try! Regex(#"^[a-z_]+(\{[a-z]+="[^"]*"\})? [0-9]+$"#)
        for line in PrometheusTextfile.render(small()).split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.wholeMatch(of: sample) != nil, "\(line)")
        }
    }

    @Test func replacesAtomically() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ghostport.prom"
        try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
        let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? reader.close() }

        // Written and synced beside it: the old file is whole until the rename.
        let temporary = try PrometheusTextfile.writeTemporary(text: "new\n", for: path)
        #expect(temporary == "\(path).tmp.\(getpid())")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
        #expect(try String(contentsOfFile: temporary, encoding: .utf8) == "new\n")
        try PrometheusTextfile.commit(temporary, to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        #expect(!FileManager.default.fileExists(atPath: temporary))
        // A reader that had the old file open still reads the old file whole.
        #expect(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) == "old\n")

        try PrometheusTextfile.write(small(), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == PrometheusTextfile.render(small()))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["ghostport.prom"])
    }

    @Test func aFailedWriteLeavesTheOldFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ghostport.prom"
        try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
        // Something in the way of the temporary file: the write fails, nothing is replaced.
        try FileManager.default.createDirectory(atPath: "\(path).tmp.\(getpid())", withIntermediateDirectories: false)
        #expect(throws: TextfileError(path: path, temporaryPath: "\(path).tmp.\(getpid())", step: .create, errno: EISDIR)) {
            try PrometheusTextfile.write(small(), to: path)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
    }

    @Test func anUnwritableDirectoryIsATypedError() throws {
        let missing = "/nonexistent-ghostport-dir/ghostport.prom"
        do {
            try PrometheusTextfile.write(small(), to: missing)
            Issue.record("wrote into a directory that does not exist")
        } catch {
            #expect(error.step == .create && error.errno == ENOENT && error.path == missing)
            #expect(error.description
                == "\(missing): cannot create \(missing).tmp.\(getpid()): No such file or directory")
        }

        let directory = try temporaryDirectory()
        defer {
            chmod(directory, 0o755)
            try? FileManager.default.removeItem(atPath: directory)
        }
        if getuid() == 0 {
            // Root writes through permission bits: a read-only filesystem stops it instead.
            try #require(FileManager.default.fileExists(atPath: "/proc/sys"), "a read-only filesystem to write to")
            #expect(throws: TextfileError.self) { try PrometheusTextfile.write(small(), to: "/proc/sys/ghostport.prom") }
        } else {
            chmod(directory, 0o555)
            #expect(throws: TextfileError(path: directory + "/g.prom", temporaryPath: directory + "/g.prom.tmp.\(getpid())",
                                          step: .create, errno: EACCES)) {
                try PrometheusTextfile.write(small(), to: directory + "/g.prom")
            }
        }
    }
}

/// A sensor with workers (`run --workers N`): the sums as ever, and each worker's share, in the
/// stats record and in the textfile.
@Suite struct WorkerStatsTests {
    private func twoWorkers() -> SensorStats {
        var stats = small()
        var first = WorkerCounts(), second = WorkerCounts()
        (first.packets, first.kernelPackets, first.kernelDrops, first.alerts, first.flowsActive) = (600, 605, 4, 3, 2)
        (second.packets, second.kernelPackets, second.kernelDrops, second.alerts, second.flowsActive) = (400, 405, 3, 2, 1)
        second.ringDrops = 3
        stats.workers = [first, second]
        return stats
    }

    @Test func statsRecordShowsEachWorker() throws {
        var out = OutputBuffer(fd: -1)
        StatsRecord.write(twoWorkers(), timestamp: 1_750_000_000_000_000_000, into: &out)
        let line = out.line(from: 0)
        let record = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let own = try #require((record["ghostport"] as? [String: Any])?["stats"] as? [String: Any])
        let workers = try #require(own["workers"] as? [[String: Any]])
        #expect(workers.count == 2)
        #expect(workers[0]["id"] as? Int == 0 && workers[0]["packets"] as? Int == 600 && workers[0]["kernel_drops"] as? Int == 4)
        #expect(workers[1]["id"] as? Int == 1 && workers[1]["ring_drops"] as? Int == 3 && workers[1]["flows_active"] as? Int == 1)
        #expect(workers.map { $0["alerts"] as? Int ?? 0 } == [3, 2])
        // Without workers, no such key: the one-engine record is as it was.
        var plain = OutputBuffer(fd: -1)
        StatsRecord.write(small(), timestamp: 1_750_000_000_000_000_000, into: &plain)
        #expect(!plain.line(from: 0).contains("\"workers\""))
    }

    @Test func textfileShowsEachWorker() {
        let text = PrometheusTextfile.render(twoWorkers())
        for line in ["ghostport_worker_packets_total{worker=\"0\"} 600", "ghostport_worker_packets_total{worker=\"1\"} 400",
                     "ghostport_worker_kernel_drops_total{worker=\"1\"} 3", "ghostport_worker_alerts_total{worker=\"0\"} 3",
                     "ghostport_worker_flows_active{worker=\"1\"} 1", "ghostport_packets_total 1000"] {
            #expect(text.contains(line + "\n"), "\(line)")
        }
        #expect(!PrometheusTextfile.render(small()).contains("ghostport_worker_"))
    }
}
