import Detect
import Flow
import Rules
import Wire

/// Everything a flow record needs besides the flow: plain values, so records can be written
/// on more than one thread (see `EVERecords.flowsEnded`).
struct FlowRecordFormat: Sendable {
    var interface: String?
    var communityIDSeed: UInt16
    var watchlist: Watchlist

    /// The flow's EVE `flow` record, newline included.
    func write(_ flow: Flow, reason: StaticString, into out: inout OutputBuffer) {
        var head = EVEHeader(timestamp: flow.start)
        head.flowID = flow.eveFlowID
        head.inIface = interface
        let client = flow.client, server = flow.server
        head.ipVersion = flow.key.isIPv6 ? 6 : 4
        head.src = client.address
        head.dst = server.address
        head.proto = flow.key.proto
        head.hasPorts = PacketFacts.carriesPorts(flow.key.proto)
        head.sport = client.port
        head.dport = server.port
        if flow.key.vlan != 0 {
            head.vlanCount = 1
            head.vlanIDs.0 = flow.key.vlan
        }
        let verdict = Verdict(rawValue: flow.verdict) ?? .none
        EVE.open(head, eventType: "flow", into: &out)
        EVEOutput.appendCommunityID(into: &out) { CommunityID.write(seed: communityIDSeed, flow: flow, into: $0) }
        EVEOutput.appendFlowCounters(flow, end: true, into: &out)
        out.append(",\"state\":\"")
        out.append(flow.key.proto == IPProtocol.tcp ? flow.tcpState.name : (flow.established ? "established" : "new"))
        out.append("\",\"reason\":\"")
        out.append(reason)
        out.append(byte: 0x22)
        out.append(",\"alerted\":")
        out.append(flow.hasAlerted ? "true" : "false")
        out.append(byte: 0x7D)
        out.append(",\"ghostport\":{")
        var comma = false
        if verdict != .none {
            out.append("\"verdict\":\"")
            out.append(verdict.name)
            out.append(byte: 0x22)
            EVE.appendField("watched_port", number: UInt64(flow.watchedPort), into: &out)
            if let service = watchlist.service(port: flow.watchedPort, proto: flow.key.proto), !service.isEmpty {
                EVE.appendField("service", string: service, into: &out)
            }
            comma = true
        }
        out.append(comma ? ",\"sids\":[" : "\"sids\":[")
        for (i, sid) in flow.alerted.enumerated() {
            if i > 0 { out.append(byte: 0x2C) }
            out.append(decimal: UInt64(sid))
        }
        out.append(byte: 0x5D)
        EVE.appendField("repeats", number: UInt64(flow.alerted.repeats), into: &out)
        out.append("}}\n")
    }
}
