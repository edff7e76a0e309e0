import Detect
import Wire

/// The records of a flood on a watched port (see `FloodLimits`):
///
/// - an aggregate per window, port, protocol and kind, `event_type` `flood` (ghostport's own;
///   every field in its `ghostport.flood` object):
///   `{"timestamp" (the window's end),"event_type":"flood","proto":"TCP","ghostport":{"flood":{
///   "kind":"flood"|"backscatter","port","service","window_start","window_end","first_seen","last_seen",
///   "flows","packets","bytes","sources","destinations","standard_error","top_sources":[{"ip","flows"}],
///   "top_destinations":[...],"tcp_flags":{"syn":n,...}}}}`. `sources` and `destinations` are
///   HyperLogLog estimates (relative standard error `standard_error`); the top lists name the
///   addresses sure to have sent (or received) more than one flow, with the flows they are sure
///   to have (Space-Saving's lower bound: exact when fewer than 128 addresses took part).
/// - an alert when a flood begins and one when it ends (sids 8999002 flood, 8999003 backscatter),
///   with `src_ip`/`dest_ip` its top sender and receiver (or, when none sent twice, those of its
///   first folded flow), and the figures so far (began) or over its whole span (ended) in
///   `ghostport.flood`.
extension EVERecords {
    public func flood(_ aggregate: FloodAggregate, service: String?) {
        output.record { out in
            var header = EVEHeader(timestamp: aggregate.closedAt)
            header.host = settings.sensorName
            EVE.open(header, eventType: "flood", into: &out)
            out.append(",\"proto\":")
            EVE.appendProto(aggregate.proto, into: &out)
            out.append(",\"ghostport\":{\"flood\":{\"kind\":\"")
            out.append(aggregate.kind.name)
            out.append(byte: 0x22)
            EVE.appendField("port", number: UInt64(aggregate.port), into: &out)
            if let service, !service.isEmpty { EVE.appendField("service", string: service, into: &out) }
            Self.appendTime("window_start", aggregate.windowStart, into: &out)
            Self.appendTime("window_end", aggregate.closedAt, into: &out)
            Self.appendTime("first_seen", aggregate.firstSeen, into: &out)
            Self.appendTime("last_seen", aggregate.lastSeen, into: &out)
            EVE.appendField("flows", number: aggregate.flows, into: &out)
            EVE.appendField("packets", number: aggregate.packets, into: &out)
            EVE.appendField("bytes", number: aggregate.bytes, into: &out)
            EVE.appendField("sources", number: aggregate.sources.estimate, into: &out)
            EVE.appendField("destinations", number: aggregate.destinations.estimate, into: &out)
            out.append(string: Self.standardErrorField)
            Self.appendTop("top_sources", aggregate.topSources.top(aggregate.topCount), into: &out)
            Self.appendTop("top_destinations", aggregate.topDestinations.top(aggregate.topCount), into: &out)
            if !aggregate.tcpFlags.isEmpty {
                out.append(",\"tcp_flags\":{")
                for (i, flags) in aggregate.tcpFlags.keys.sorted().enumerated() {
                    if i > 0 { out.append(byte: 0x2C) }
                    out.append(jsonString: Self.flagNames(flags))
                    out.append(byte: 0x3A)
                    out.append(decimal: aggregate.tcpFlags[flags, default: 0])
                }
                out.append(byte: 0x7D)
            }
            out.append("}}}\n")
        }
    }

    public func floodAlert(_ alert: FloodAlert, service: String?) {
        let portName = "\(alert.port)/\(IPProtocol.name(alert.proto)?.lowercased() ?? String(alert.proto))"
        let what = alert.kind == .flood ? "flood to abandoned port \(portName)" : "backscatter from abandoned port \(portName)"
        let state = switch alert.state {
        case .began: "began"
        case .ended: "ended"
        case .endedAtShutdown: "ended at shutdown"
        }
        let signature = "GHOSTPORT \(what)\(service.map { " (\($0))" } ?? "") \(state)"
        let category = alert.kind == .flood ? "Attempted Denial of Service" : "Detection of a Denial of Service Attack"
        let topSource = alert.topSources.first?.address ?? alert.firstSource
        let topDestination = alert.topDestinations.first?.address ?? alert.firstDestination
        let line = output.record(returningLine: syslog != nil) { out in
            var header = EVEHeader(timestamp: alert.at)
            header.host = settings.sensorName
            EVE.open(header, eventType: "alert", into: &out)
            // The addresses of the flow that began it (began) or the top sender and receiver (ended).
            do {
                out.append(",\"src_ip\":\"")
                out.append(address: topSource)
                out.append("\",\"dest_ip\":\"")
                out.append(address: topDestination)
                out.append(byte: 0x22)
                if alert.kind == .flood { EVE.appendField("dest_port", number: UInt64(alert.port), into: &out) }
            }
            out.append(",\"proto\":")
            EVE.appendProto(alert.proto, into: &out)
            out.append(topSource.isIPv6 ? ",\"ip_v\":6" : ",\"ip_v\":4")
            EVE.appendField("pkt_src", string: settings.packetSource, into: &out)
            out.append(",\"alert\":{\"action\":\"allowed\",\"gid\":1")
            EVE.appendField("signature_id", number: UInt64(alert.kind.sid), into: &out)
            out.append(",\"rev\":1")
            EVE.appendField("signature", string: signature, into: &out)
            EVE.appendField("category", string: category, into: &out)
            out.append(",\"severity\":2},\"ghostport\":{\"kind\":\"flood\",\"flood\":{\"kind\":\"")
            out.append(alert.kind.name)
            out.append("\",\"state\":\"")
            out.append(alert.state == .began ? "began" : "ended")
            out.append(byte: 0x22)
            if alert.state == .endedAtShutdown { out.append(",\"ended_by\":\"shutdown\"") }
            EVE.appendField("port", number: UInt64(alert.port), into: &out)
            if let service, !service.isEmpty { EVE.appendField("service", string: service, into: &out) }
            Self.appendTime("began", alert.began, into: &out)
            Self.appendTime("last_seen", alert.lastSeen, into: &out)
            EVE.appendField("flows", number: alert.flows, into: &out)
            EVE.appendField("packets", number: alert.packets, into: &out)
            EVE.appendField("bytes", number: alert.bytes, into: &out)
            EVE.appendField("sources", number: alert.sources, into: &out)
            EVE.appendField("destinations", number: alert.destinations, into: &out)
            out.append(string: Self.standardErrorField)
            Self.appendTop("top_sources", alert.topSources, into: &out)
            Self.appendTop("top_destinations", alert.topDestinations, into: &out)
            out.append(",\"budget\":{\"per_port\":")
            out.append(decimal: UInt64(clamping: alert.limits.perPort))
            out.append(",\"sensor_wide\":")
            out.append(decimal: UInt64(clamping: alert.limits.sensorWide))
            out.append(",\"seconds\":")
            out.append(decimal: UInt64(clamping: alert.limits.seconds))
            out.append(",\"port_records_in_window\":")
            out.append(decimal: UInt64(clamping: alert.recordsInWindow))
            out.append("}}}}\n")
        }
        if let syslog, let line {
            syslog.send(AlertSummary(
                sid: alert.kind.sid, rev: 1, msg: signature, category: category, priority: 2,
                proto: IPProtocol.name(alert.proto) ?? String(alert.proto),
                src: topSource, sport: alert.kind == .backscatter ? alert.port : nil,
                dst: topDestination, dport: alert.kind == .flood ? alert.port : nil, eveJSON: line))
        }
    }

    private static let standardErrorField = ",\"standard_error\":\(DistinctCount.standardError)"

    private static func appendTime(_ key: StaticString, _ nanoseconds: Int64, into out: inout OutputBuffer) {
        out.append(",\"")
        out.append(key)
        out.append("\":\"")
        EVE.appendTimestamp(nanoseconds, into: &out)
        out.append(byte: 0x22)
    }

    private static func appendTop(_ key: StaticString, _ entries: [(address: IPAddress, count: UInt64)],
                                  into out: inout OutputBuffer) {
        out.append(",\"")
        out.append(key)
        out.append("\":[")
        for (i, entry) in entries.enumerated() {
            if i > 0 { out.append(byte: 0x2C) }
            out.append("{\"ip\":\"")
            out.append(address: entry.address)
            out.append("\",\"flows\":")
            out.append(decimal: entry.count)
            out.append(byte: 0x7D)
        }
        out.append(byte: 0x5D)
    }

    /// `syn`, `syn+ack`, `rst+ack`, `none`: the flags set, in header order.
    static func flagNames(_ flags: UInt8) -> String {
        let names = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"]
        let set = (0..<8).filter { flags & (1 << $0) != 0 }.map { names[$0] }
        return set.isEmpty ? "none" : set.joined(separator: "+")
    }
}
