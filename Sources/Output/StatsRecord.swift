import Detect
import Wire

/// The EVE `stats` record: the one statistics model (`SensorStats`) in Suricata's layout where
/// Suricata has the counter (same name, same meaning), and ghostport's own counters in the
/// record's `ghostport.stats` object, in sections of the same names:
///
/// ```
/// "stats": {"uptime", "capture": {kernel_packets, kernel_drops, kernel_ifdrops} (live only),
///           "decoder": {pkts, bytes, "event": {LAYER: {EVENT: n}}},
///           "flow": {active}, "detect": {"engines": [{id, last_reload (live), rules_loaded, rules_failed}],
///                                        alert, alerts_suppressed}}
/// "ghostport": {"stats": {"capture": {ring_waits, ring_drops},
///           "decoder": {"event": {"decoder.L.E": n}} (events Suricata does not have),
///           "flow": {created, timed_out, evicted, ended, watched},
///           "detect": {uninspected, repeats, alerts_shed_source, alerts_shed_sid,
///                      alert_sources_evicted, alerts_by_sid, verdicts, folded: {flood, backscatter},
///                      flood_records},
///           "output": {lost, evidence_errors, syslog_dropped, evidence_removed, evidence_removed_bytes,
///                      eve_rotations, eve_removed, eve_removed_bytes, redis_written, redis_lost, redis_queued},
///           "workers": [{id, packets, kernel_packets, kernel_drops, ring_drops, alerts, flows_active}]
///                      (run --workers N, N > 1: each worker's share of the sums above)}}
/// ```
enum StatsRecord {
    static func write(_ stats: SensorStats, timestamp: Int64, host: String? = nil, into out: inout OutputBuffer) {
        var header = EVEHeader(timestamp: timestamp)
        header.host = host
        EVE.open(header, eventType: "stats", into: &out)
        let engine = stats.engine, capture = stats.capture, flows = stats.flows
        var fields = Fields()
        out.append(",\"stats\":{\"uptime\":")
        out.append(decimal: stats.uptimeSeconds)
        // libpcap's counters exist for a live capture only; offline there is no capture section.
        if capture.kernelPackets != nil || capture.kernelDrops != nil || capture.kernelInterfaceDrops != nil {
            out.append(",\"capture\":{")
            fields.start()
            if let value = capture.kernelPackets { fields.add("kernel_packets", value, into: &out) }
            if let value = capture.kernelDrops { fields.add("kernel_drops", value, into: &out) }
            if let value = capture.kernelInterfaceDrops { fields.add("kernel_ifdrops", value, into: &out) }
            out.append(byte: 0x7D)
        }
        out.append(",\"decoder\":{\"pkts\":")
        out.append(decimal: engine.packets)
        out.append(",\"bytes\":")
        out.append(decimal: engine.bytes)
        out.append(",\"event\":{")
        // Suricata nests its counter `decoder.event.ipv4.trunc_pkt` as event.ipv4.trunc_pkt.
        var layers: [(layer: Substring, events: [(Substring, UInt64)])] = []
        for event in DecodeEvent.allCases where event.isSuricatas && engine.decodeEvents[Int(event.rawValue)] > 0 {
            let parts = event.name.split(separator: ".")  // decoder, layer, event
            let entry = (parts[2], engine.decodeEvents[Int(event.rawValue)])
            if let index = layers.firstIndex(where: { $0.layer == parts[1] }) {
                layers[index].events.append(entry)
            } else {
                layers.append((parts[1], [entry]))
            }
        }
        for (i, layer) in layers.enumerated() {
            if i > 0 { out.append(byte: 0x2C) }
            out.append(jsonString: String(layer.layer))
            out.append(":{")
            fields.start()
            for (event, count) in layer.events { fields.add(String(event), count, into: &out) }
            out.append(byte: 0x7D)
        }
        out.append("}},\"flow\":{\"active\":")
        out.append(decimal: flows.active)
        out.append("},\"detect\":{\"engines\":[{\"id\":0")
        if let lastReload = stats.rules.lastReload {
            out.append(",\"last_reload\":\"")
            EVE.appendTimestamp(lastReload, into: &out)
            out.append(byte: 0x22)
        }
        out.append(",\"rules_loaded\":")
        out.append(decimal: stats.rules.loaded)
        out.append(",\"rules_failed\":")
        out.append(decimal: stats.rules.failed)
        out.append("}],\"alert\":")
        out.append(decimal: engine.alerts)
        out.append(",\"alerts_suppressed\":")
        out.append(decimal: engine.suppressed)
        out.append("}}")

        out.append(",\"ghostport\":{\"stats\":{\"capture\":{\"ring_waits\":")
        out.append(decimal: capture.ringWaits)
        out.append(",\"ring_drops\":")
        out.append(decimal: capture.ringDrops)
        out.append(byte: 0x7D)
        let own = DecodeEvent.allCases.filter { !$0.isSuricatas && engine.decodeEvents[Int($0.rawValue)] > 0 }
        if !own.isEmpty {
            out.append(",\"decoder\":{\"event\":{")
            fields.start()
            for event in own { fields.add(event.name, engine.decodeEvents[Int(event.rawValue)], into: &out) }
            out.append("}}")
        }
        out.append(",\"flow\":{")
        fields.start()
        fields.add("created", flows.created, into: &out)
        fields.add("timed_out", flows.timedOut, into: &out)
        fields.add("evicted", flows.evicted, into: &out)
        fields.add("ended", flows.ended, into: &out)
        fields.add("watched", engine.watchedFlows, into: &out)
        out.append("},\"detect\":{")
        fields.start()
        fields.add("uninspected", engine.uninspected, into: &out)
        fields.add("repeats", engine.repeats, into: &out)
        fields.add("alerts_shed_source", engine.alertsShedBySource, into: &out)
        fields.add("alerts_shed_sid", engine.alertsShedBySid, into: &out)
        fields.add("alert_sources_evicted", engine.alertSourcesEvicted, into: &out)
        out.append(",\"alerts_by_sid\":{")
        fields.start()
        for sid in engine.alertsBySid.keys.sorted() { fields.add(String(sid), engine.alertsBySid[sid, default: 0], into: &out) }
        out.append("},\"verdicts\":{")
        fields.start()
        for verdict in [Verdict.unanswered, .rejected, .answered, .backscatter] {
            fields.add("\(verdict.name)", engine.verdicts[Int(verdict.rawValue)], into: &out)
        }
        out.append("},\"folded\":{")
        fields.start()
        for kind in FloodKind.allCases { fields.add("\(kind.name)", engine.folded[Int(kind.rawValue)], into: &out) }
        out.append(byte: 0x7D)
        fields.start()
        out.append(byte: 0x2C)
        fields.add("flood_records", engine.floodRecords, into: &out)
        if let listeners = engine.listeners {
            out.append(",\"listeners\":{")
            fields.start()
            fields.add("held", listeners.held, into: &out)
            fields.add("learned", listeners.learned, into: &out)
            fields.add("refused", listeners.refused, into: &out)
            fields.add("silenced", listeners.silenced, into: &out)
            out.append(byte: 0x7D)
        }
        out.append("},\"output\":{")
        fields.start()
        fields.add("lost", stats.output.lost, into: &out)
        fields.add("evidence_errors", engine.evidenceErrors, into: &out)
        if let dropped = stats.output.syslogDropped { fields.add("syslog_dropped", dropped, into: &out) }
        if let removed = stats.output.evidenceRemoved { fields.add("evidence_removed", removed, into: &out) }
        if let bytes = stats.output.evidenceRemovedBytes { fields.add("evidence_removed_bytes", bytes, into: &out) }
        if let rotations = stats.output.eveRotations { fields.add("eve_rotations", rotations, into: &out) }
        if let files = stats.output.eveRemovedFiles { fields.add("eve_removed", files, into: &out) }
        if let bytes = stats.output.eveRemovedBytes { fields.add("eve_removed_bytes", bytes, into: &out) }
        if let written = stats.output.redisWritten { fields.add("redis_written", written, into: &out) }
        if let lost = stats.output.redisLost { fields.add("redis_lost", lost, into: &out) }
        if let queued = stats.output.redisQueued { fields.add("redis_queued", queued, into: &out) }
        out.append(byte: 0x7D)
        if let workers = stats.workers {
            out.append(",\"workers\":[")
            for (index, worker) in workers.enumerated() {
                out.append(index == 0 ? "{" : ",{")
                fields.start()
                fields.add("id", UInt64(index), into: &out)
                fields.add("packets", worker.packets, into: &out)
                if let value = worker.kernelPackets { fields.add("kernel_packets", value, into: &out) }
                if let value = worker.kernelDrops { fields.add("kernel_drops", value, into: &out) }
                fields.add("ring_drops", worker.ringDrops, into: &out)
                fields.add("alerts", worker.alerts, into: &out)
                fields.add("flows_active", UInt64(max(0, worker.flowsActive)), into: &out)
                out.append(byte: 0x7D)
            }
            out.append(byte: 0x5D)
        }
        out.append("}}}\n")
    }

    /// `"name":value` pairs, comma-separated within one object.
    private struct Fields {
        private var first = true

        mutating func start() { first = true }

        mutating func add(_ name: StaticString, _ value: UInt64, into out: inout OutputBuffer) {
            if !first { out.append(byte: 0x2C) }
            first = false
            out.append(byte: 0x22)
            out.append(name)
            out.append("\":")
            out.append(decimal: value)
        }

        mutating func add(_ name: String, _ value: UInt64, into out: inout OutputBuffer) {
            if !first { out.append(byte: 0x2C) }
            first = false
            out.append(jsonString: name)
            out.append(byte: 0x3A)
            out.append(decimal: value)
        }
    }
}
