import Foundation

/// A deterministic scenario of traffic at a gateway, written as a capture file, with the truth of
/// what a correct sensor reports on it: every flow to a watched port with its verdict, and the
/// sources that scanned. The truth comes from what was generated, never from the sensor: a flow
/// planned as "answered" is generated with its answer, and is "answered" in the truth.
///
/// The traffic (Ethernet, microsecond classic pcap), interleaved over a span of packet time:
/// - background: TCP sessions (handshake, data both ways, FIN) to common unwatched ports, UDP
///   request and reply (53, 123), a share over IPv6, a share behind an 802.1Q tag, and UDP
///   datagrams split into IPv4 fragments;
/// - flows to watched ports with planned outcomes: TCP unanswered (a SYN and its retry),
///   rejected by a RST or by an ICMP/ICMPv6 port unreachable quoting the SYN, answered (SYN,
///   SYN-ACK, ACK, data both ways, FIN); UDP unanswered, rejected by ICMP, answered by a reply;
///   over IPv4 and IPv6, some tagged;
/// - scanners: sources that touch six watched ports on one host, or one watched port on six
///   hosts, within ten seconds (a sensor's default scan is five ports or five hosts within 60 s);
///   and near misses, which touch four ports on four hosts and must not be called scanners.
///   Every other source sends at most two watched flows, so no scan happens by accident.
///
/// Every flow's packets fall within two seconds, far inside any idle timeout; client ports are
/// 32768 and up, above every watched port.
public struct Scenario: Sendable {
    public struct Configuration: Sendable {
        public var seed: UInt64 = 1
        /// About how many packets (the count is met within one flow's packets).
        public var packets = 50_000
        public var watched: [WatchedPort] = WatchedPort.defaults
        /// Scanners of each kind (ports on one host, hosts on one port), and near misses.
        public var portScanners = 2
        public var hostScanners = 1
        public var nearMisses = 2
        /// Share of flows that go to watched ports.
        public var watchedShare = 0.04
        /// The number of the first endpoint address: scenarios given ranges far apart (100,000
        /// addresses each is plenty) share no address, so replayed one after another their flows never meet.
        public var firstAddress: UInt32 = 1

        public init(seed: UInt64 = 1, packets: Int = 50_000) {
            self.seed = seed
            self.packets = packets
        }
    }

    public struct WatchedPort: Sendable, Hashable, CustomStringConvertible {
        public var port: UInt16
        public var proto: FlowTruth.Proto

        public init(_ port: UInt16, _ proto: FlowTruth.Proto) {
            self.port = port
            self.proto = proto
        }

        public var description: String { "\(port)/\(proto.rawValue)" }

        /// Abandoned ports the shipped rules watch, both protocols.
        public static let defaults: [WatchedPort] = [
            WatchedPort(571, .tcp), WatchedPort(571, .udp), WatchedPort(3, .tcp), WatchedPort(9, .udp),
            WatchedPort(39, .udp), WatchedPort(87, .tcp), WatchedPort(95, .tcp), WatchedPort(104, .tcp),
            WatchedPort(517, .udp), WatchedPort(519, .tcp),
        ]
    }

    /// What a correct sensor reports on the capture.
    ///
    /// JSON (`NAME.truth.json` beside `NAME.pcap`): `seed`, `packets` (in the capture), `flows`
    /// (all flows generated), `watched` {"571/tcp": {`flows`, `unanswered`, `rejected`,
    /// `answered`, `syn_packets` (TCP SYNs without ACK sent to the port)}}, `watched_flows` [{
    /// `client`, `client_port`, `server`, `server_port`, `proto` ("tcp"/"udp"), `vlan` (or null),
    /// `verdict`}], `scanners` and `near_misses` (source addresses). Addresses are in the text a
    /// sensor writes (IPv6 in RFC 5952 form).
    public struct Truth: Codable, Sendable, Equatable {
        public var seed: UInt64
        public var packets: Int
        public var flows: Int
        public var watched: [String: PortCounts]
        public var watchedFlows: [FlowTruth]
        public var scanners: [String]
        public var nearMisses: [String]

        enum CodingKeys: String, CodingKey {
            case seed, packets, flows, watched, scanners
            case watchedFlows = "watched_flows"
            case nearMisses = "near_misses"
        }
    }

    public struct PortCounts: Codable, Sendable, Equatable {
        public var flows = 0
        public var unanswered = 0
        public var rejected = 0
        public var answered = 0
        public var synPackets = 0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case flows, unanswered, rejected, answered
            case synPackets = "syn_packets"
        }
    }

    public struct FlowTruth: Codable, Sendable, Hashable {
        public enum Proto: String, Codable, Sendable { case tcp, udp }
        public enum Verdict: String, Codable, Sendable { case unanswered, rejected, answered }

        public var client: String
        public var clientPort: UInt16
        public var server: String
        public var serverPort: UInt16
        public var proto: Proto
        public var vlan: UInt16?
        public var verdict: Verdict

        enum CodingKeys: String, CodingKey {
            case client, server, proto, vlan, verdict
            case clientPort = "client_port"
            case serverPort = "server_port"
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Writes `directory/name.pcap` and `directory/name.truth.json`; returns the truth.
    @discardableResult
    public func write(to directory: String, name: String) throws -> Truth {
        let truth = try writeCapture(to: directory + "/" + name + ".pcap")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(truth).write(to: URL(fileURLWithPath: directory + "/" + name + ".truth.json"))
        return truth
    }

    /// Writes the capture to `path`, streaming; returns the truth.
    public func writeCapture(to path: String) throws -> Truth {
        guard var stream = PcapStream(path: path) else { throw ScenarioError.cannotWrite(path) }
        var plan = Planner(configuration)
        let truth = plan.run { frame, microseconds in stream.write(frame, microseconds: microseconds) }
        guard stream.close() else { throw ScenarioError.cannotWrite(path) }
        return truth
    }

    public enum ScenarioError: Error, CustomStringConvertible {
        case cannotWrite(String)
        public var description: String {
            switch self {
            case .cannotWrite(let path): "\(path): cannot write the capture"
            }
        }
    }
}

/// Builds the flows in order of their start and hands their packets on in time order: a flow's
/// packets wait in a small queue until every flow starting before them has been started.
private struct Planner {
    let configuration: Scenario.Configuration
    var random: SplitMix64
    var truth: Scenario.Truth
    /// Packets of started flows not yet written: a min-heap by time, then by when they were made.
    var pending = PacketHeap()
    var made = 0
    var written = 0
    var nextAddress: UInt32 = 1

    static let start: Int64 = 1_750_000_000 * 1_000_000  // microseconds

    init(_ configuration: Scenario.Configuration) {
        self.configuration = configuration
        // The seed through SplitMix's mix once: seeds n and n + 1 must not give the same stream shifted by one.
        var mixer = SplitMix64(seed: configuration.seed)
        random = SplitMix64(seed: mixer.next())
        truth = Scenario.Truth(seed: configuration.seed, packets: 0, flows: 0, watched: [:], watchedFlows: [],
                               scanners: [], nearMisses: [])
        for port in configuration.watched { truth.watched[port.description] = Scenario.PortCounts() }
        nextAddress = max(1, configuration.firstAddress)
    }

    /// Flows start every `gap` microseconds (about ten packets each) until the packet count is
    /// met; the scanners and near misses start at evenly spread moments among them.
    mutating func run(_ write: ([UInt8], Int64) -> Void) -> Scenario.Truth {
        let flowsWanted = max(1, configuration.packets / 9)
        let gap: Int64 = 20_000  // 50 flows a second of packet time
        var specials: [(index: Int, kind: Int)] = []
        let specialCount = configuration.portScanners + configuration.hostScanners + configuration.nearMisses
        for i in 0..<specialCount { specials.append(((i + 1) * flowsWanted / (specialCount + 1), i)) }
        var index = 0
        var time = Self.start
        while made < configuration.packets {
            flush(before: time, write)
            if let special = specials.first, special.index <= index {
                specials.removeFirst()
                startSpecial(special.kind, at: time)
            } else {
                startFlow(at: time)
            }
            truth.flows += 1
            index += 1
            time += gap / 2 + Int64(random.next() % UInt64(gap))
        }
        flush(before: .max, write)
        truth.packets = written
        truth.scanners.sort()
        truth.nearMisses.sort()
        return truth
    }

    private mutating func flush(before time: Int64, _ write: ([UInt8], Int64) -> Void) {
        while let first = pending.first, first.time < time {
            write(first.frame, first.time)
            pending.removeFirst()
            written += 1
        }
    }

    private mutating func emit(_ frame: [UInt8], at time: Int64) {
        pending.insert(PacketHeap.Entry(time: time, order: made, frame: frame))
        made += 1
    }

    // MARK: Addresses and frames

    /// A fresh endpoint, never used before (so a watched flow's source sends no other): one
    /// counter numbers them all; IPv6 text is RFC 5952's (every group but the run of two zeros set).
    private mutating func address(v6: Bool, inside: Bool) -> String {
        defer { nextAddress &+= 1 }
        let n = nextAddress
        if v6 {
            let net = inside ? "2001:db8:10" : "2001:db8:ff"
            return "\(net):\(String((n >> 15) + 1, radix: 16)):\(String((n & 0x7FFF) + 1, radix: 16))::1"
        }
        let host = 1 + n % 250, middle = n / 250 % 256, high = n / 64_000
        return inside ? "10.\(high % 256).\(middle).\(host)" : "\(100 + high % 100).\(middle).\(host).\(7 + high / 100 % 200)"
    }

    private mutating func clientPort() -> UInt16 { UInt16(32_768 + random.next() % 28_000) }

    private func frame(_ src: String, _ dst: String, v6: Bool, vlan: UInt16?, _ segment: Segment) -> [UInt8] {
        let network = v6 ? Network.ipv6(src: src, dst: dst, segment) : Network.ipv4(src: src, dst: dst, segment)
        return Packet.ethernet(vlans: vlan.map { [VLANTag(id: $0)] } ?? [], network)
    }

    private func network(_ src: String, _ dst: String, v6: Bool, _ segment: Segment) -> Network {
        v6 ? Network.ipv6(src: src, dst: dst, segment) : Network.ipv4(src: src, dst: dst, segment)
    }

    // MARK: Flows

    private mutating func startFlow(at time: Int64) {
        let v6 = random.next() % 5 == 0
        let vlan: UInt16? = random.next() % 7 == 0 ? UInt16(10 + random.next() % 90) : nil
        let roll = Double(random.next() % 1_000_000) / 1_000_000
        if roll < configuration.watchedShare, !configuration.watched.isEmpty {
            let port = configuration.watched[Int(random.next() % UInt64(configuration.watched.count))]
            let outcome = Int(random.next() % 100)
            let verdict: Scenario.FlowTruth.Verdict = outcome < 55 ? .unanswered : outcome < 80 ? .rejected : .answered
            let client = address(v6: v6, inside: false), server = address(v6: v6, inside: true)
            watchedFlow(client: client, server: server, port: port, verdict: verdict, v6: v6, vlan: vlan, at: time,
                        viaICMP: random.next() % 2 == 0)
        } else if random.next() % 10 < 7 {
            backgroundTCP(v6: v6, vlan: vlan, at: time)
        } else if !v6 && random.next() % 6 == 0 {
            fragmentedUDP(vlan: vlan, at: time)
        } else {
            backgroundUDP(v6: v6, vlan: vlan, at: time)
        }
    }

    private mutating func backgroundTCP(v6: Bool, vlan: UInt16?, at time: Int64) {
        let ports: [UInt16] = [80, 443, 22, 25, 993, 8080, 3306]
        let client = address(v6: v6, inside: true), server = address(v6: v6, inside: false)
        let sport = clientPort(), dport = ports[Int(random.next() % UInt64(ports.count))]
        var t = time
        var seqC: UInt32 = 1000, seqS: UInt32 = 5000
        func up(_ flags: TCPFlags, _ payload: Int = 0) -> [UInt8] {
            frame(client, server, v6: v6, vlan: vlan, .tcp(sport: sport, dport: dport, flags: flags, seq: seqC, ack: seqS,
                                                          payload: [UInt8](repeating: 0x61, count: payload)))
        }
        func down(_ flags: TCPFlags, _ payload: Int = 0) -> [UInt8] {
            frame(server, client, v6: v6, vlan: vlan, .tcp(sport: dport, dport: sport, flags: flags, seq: seqS, ack: seqC,
                                                          payload: [UInt8](repeating: 0x62, count: payload)))
        }
        emit(up(.syn), at: t); seqC &+= 1; t += 300
        emit(down(.synAck), at: t); seqS &+= 1; t += 300
        emit(up(.ack), at: t); t += 500
        for _ in 0..<(1 + random.next() % 3) {
            let request = Int(20 + random.next() % 300), response = Int(40 + random.next() % 900)
            emit(up([.psh, .ack], request), at: t); seqC &+= UInt32(request); t += 2_000
            emit(down([.psh, .ack], response), at: t); seqS &+= UInt32(response); t += 1_000
        }
        emit(up([.fin, .ack]), at: t); seqC &+= 1; t += 300
        emit(down([.fin, .ack]), at: t); seqS &+= 1; t += 300
        emit(up(.ack), at: t)
    }

    /// A DNS query and its answer, or an NTP request and reply: well-formed, so a dissector
    /// (tshark's) finds nothing wrong in them.
    private mutating func backgroundUDP(v6: Bool, vlan: UInt16?, at time: Int64) {
        let client = address(v6: v6, inside: true), server = address(v6: v6, inside: false)
        let sport = clientPort()
        let dns = random.next() % 2 == 0
        let dport: UInt16 = dns ? 53 : 123
        let id = UInt16(truncatingIfNeeded: random.next())
        let (request, reply) = dns ? Self.dnsExchange(id: id) : Self.ntpExchange()
        emit(frame(client, server, v6: v6, vlan: vlan, .udp(sport: sport, dport: dport, payload: request)), at: time)
        emit(frame(server, client, v6: v6, vlan: vlan, .udp(sport: dport, dport: sport, payload: reply)), at: time + 800)
    }

    /// `example.com A?` and its answer 192.0.2.80.
    static func dnsExchange(id: UInt16) -> ([UInt8], [UInt8]) {
        let name: [UInt8] = [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0]
        let question = name + [0, 1, 0, 1]  // type A, class IN
        let query = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0] + question
        let answer: [UInt8] = [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 192, 0, 2, 80]  // the name, A, IN, TTL 3600, 4 bytes
        let response = [UInt8(id >> 8), UInt8(id & 0xFF), 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0] + question + answer
        return (query, response)
    }

    /// An NTPv4 client request and the server's reply (48 bytes each).
    static func ntpExchange() -> ([UInt8], [UInt8]) {
        var request = [UInt8](repeating: 0, count: 48), reply = [UInt8](repeating: 0, count: 48)
        request[0] = 0x23  // version 4, client
        reply[0] = 0x24  // version 4, server
        reply[1] = 2  // stratum
        return (request, reply)
    }

    /// A request and a 1,400-byte reply in three IPv4 fragments (the first carries the ports), to a
    /// port no dissector claims.
    private mutating func fragmentedUDP(vlan: UInt16?, at time: Int64) {
        let client = address(v6: false, inside: true), server = address(v6: false, inside: false)
        let sport = clientPort(), dport: UInt16 = 21_117
        emit(frame(client, server, v6: false, vlan: vlan, .udp(sport: sport, dport: dport, payload: [UInt8](repeating: 1, count: 40))),
             at: time)
        let whole = Network.ipv4(src: server, dst: client, .udp(sport: dport, dport: sport, payload: [UInt8](repeating: 3, count: 1_400)))
        let payload = Array(whole.bytes.dropFirst(20))  // the UDP header and data
        let id = UInt16(truncatingIfNeeded: random.next())
        var offset = 0
        var t = time + 900
        while offset < payload.count {
            let piece = Array(payload[offset..<min(payload.count, offset + 576)])
            let more = offset + piece.count < payload.count
            let fragment = Network.ipv4(src: server, dst: client, id: id, moreFragments: more,
                                        fragmentOffset: UInt16(offset / 8), proto: 17, .raw(proto: 17, piece))
            emit(Packet.ethernet(vlans: vlan.map { [VLANTag(id: $0)] } ?? [], fragment), at: t)
            offset += piece.count
            t += 50
        }
    }

    /// One flow to a watched port, with the planned outcome, counted in the truth.
    private mutating func watchedFlow(client: String, server: String, port: Scenario.WatchedPort,
                                      verdict: Scenario.FlowTruth.Verdict, v6: Bool, vlan: UInt16?, at time: Int64,
                                      viaICMP: Bool, retry: Bool = true) {
        let sport = clientPort()
        var t = time
        var counts = truth.watched[port.description, default: Scenario.PortCounts()]
        counts.flows += 1
        switch verdict {
        case .unanswered: counts.unanswered += 1
        case .rejected: counts.rejected += 1
        case .answered: counts.answered += 1
        }
        truth.watchedFlows.append(Scenario.FlowTruth(client: client, clientPort: sport, server: server, serverPort: port.port,
                                                     proto: port.proto, vlan: vlan, verdict: verdict))
        if port.proto == .tcp {
            let syn = Segment.tcp(sport: sport, dport: port.port, flags: .syn, seq: 7000)
            emit(frame(client, server, v6: v6, vlan: vlan, syn), at: t)
            counts.synPackets += 1
            t += 400
            switch verdict {
            case .unanswered:
                if retry {
                    emit(frame(client, server, v6: v6, vlan: vlan, syn), at: t + 1_000_000)
                    counts.synPackets += 1
                }
            case .rejected where viaICMP:
                emit(unreachable(quoting: network(client, server, v6: v6, syn), from: server, to: client, v6: v6, vlan: vlan), at: t)
            case .rejected:
                emit(frame(server, client, v6: v6, vlan: vlan, .tcp(sport: port.port, dport: sport, flags: [.rst, .ack], seq: 0, ack: 7001)),
                     at: t)
            case .answered:
                func up(_ flags: TCPFlags, _ payload: [UInt8] = [], seq: UInt32, ack: UInt32) -> [UInt8] {
                    frame(client, server, v6: v6, vlan: vlan, .tcp(sport: sport, dport: port.port, flags: flags, seq: seq, ack: ack,
                                                                  payload: payload))
                }
                func down(_ flags: TCPFlags, _ payload: [UInt8] = [], seq: UInt32, ack: UInt32) -> [UInt8] {
                    frame(server, client, v6: v6, vlan: vlan, .tcp(sport: port.port, dport: sport, flags: flags, seq: seq, ack: ack,
                                                                  payload: payload))
                }
                emit(down(.synAck, seq: 9000, ack: 7001), at: t); t += 300
                emit(up(.ack, seq: 7001, ack: 9001), at: t); t += 500
                emit(up([.psh, .ack], Array("hello\n".utf8), seq: 7001, ack: 9001), at: t); t += 2_000
                emit(down([.psh, .ack], Array("udemon 1.0 ready\n".utf8), seq: 9001, ack: 7007), at: t); t += 1_000
                emit(up([.fin, .ack], seq: 7007, ack: 9018), at: t); t += 300
                emit(down([.fin, .ack], seq: 9018, ack: 7008), at: t); t += 300
                emit(up(.ack, seq: 7008, ack: 9019), at: t)
            }
        } else {
            let request = Segment.udp(sport: sport, dport: port.port, payload: Array("status?".utf8))
            emit(frame(client, server, v6: v6, vlan: vlan, request), at: t)
            t += 600
            switch verdict {
            case .unanswered:
                if retry { emit(frame(client, server, v6: v6, vlan: vlan, request), at: t + 1_000_000) }
            case .rejected:
                emit(unreachable(quoting: network(client, server, v6: v6, request), from: server, to: client, v6: v6, vlan: vlan), at: t)
            case .answered:
                emit(frame(server, client, v6: v6, vlan: vlan, .udp(sport: port.port, dport: sport, payload: Array("ok 42\n".utf8))), at: t)
            }
        }
        truth.watched[port.description] = counts
    }

    /// ICMP (or ICMPv6) port unreachable from `from` to `to`, quoting `packet`.
    private func unreachable(quoting packet: Network, from: String, to: String, v6: Bool, vlan: UInt16?) -> [UInt8] {
        let segment = v6 ? Segment.icmpv6Error(type: 1, code: 4, quoting: packet) : Segment.icmpError(type: 3, code: 3, quoting: packet)
        return frame(from, to, v6: v6, vlan: vlan, segment)
    }

    // MARK: Scanners

    /// Kinds in order: port scanners, host scanners, near misses.
    private mutating func startSpecial(_ kind: Int, at time: Int64) {
        let source = address(v6: false, inside: false)
        let ports = configuration.watched
        guard !ports.isEmpty else { return }
        var t = time
        func touch(_ port: Scenario.WatchedPort, on host: String) {
            // One probe, no retry: the scanner moves on; nothing answers.
            watchedFlow(client: source, server: host, port: port, verdict: .unanswered, v6: false, vlan: nil, at: t,
                        viaICMP: false, retry: false)
            t += 150_000 + Int64(random.next() % 200_000)
        }
        if kind < configuration.portScanners {
            let host = address(v6: false, inside: true)
            for port in distinct(ports, 6) { touch(port, on: host) }
            truth.scanners.append(source)
        } else if kind < configuration.portScanners + configuration.hostScanners {
            let port = ports[Int(random.next() % UInt64(ports.count))]
            for _ in 0..<6 { touch(port, on: address(v6: false, inside: true)) }
            truth.scanners.append(source)
        } else {
            for port in distinct(ports, 4) { touch(port, on: address(v6: false, inside: true)) }
            truth.nearMisses.append(source)
        }
    }

    /// `count` different watched ports (as many as there are, when fewer), in a random order.
    private mutating func distinct(_ ports: [Scenario.WatchedPort], _ count: Int) -> [Scenario.WatchedPort] {
        var pool = ports
        var chosen: [Scenario.WatchedPort] = []
        while chosen.count < count && !pool.isEmpty {
            chosen.append(pool.remove(at: Int(random.next() % UInt64(pool.count))))
        }
        return chosen
    }
}

/// A binary min-heap of packets by (time, order): the planner's queue of packets not yet written.
private struct PacketHeap {
    struct Entry {
        var time: Int64
        var order: Int
        var frame: [UInt8]

        func precedes(_ other: Entry) -> Bool { (time, order) < (other.time, other.order) }
    }

    private var entries: [Entry] = []

    var first: Entry? { entries.first }

    mutating func insert(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].precedes(entries[smallest]) { smallest = left }
            if right < entries.count && entries[right].precedes(entries[smallest]) { smallest = right }
            guard smallest != parent else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
