import Flow
import Output
import Platform
import Rules
import Wire

/// Everything a flow record needs besides the flow: plain values, so records can be written
/// on more than one thread (see `Engine.drainFlows`).
struct FlowRecordFormat: Sendable {
    var interface: String?
    var communityIDSeed: UInt16
    var watchlist: Watchlist

    /// The flow's EVE `flow` record, newline included.
    func write(_ flow: Flow, reason: StaticString, into out: inout OutputBuffer) {
        var head = EVEHeader(timestamp: flow.start)
        head.flowID = Engine.flowID(of: flow)
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
        out.append(flow.flags & Engine.alertedFlag != 0 ? "true" : "false")
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

extension Engine {
    /// Ends every flow at shutdown. The bookkeeping (verdict counts, evidence files) runs here,
    /// in order; the flow records, which cost about 0.3 µs each, are written in batches
    /// split between this thread (the first half) and a helper (the rest) and appended in
    /// order: the same bytes as one thread writes, in about two-thirds of the time.
    func drainFlows(reason: StaticString) {
        let format = flowRecordFormat
        var batch: [Flow] = []
        batch.reserveCapacity(Self.flowRecordBatch)
        var helperOutput = OutputBuffer(fd: -1, flushThreshold: 1 << 20)
        func writeBatch() {
            if batch.count < max(2, configuration.parallelFlowRecords) {
                for flow in batch { output.record { out in format.write(flow, reason: reason, into: &out) } }
            } else {
                // Halves: this thread also did each flow's bookkeeping, but the helper's
                // records cost about a third more (it reads flows this thread just walked, from
                // the other core's cache); measured, an even split finishes first.
                let half = batch.count / 2
                batch.withUnsafeBufferPointer { flows in
                    Concurrently.run({
                        for flow in flows[..<half] { output.record { out in format.write(flow, reason: reason, into: &out) } }
                    }, alongside: {
                        for flow in flows[half...] { format.write(flow, reason: reason, into: &helperOutput) }
                    })
                }
                output.append(records: batch.count - half, from: helperOutput)
                helperOutput.discard()
            }
            batch.removeAll(keepingCapacity: true)
        }
        flows.drain { flow in
            guard self.flowEndedNeedsRecord(flow) else { return }
            batch.append(flow)
            if batch.count == Self.flowRecordBatch { writeBatch() }
        }
        writeBatch()
    }

    static let flowRecordBatch = 4096
}
