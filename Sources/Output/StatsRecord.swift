import Detect
import Wire

/// The EVE `stats` record: the one statistics model (`SensorStats`) as Suricata's object, with
/// ghostport's own counters beside Suricata's.
enum StatsRecord {
    static func write(_ stats: SensorStats, timestamp: Int64, into out: inout OutputBuffer) {
        EVE.open(EVEHeader(timestamp: timestamp), eventType: "stats", into: &out)
        let engine = stats.engine, capture = stats.capture, flows = stats.flows
        out.append(",\"stats\":{\"uptime\":")
        out.append(decimal: stats.uptimeSeconds)
        out.append(",\"capture\":{")
        var fields: [(StaticString, UInt64)] = []
        if let value = capture.kernelPackets { fields.append(("kernel_packets", value)) }
        if let value = capture.kernelDrops { fields.append(("kernel_drops", value)) }
        if let value = capture.kernelInterfaceDrops { fields.append(("kernel_ifdrops", value)) }
        fields.append(("ring_waits", capture.ringWaits))
        fields.append(("ring_drops", capture.ringDrops))
        for (i, field) in fields.enumerated() {
            if i > 0 { out.append(byte: 0x2C) }
            out.append(byte: 0x22)
            out.append(field.0)
            out.append("\":")
            out.append(decimal: field.1)
        }
        out.append("},\"decoder\":{\"pkts\":")
        out.append(decimal: engine.packets)
        out.append(",\"bytes\":")
        out.append(decimal: engine.bytes)
        out.append(",\"event\":{")
        var first = true
        for event in DecodeEvent.allCases where engine.decodeEvents[Int(event.rawValue)] > 0 {
            if !first { out.append(byte: 0x2C) }
            first = false
            out.append(jsonString: event.name)
            out.append(byte: 0x3A)
            out.append(decimal: engine.decodeEvents[Int(event.rawValue)])
        }
        out.append("}},\"flow\":{\"active\":")
        out.append(decimal: flows.active)
        out.append(",\"created\":")
        out.append(decimal: flows.created)
        out.append(",\"timed_out\":")
        out.append(decimal: flows.timedOut)
        out.append(",\"evicted\":")
        out.append(decimal: flows.evicted)
        out.append(",\"ended\":")
        out.append(decimal: flows.ended)
        out.append(",\"watched\":")
        out.append(decimal: engine.watchedFlows)
        out.append("},\"detect\":{\"uninspected\":")
        out.append(decimal: engine.uninspected)
        out.append(",\"alerts\":")
        out.append(decimal: engine.alerts)
        out.append(",\"suppressed\":")
        out.append(decimal: engine.suppressed)
        out.append(",\"repeats\":")
        out.append(decimal: engine.repeats)
        out.append(",\"alerts_shed_source\":")
        out.append(decimal: engine.alertsShedBySource)
        out.append(",\"alerts_shed_sid\":")
        out.append(decimal: engine.alertsShedBySid)
        out.append(",\"alert_sources_evicted\":")
        out.append(decimal: engine.alertSourcesEvicted)
        out.append(",\"alerts_by_sid\":{")
        for (i, sid) in engine.alertsBySid.keys.sorted().enumerated() {
            if i > 0 { out.append(byte: 0x2C) }
            out.append(byte: 0x22)
            out.append(decimal: UInt64(sid))
            out.append("\":")
            out.append(decimal: engine.alertsBySid[sid, default: 0])
        }
        out.append("},\"verdicts\":{")
        for verdict in [Verdict.unanswered, .rejected, .answered] {
            if verdict != .unanswered { out.append(byte: 0x2C) }
            out.append(byte: 0x22)
            out.append(verdict.name)
            out.append("\":")
            out.append(decimal: engine.verdicts[Int(verdict.rawValue)])
        }
        out.append("}},\"output\":{\"lost\":")
        out.append(decimal: stats.output.lost)
        out.append(",\"evidence_errors\":")
        out.append(decimal: engine.evidenceErrors)
        if let dropped = stats.output.syslogDropped {
            out.append(",\"syslog_dropped\":")
            out.append(decimal: dropped)
        }
        out.append("}}}\n")
    }
}
