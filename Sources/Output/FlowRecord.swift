import Detect
import Flow
import Rules
import Wire

/// Everything a flow record needs besides the flow: plain values, so records can be written
/// on more than one thread (see `EVERecords.flowsEnded`).
struct FlowRecordFormat: Sendable {
    var interface: String?
    var host: String?
    var communityIDSeed: UInt16
    var watchlist: Watchlist
    /// Tunnels of tunneled flows, by flow id.
    var tunnels: [UInt64: TunnelInfo]
    /// `read`'s input files: a flow's `pcap_filename` is the one its first packet came from.
    var sourceNames: [String] = []

    /// The flow's EVE `flow` record, newline included. `time` is when the flow ended (its
    /// timeout, eviction or the shutdown, on the packet clock offline): the record's timestamp, as
    /// Suricata's is the moment it logs the flow; the flow's own times are `flow.start` and `flow.end`.
    func write(_ flow: Flow, reason: StaticString, time: Int64, into out: inout OutputBuffer) {
        var head = EVEHeader(timestamp: time)
        head.flowID = flow.eveFlowID
        head.inIface = interface
        head.host = host
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
        if Int(flow.source) < sourceNames.count {
            EVE.appendField("pcap_filename", string: sourceNames[Int(flow.source)], into: &out)
        }
        EVEOutput.appendFlowCounters(flow, end: true, into: &out)
        let isTCP = flow.key.proto == IPProtocol.tcp
        out.append(",\"state\":\"")
        out.append(isTCP ? Self.flowState(flow.tcpState) : (flow.established ? "established" : "new"))
        out.append("\",\"reason\":\"")
        out.append(reason)
        out.append(byte: 0x22)
        out.append(",\"alerted\":")
        out.append(flow.hasAlerted ? "true" : "false")
        out.append(byte: 0x7D)
        if isTCP { Self.appendTCP(flow, into: &out) }
        out.append(",\"ghostport\":{")
        var comma = false
        if isTCP {
            out.append("\"tcp_state\":\"")
            out.append(flow.tcpState.name)
            out.append(byte: 0x22)
            comma = true
        }
        if verdict != .none {
            out.append(comma ? ",\"verdict\":\"" : "\"verdict\":\"")
            out.append(verdict.name)
            out.append(byte: 0x22)
            EVE.appendField("watched_port", number: UInt64(flow.watchedPort), into: &out)
            if let service = watchlist.service(port: flow.watchedPort, proto: flow.key.proto), !service.isEmpty {
                EVE.appendField("service", string: service, into: &out)
            }
            EVE.appendProbe(flow, into: &out)
            comma = true
        }
        out.append(comma ? ",\"sids\":[" : "\"sids\":[")
        for (i, sid) in flow.alerted.enumerated() {
            if i > 0 { out.append(byte: 0x2C) }
            out.append(decimal: UInt64(sid))
        }
        out.append(byte: 0x5D)
        EVE.appendField("repeats", number: UInt64(flow.alerted.repeats), into: &out)
        if flow.key.tunnelKey != 0, let tunnel = tunnels[flow.eveFlowID] {
            out.append(byte: 0x2C)
            EVE.appendGhostportTunnel(tunnel, endpoints: true, into: &out)
        }
        out.append("}}\n")
    }

    /// Suricata's flow state for a TCP flow: `new` until the handshake completes, `established`
    /// while it lasts (a FIN from one side included), `closed` after FIN both ways or a RST.
    static func flowState(_ state: TCPState) -> StaticString {
        switch state {
        case .none, .synSent, .synReceived: "new"
        case .established, .closing: "established"
        case .closed: "closed"
        }
    }

    /// Suricata's `tcp` object: the flags seen (both ways, to the server, to the client) as two
    /// hex digits, each flag seen as `true`, and the TCP state where ghostport's is Suricata's
    /// (its `closing`, a FIN from one side, is several of Suricata's states: `ghostport.tcp_state` has it).
    static func appendTCP(_ flow: Flow, into out: inout OutputBuffer) {
        let both = flow.tcpFlagsToServer | flow.tcpFlagsToClient
        out.append(",\"tcp\":{\"tcp_flags\":\"")
        appendHexByte(both, into: &out)
        out.append("\",\"tcp_flags_ts\":\"")
        appendHexByte(flow.tcpFlagsToServer, into: &out)
        out.append("\",\"tcp_flags_tc\":\"")
        appendHexByte(flow.tcpFlagsToClient, into: &out)
        out.append(byte: 0x22)
        // Suricata's order: syn, fin, rst, psh, ack, urg, ecn, cwr.
        let names: [(UInt8, StaticString)] = [(0x02, ",\"syn\":true"), (0x01, ",\"fin\":true"), (0x04, ",\"rst\":true"),
                                              (0x08, ",\"psh\":true"), (0x10, ",\"ack\":true"), (0x20, ",\"urg\":true"),
                                              (0x40, ",\"ecn\":true"), (0x80, ",\"cwr\":true")]
        for (bit, text) in names where both & bit != 0 { out.append(text) }
        if flow.tcpState != .closing {
            out.append(",\"state\":\"")
            out.append(flow.tcpState.name)
            out.append(byte: 0x22)
        }
        out.append(byte: 0x7D)
    }

    private static func appendHexByte(_ value: UInt8, into out: inout OutputBuffer) {
        for nibble in [value >> 4, value & 0xF] { out.append(byte: nibble < 10 ? 0x30 + nibble : 0x57 + nibble) }
    }
}
