import Detect
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Why the textfile could not be replaced. The old file, if any, is left as it was.
public struct TextfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Step: String, Sendable {
        case create, write, fsync, rename
    }

    /// The file that was to be replaced.
    public var path: String
    /// The temporary file the step worked on.
    public var temporaryPath: String
    public var step: Step
    public var errno: Int32

    public var description: String {
        "\(path): cannot \(step.rawValue) \(temporaryPath): \(String(cString: strerror(errno)))"
    }
}

/// node_exporter's textfile collector format: `# HELP`, `# TYPE` and samples, replaced
/// atomically so the collector never reads half a file.
public enum PrometheusTextfile {
    /// The exposition text for `stats`: families in a fixed order, labels sorted.
    public static func render(_ stats: SensorStats) -> String {
        let engine = stats.engine, flows = stats.flows, capture = stats.capture
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, UInt64)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        func single(_ name: String, _ type: String, _ help: String, _ value: UInt64?) {
            guard let value else { return }
            family(name, type, help, [("", value)])
        }
        func labelled(_ label: String, _ values: [(String, UInt64)]) -> [(String, UInt64)] {
            values.map { ("{\(label)=\"\(escapeLabel($0.0))\"}", $0.1) }
        }

        single("ghostport_uptime_seconds", "gauge", "Seconds since the sensor started.", stats.uptimeSeconds)
        single("ghostport_packets_total", "counter", "Packets decoded.", engine.packets)
        single("ghostport_bytes_total", "counter", "Bytes of the packets decoded, on the wire.", engine.bytes)
        family("ghostport_decode_events_total", "counter", "Decode events, by Suricata event name.",
               labelled("event", DecodeEvent.allCases.filter { engine.decodeEvents[Int($0.rawValue)] > 0 }.map { ($0.name, engine.decodeEvents[Int($0.rawValue)]) }.sorted { $0.0 < $1.0 }))
        single("ghostport_uninspected_packets_total", "counter", "IP packets no loaded rule could match.",
               engine.uninspected)
        single("ghostport_flows_active", "gauge", "Flows in the flow table.", UInt64(max(0, flows.active)))
        single("ghostport_flows_created_total", "counter", "Flows created.", flows.created)
        single("ghostport_flows_timed_out_total", "counter", "Flows ended by their idle timeout.", flows.timedOut)
        single("ghostport_flows_evicted_total", "counter", "Flows pushed out of a full flow table.", flows.evicted)
        single("ghostport_flows_ended_total", "counter", "Flows that reached the closed state.", flows.ended)
        single("ghostport_flows_watched_total", "counter", "Flows to watched ports.", engine.watchedFlows)
        family("ghostport_alerts_total", "counter", "Alerts written, by signature id.",
               labelled("sid", engine.alertsBySid.sorted { $0.key < $1.key }.map { (String($0.key), $0.value) }))
        single("ghostport_alerts_suppressed_total", "counter", "Alerts a threshold or detection filter held back.",
               engine.suppressed)
        single("ghostport_alert_repeats_total", "counter", "Matches of a sid its flow had already alerted on.",
               engine.repeats)
        family("ghostport_alerts_shed_total", "counter",
               "Alerts the sensor-wide limit kept from the output, by the limit that was reached.",
               [("{reason=\"sid\"}", engine.alertsShedBySid), ("{reason=\"source\"}", engine.alertsShedBySource)])
        single("ghostport_alert_limit_sources_evicted_total", "counter",
               "Sources pushed out of the alert limiter's full table before their window ended.",
               engine.alertSourcesEvicted)
        family("ghostport_verdicts_total", "counter", "Ended flows to watched ports, by verdict.",
               labelled("verdict", [Verdict.answered, .backscatter, .rejected, .unanswered].map { ("\($0.name)", engine.verdicts[Int($0.rawValue)]) }))
        family("ghostport_flows_folded_total", "counter",
               "Watched flows folded into flood aggregates past the flow-record budget, by kind.",
               labelled("kind", FloodKind.allCases.map { ("\($0.name)", engine.folded[Int($0.rawValue)]) }))
        single("ghostport_flood_records_total", "counter", "Flood aggregate records written.", engine.floodRecords)
        if let listeners = engine.listeners {
            single("ghostport_baseline_listeners", "gauge", "Listeners the baseline holds.", listeners.held)
            single("ghostport_baseline_learned_total", "counter", "Listeners the baseline learned in this run.", listeners.learned)
            single("ghostport_baseline_refused_total", "counter", "Listeners not learned because the baseline was full.", listeners.refused)
            single("ghostport_baseline_silenced_total", "counter", "Known listeners' answers not alerted (baseline.known: silent).", listeners.silenced)
        }
        single("ghostport_kernel_packets_total", "counter", "Packets the kernel delivered (pcap_stats ps_recv).",
               capture.kernelPackets)
        single("ghostport_kernel_drops_total", "counter", "Packets dropped for lack of kernel buffer (ps_drop).",
               capture.kernelDrops)
        single("ghostport_kernel_interface_drops_total", "counter", "Packets dropped by the interface (ps_ifdrop).",
               capture.kernelInterfaceDrops)
        single("ghostport_ring_waits_total", "counter", "Times the capture thread found the ring full and waited.",
               capture.ringWaits)
        single("ghostport_ring_drops_total", "counter", "Packets dropped because the ring was full.", capture.ringDrops)
        single("ghostport_output_lost_total", "counter", "EVE records lost to write errors.", stats.output.lost)
        single("ghostport_evidence_errors_total", "counter", "Evidence packets not written.", engine.evidenceErrors)
        single("ghostport_syslog_dropped_total", "counter", "Alerts not delivered to syslog (logger missing or behind).",
               stats.output.syslogDropped)
        single("ghostport_evidence_removed_total", "counter", "Evidence files removed to stay under the retention bounds.",
               stats.output.evidenceRemoved)
        single("ghostport_redis_written_total", "counter", "EVE records Redis acknowledged.", stats.output.redisWritten)
        single("ghostport_redis_lost_total", "counter", "EVE records lost on the way to Redis (queue full, refused, connection lost).",
               stats.output.redisLost)
        single("ghostport_redis_queued", "gauge", "EVE records waiting for Redis.", stats.output.redisQueued)
        if let workers = stats.workers {
            func perWorker(_ value: (WorkerCounts) -> UInt64?) -> [(String, UInt64)] {
                workers.enumerated().compactMap { index, worker in value(worker).map { ("{worker=\"\(index)\"}", $0) } }
            }
            family("ghostport_worker_packets_total", "counter", "Packets each worker's engine counted (the sum is ghostport_packets_total).",
                   perWorker(\.packets))
            family("ghostport_worker_kernel_packets_total", "counter", "Packets the kernel delivered to each worker's socket.",
                   perWorker(\.kernelPackets))
            family("ghostport_worker_kernel_drops_total", "counter", "Packets each worker's socket dropped for lack of kernel buffer.",
                   perWorker(\.kernelDrops))
            family("ghostport_worker_alerts_total", "counter", "Alerts each worker wrote.", perWorker(\.alerts))
            family("ghostport_worker_flows_active", "gauge", "Flows in each worker's table.", perWorker { UInt64(max(0, $0.flowsActive)) })
        }
        return out
    }

    /// A label value in the exposition format: backslash, quote and newline escaped.
    static func escapeLabel(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }

    /// Renders `stats` and replaces `path` with it atomically.
    public static func write(_ stats: SensorStats, to path: String) throws(TextfileError) {
        try write(text: render(stats), to: path)
    }

    /// Replaces `path` with `text`: writes `path.tmp.<pid>`, fsyncs it and renames it over
    /// `path`. Until the rename the old file is whole; on any error the temporary file is
    /// removed and the old file stays.
    public static func write(text: String, to path: String) throws(TextfileError) {
        let temporary = try writeTemporary(text: text, for: path)
        try commit(temporary, to: path)
    }

    /// The first half of `write(text:to:)`: the new content, synced, beside `path`.
    static func writeTemporary(text: String, for path: String) throws(TextfileError) -> String {
        let temporary = "\(path).tmp.\(getpid())"
        func failure(_ step: TextfileError.Step, _ code: Int32) -> TextfileError {
            TextfileError(path: path, temporaryPath: temporary, step: step, errno: code)
        }
        // node_exporter usually runs as another user: the file must be world-readable.
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw failure(.create, errno) }
        var bytes = Array(text.utf8)
        let writeError: Int32 = bytes.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += n
            }
            return 0
        }
        var error: TextfileError?
        if writeError != 0 {
            error = failure(.write, writeError)
        } else if fsync(fd) != 0 {
            error = failure(.fsync, errno)
        }
        Glibc.close(fd)
        if let error {
            unlink(temporary)
            throw error
        }
        return temporary
    }

    /// The second half: renames the temporary file over `path`.
    static func commit(_ temporary: String, to path: String) throws(TextfileError) {
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw TextfileError(path: path, temporaryPath: temporary, step: .rename, errno: code)
        }
    }
}
