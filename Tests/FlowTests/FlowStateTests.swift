import Flow
import Testing
import Wire

@Suite("Flow state")
struct FlowStateTests {
    let client = Packets.ipv4(203, 0, 113, 9)
    let server = Packets.ipv4(10, 1, 1, 1)  // smaller than the client: the client is endpoint B

    func table() -> FlowTable { FlowTable(capacity: 64, seed: 42) }

    @Test("the first packet's sender is the client, whichever endpoint it is")
    func direction() throws {
        let flows = table()
        let first = try #require(flows.track(Packets.udp(client, 5353, server, 571), timestamp: seconds(1), length: 100))
        #expect(first.isNew && first.toServer)
        let flow = flows[first.handle]
        #expect(!flow.clientIsA)
        #expect(flow.client.address == client && flow.client.port == 5353)
        #expect(flow.server.address == server && flow.server.port == 571)

        let reply = try #require(flows.track(Packets.udp(server, 571, client, 5353), timestamp: seconds(2), length: 40))
        #expect(!reply.isNew && !reply.toServer && reply.handle == first.handle)
        let again = try #require(flows.track(Packets.udp(client, 5353, server, 571), timestamp: seconds(3), length: 60))
        #expect(again.toServer)

        let counted = flows[first.handle]
        #expect(counted.packetsToServer == 2 && counted.bytesToServer == 160)
        #expect(counted.packetsToClient == 1 && counted.bytesToClient == 40)
        #expect(counted.start == seconds(1) && counted.last == seconds(3))
    }

    @Test("UDP is established once both directions were seen")
    func udpEstablished() throws {
        let flows = table()
        let a = try #require(flows.track(Packets.udp(client, 1, server, 2), timestamp: 0, length: 1))
        _ = flows.track(Packets.udp(client, 1, server, 2), timestamp: 1, length: 1)
        #expect(!flows[a.handle].established)
        _ = flows.track(Packets.udp(server, 2, client, 1), timestamp: 2, length: 1)
        #expect(flows[a.handle].established)
    }

    @Test("ICMP echo is established by the reply")
    func icmpEstablished() throws {
        let flows = table()
        let request = try #require(flows.track(Packets.icmp(client, server, type: 8), timestamp: 0, length: 1))
        #expect(!flows[request.handle].established)
        let reply = try #require(flows.track(Packets.icmp(server, client, type: 0), timestamp: 1, length: 1))
        #expect(reply.handle == request.handle && !reply.toServer)
        #expect(flows[request.handle].established)
    }

    @Test("TCP: SYN, SYN-ACK, ACK establishes; FIN both ways closes")
    func handshakeAndFin() throws {
        let flows = table()
        let syn = try #require(flows.track(Packets.tcp(client, 40000, server, 80, flags: TCPFlag.syn), timestamp: 0, length: 60))
        let h = syn.handle
        #expect(flows[h].tcpState == .synSent && !flows[h].established)
        _ = flows.track(Packets.tcp(server, 80, client, 40000, flags: TCPFlag.syn | TCPFlag.ack), timestamp: 1, length: 60)
        #expect(flows[h].tcpState == .synReceived && !flows[h].established)
        _ = flows.track(Packets.tcp(client, 40000, server, 80, flags: TCPFlag.ack), timestamp: 2, length: 52)
        #expect(flows[h].tcpState == .established && flows[h].established)
        _ = flows.track(Packets.tcp(server, 80, client, 40000, flags: TCPFlag.fin | TCPFlag.ack), timestamp: 3, length: 52)
        #expect(flows[h].tcpState == .closing && flows[h].finFromServer && !flows[h].finFromClient)
        #expect(!flows[h].isClosed && flows.counters.ended == 0)
        _ = flows.track(Packets.tcp(client, 40000, server, 80, flags: TCPFlag.fin | TCPFlag.ack), timestamp: 4, length: 52)
        #expect(flows[h].isClosed && flows[h].established)  // still counts as having been established
        #expect(flows.counters.ended == 1)
        // The last ACK changes nothing and does not count the end twice.
        _ = flows.track(Packets.tcp(server, 80, client, 40000, flags: TCPFlag.ack), timestamp: 5, length: 52)
        #expect(flows[h].isClosed && flows.counters.ended == 1)
        #expect(flows[h].tcpFlagsToServer == UInt8(TCPFlag.syn | TCPFlag.ack | TCPFlag.fin))
        #expect(flows[h].tcpFlagsToClient == UInt8(TCPFlag.syn | TCPFlag.ack | TCPFlag.fin))
    }

    @Test("TCP: a SYN answered by RST (a closed port) closes without establishing")
    func synRst() throws {
        let flows = table()
        let syn = try #require(flows.track(Packets.tcp(client, 40000, server, 571, flags: TCPFlag.syn), timestamp: 0, length: 60))
        _ = flows.track(Packets.tcp(server, 571, client, 40000, flags: TCPFlag.rst | TCPFlag.ack), timestamp: 1, length: 54)
        let flow = flows[syn.handle]
        #expect(flow.isClosed && flow.rstSeen && !flow.established)
        #expect(flows.counters.ended == 1)
    }

    @Test("TCP: RST after the handshake closes an established flow")
    func establishedRst() throws {
        let flows = table()
        let h = try #require(flows.track(Packets.tcp(client, 1, server, 2, flags: TCPFlag.syn), timestamp: 0, length: 1)).handle
        _ = flows.track(Packets.tcp(server, 2, client, 1, flags: TCPFlag.syn | TCPFlag.ack), timestamp: 1, length: 1)
        _ = flows.track(Packets.tcp(client, 1, server, 2, flags: TCPFlag.ack), timestamp: 2, length: 1)
        _ = flows.track(Packets.tcp(client, 1, server, 2, flags: TCPFlag.rst), timestamp: 3, length: 1)
        #expect(flows[h].isClosed && flows[h].established)
    }

    /// Asymmetric routing: the sensor sees one side of the handshake. As Suricata's `async-oneside`.
    @Test("TCP: a handshake seen from one side only establishes")
    func oneSidedHandshake() throws {
        let flows = table()
        // The client's side: SYN, then the ACK it sends only for a SYN-ACK it received.
        let c = try #require(flows.track(Packets.tcp(client, 21, server, 8, flags: TCPFlag.syn), timestamp: 0, length: 1)).handle
        _ = flows.track(Packets.tcp(client, 21, server, 8, flags: TCPFlag.ack), timestamp: 1, length: 1)
        #expect(flows[c].tcpState == .established && flows[c].established && !flows[c].spokeToClient)
        // The server's side (a SYN-ACK first, then the server's ACK) needs the engine to make the
        // receiver the client: `FirstPacketTests` covers it.
    }

    @Test("TCP: out-of-order handshake pieces and midstream traffic do not establish")
    func noHandshake() throws {
        let flows = table()
        // Midstream: ACKs both ways.
        let mid = try #require(flows.track(Packets.tcp(client, 7, server, 8, flags: TCPFlag.ack), timestamp: 0, length: 1)).handle
        _ = flows.track(Packets.tcp(server, 8, client, 7, flags: TCPFlag.ack), timestamp: 1, length: 1)
        #expect(flows[mid].tcpState == .none && !flows[mid].established)
        // A SYN-ACK in the client's direction is not the server's answer.
        let h = try #require(flows.track(Packets.tcp(client, 9, server, 8, flags: TCPFlag.syn), timestamp: 0, length: 1)).handle
        _ = flows.track(Packets.tcp(client, 9, server, 8, flags: TCPFlag.syn | TCPFlag.ack), timestamp: 2, length: 1)
        #expect(flows[h].tcpState == .synSent && !flows[h].established)
        // Nor is a FIN or a RST-less data packet from the server after the SYN.
        _ = flows.track(Packets.tcp(server, 8, client, 9, flags: TCPFlag.fin), timestamp: 2, length: 1)
        #expect(!flows[h].established)
        // FIN both ways still ends a flow that never established.
        _ = flows.track(Packets.tcp(client, 7, server, 8, flags: TCPFlag.fin | TCPFlag.ack), timestamp: 3, length: 1)
        _ = flows.track(Packets.tcp(server, 8, client, 7, flags: TCPFlag.fin | TCPFlag.ack), timestamp: 4, length: 1)
        #expect(flows[mid].isClosed && !flows[mid].established)
    }

    @Test("the engine's area and the inline sid list")
    func detectionArea() throws {
        let flows = table()
        let h = try #require(flows.track(Packets.udp(client, 1, server, 2), timestamp: 0, length: 1)).handle
        flows[h].verdict = 3
        flows[h].watchedPort = 571
        flows[h].flags |= 0x8000_0001
        for sid in UInt32(1_000_001)...1_000_008 {
            #expect(flows[h].alerted.insert(sid) == .inserted)
        }
        #expect(flows[h].alerted.insert(1_000_003) == .repeated)
        #expect(flows[h].alerted.insert(2_000_000) == .full)
        let flow = flows[h]
        #expect(flow.verdict == 3 && flow.watchedPort == 571 && flow.flags == 0x8000_0001)
        #expect(Array(flow.alerted) == Array(UInt32(1_000_001)...1_000_008))
        #expect(flow.alerted.count == AlertedSids.capacity)
        #expect(flow.alerted.repeats == 1 && flow.alerted.dropped == 1)
        #expect(flow.alerted.contains(1_000_008) && !flow.alerted.contains(2_000_000))
    }

    @Test("timestamps that go backwards never move last back")
    func reordered() throws {
        let flows = table()
        let h = try #require(flows.track(Packets.udp(client, 1, server, 2), timestamp: seconds(10), length: 1)).handle
        _ = flows.track(Packets.udp(client, 1, server, 2), timestamp: seconds(9), length: 1)
        #expect(flows[h].last == seconds(10) && flows[h].start == seconds(10))
    }
}
