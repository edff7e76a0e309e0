import Flow
import Testing
import Wire

@Suite("Flow keys")
struct FlowKeyTests {
    let client = Packets.ipv4(10, 0, 0, 5)
    let server = Packets.ipv4(192, 168, 1, 1)

    @Test("both directions give one key; the flag tells them apart")
    func symmetry() throws {
        let out = try #require(FlowKey.of(Packets.tcp(client, 40000, server, 571, flags: TCPFlag.syn)))
        let back = try #require(FlowKey.of(Packets.tcp(server, 571, client, 40000, flags: TCPFlag.syn | TCPFlag.ack)))
        #expect(out.key == back.key)
        #expect(out.key.hash(seed: 7) == back.key.hash(seed: 7))
        #expect(out.isCanonical != back.isCanonical)
        #expect(out.isCanonical)  // 10.0.0.5 < 192.168.1.1
        #expect(out.key.addressA == client && out.key.portA == 40000)
        #expect(out.key.addressB == server && out.key.portB == 571)
        #expect(out.key.proto == IPProtocol.tcp && !out.key.isIPv6)
    }

    @Test("equal addresses order by port")
    func sameHost() throws {
        let host = Packets.ipv4(127, 0, 0, 1)
        let a = try #require(FlowKey.of(Packets.udp(host, 5000, host, 53)))
        let b = try #require(FlowKey.of(Packets.udp(host, 53, host, 5000)))
        #expect(a.key == b.key)
        #expect(!a.isCanonical && b.isCanonical)
        #expect(a.key.portA == 53)
    }

    @Test("protocol, ports, VLAN and family separate flows")
    func distinct() throws {
        let base = try #require(FlowKey.of(Packets.tcp(client, 1, server, 2, flags: 0))).key
        let others = [
            Packets.udp(client, 1, server, 2),
            Packets.tcp(client, 1, server, 3, flags: 0),
            Packets.tcp(client, 1, server, 2, flags: 0, vlan: 100),
            Packets.tcp(Packets.ipv6(0, UInt64(client.ipv4Value)), 1, Packets.ipv6(0, UInt64(server.ipv4Value)), 2, flags: 0),
        ]
        for packet in others {
            let key = try #require(FlowKey.of(packet)).key
            #expect(key != base)
        }
        let tagged = try #require(FlowKey.of(Packets.tcp(client, 1, server, 2, flags: 0, vlan: 100))).key
        #expect(tagged.vlan == 100)
    }

    @Test("the outermost VLAN tag is the one keyed")
    func outerVLAN() throws {
        var packet = Packets.udp(client, 1, server, 2)
        packet.vlanCount = 2
        packet.vlanIDs = (10, 20, 0)
        #expect(try #require(FlowKey.of(packet)).key.vlan == 10)
    }

    @Test("IPv6 keys order by the full 128 bits")
    func ipv6() throws {
        let low = Packets.ipv6(0x2001_0db8_0000_0000, 0xFFFF_FFFF_FFFF_FFFF)
        let high = Packets.ipv6(0x2001_0db8_0000_0001, 0)
        let a = try #require(FlowKey.of(Packets.udp(high, 1, low, 2)))
        #expect(!a.isCanonical)
        #expect(a.key.addressA == low && a.key.isIPv6)
    }

    @Test("ICMP echo request and reply share a flow; one-way types do not pair")
    func icmp() throws {
        let request = try #require(FlowKey.of(Packets.icmp(client, server, type: 8)))
        let reply = try #require(FlowKey.of(Packets.icmp(server, client, type: 0)))
        #expect(request.key == reply.key)
        #expect(request.isCanonical != reply.isCanonical)
        let v6Request = try #require(FlowKey.of(Packets.icmp(Packets.ipv6(1, 1), Packets.ipv6(2, 2), type: 128)))
        let v6Reply = try #require(FlowKey.of(Packets.icmp(Packets.ipv6(2, 2), Packets.ipv6(1, 1), type: 129)))
        #expect(v6Request.key == v6Reply.key)
        // Timestamp request/reply is a pair too, and different from echo.
        let timestamp = try #require(FlowKey.of(Packets.icmp(client, server, type: 13)))
        #expect(timestamp.key != request.key)
        // Unreachable (one-way): type and code, a flow of its own.
        let unreachable = try #require(FlowKey.of(Packets.icmp(server, client, type: 3, code: 3)))
        #expect(unreachable.key != request.key)
    }

    @Test("an ICMP error leads to the flow it quotes")
    func quoted() throws {
        // client's UDP to server:161, then server's port unreachable quoting it.
        let probe = try #require(FlowKey.of(Packets.udp(client, 33000, server, 161)))
        var error = Packets.icmp(server, client, type: 3, code: 3)
        error.quoted.ipVersion = 4
        error.quoted.src = client
        error.quoted.dst = server
        error.quoted.proto = IPProtocol.udp
        error.quoted.hasPorts = true
        error.quoted.sport = 33000
        error.quoted.dport = 161
        let found = try #require(FlowKey.quotedFlow(of: error))
        #expect(found.key == probe.key)
        #expect(found.isCanonical == probe.isCanonical)  // the quoted packet went the probe's way

        // ICMPv6 time exceeded (type 3) is an error too; echo is not.
        var v6 = Packets.icmp(Packets.ipv6(9, 9), Packets.ipv6(1, 1), type: 3)
        v6.quoted.ipVersion = 6
        v6.quoted.src = Packets.ipv6(1, 1)
        v6.quoted.dst = Packets.ipv6(2, 2)
        v6.quoted.proto = IPProtocol.udp
        #expect(FlowKey.quotedFlow(of: v6)?.key.portA == 0)
        #expect(FlowKey.quotedFlow(of: Packets.icmp(server, client, type: 0)) == nil)
        // No quote decoded: nothing to find.
        #expect(FlowKey.quotedFlow(of: Packets.icmp(server, client, type: 3)) == nil)
    }

    @Test("later fragments key on addresses and protocol with ports 0")
    func laterFragments() throws {
        var fragment = Packets.ip(src: client, dst: server, proto: IPProtocol.udp)
        fragment.isFragment = true
        fragment.isLaterFragment = true
        let key = try #require(FlowKey.of(fragment)).key
        #expect(key.portA == 0 && key.portB == 0 && key.proto == IPProtocol.udp)
        var reverse = Packets.ip(src: server, dst: client, proto: IPProtocol.udp)
        reverse.isLaterFragment = true
        #expect(try #require(FlowKey.of(reverse)).key == key)
    }

    @Test("no IP, no key")
    func noIP() {
        #expect(FlowKey.of(DecodedPacket()) == nil)
    }

    @Test("the hash depends on the seed and spreads sequential tuples")
    func hashing() throws {
        let key = try #require(FlowKey.of(Packets.tcp(client, 40000, server, 571, flags: 0))).key
        #expect(key.hash(seed: 1) == key.hash(seed: 1))
        #expect(key.hash(seed: 1) != key.hash(seed: 2))
        // 65,536 tuples differing only in the source port: the top 12 bits (4,096 buckets)
        // should be near uniform, 16 per bucket; allow a generous band.
        var counts = [Int](repeating: 0, count: 4096)
        var distinct = Set<UInt64>()
        for port in 0...UInt16.max {
            let k = FlowKey.make(src: client, dst: server, proto: IPProtocol.tcp, sport: port, dport: 571).key
            let h = k.hash(seed: 0x1234_5678)
            counts[Int(h >> 52)] += 1
            distinct.insert(h)
        }
        #expect(distinct.count == 65_536)
        #expect(counts.max()! < 48)
        #expect(counts.min()! > 0)
    }
}
