import Foundation

/// A flood on an abandoned port with needles in it, written as a capture, with the truth of what
/// was sent (never of what a sensor reports):
///
/// - the flood: `floodFlows` TCP SYNs to 571/tcp on `servers` of our addresses (192.168.100.x),
///   each a flow of its own, every one from a new source address (as a random-source spoofed
///   flood looks), but for one heavy source that sends `heavyFlows` of them (its own source
///   ports), spread evenly through the flood;
/// - backscatter: `backscatterFlows` SYN-ACKs from port 571 of as many remote addresses to one
///   of our addresses (198.51.100.7), replies to a spoofed attack elsewhere; every third is
///   reset by our stack, as a real one does;
/// - the needles, spread through the flood: `answered` sessions (SYN, SYN-ACK, ACK, data both
///   ways, FIN) and `rejected` probes (SYN, RST-ACK) to 571/tcp, from clients of their own;
/// - a scanner that sends a SYN to six other watched TCP ports on one host during the flood.
///
/// Everything happens within `seconds` of packet time from an even minute, far inside the
/// 30 s half-open timeout, so no flow ends before the capture does.
public struct FloodScenario: Sendable {
    public struct Configuration: Sendable {
        public var floodFlows = 5_000
        public var heavyFlows = 200
        public var servers = 50
        public var backscatterFlows = 500
        public var answered = 10
        public var rejected = 10
        public var seconds = 20
        /// The capture starts here (seconds since the epoch; a multiple of 60).
        public var start: Int64 = 1_750_000_020

        public init() {}
    }

    /// What was sent. Addresses in the text a sensor writes.
    public struct Truth: Codable, Sendable, Equatable {
        public var packets = 0
        public var flood = Part()
        public var backscatter = Part()
        /// The heavy source and its flows.
        public var heavySource = ""
        public var heavyFlows = 0
        public var answered: [Needle] = []
        public var rejected: [Needle] = []
        public var scanner = ""
        public var scannedPorts: [UInt16] = []

        public struct Part: Codable, Sendable, Equatable {
            /// Flows, their packets and bytes (whole frames, as EVE counts them), and the distinct
            /// addresses that sent them and received them.
            public var flows = 0
            public var packets = 0
            public var bytes = 0
            public var sources = 0
            public var destinations = 0
        }

        public struct Needle: Codable, Sendable, Hashable {
            public var client: String
            public var clientPort: UInt16
            public var server: String

            public init(client: String, clientPort: UInt16, server: String) {
                self.client = client
                self.clientPort = clientPort
                self.server = server
            }

            enum CodingKeys: String, CodingKey {
                case client, server
                case clientPort = "client_port"
            }
        }

        enum CodingKeys: String, CodingKey {
            case packets, flood, backscatter, answered, rejected, scanner
            case heavySource = "heavy_source"
            case heavyFlows = "heavy_flows"
            case scannedPorts = "scanned_ports"
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// Writes `directory/name.pcap` and `directory/name.truth.json`; returns the truth.
    @discardableResult
    public func write(to directory: String, name: String) throws -> Truth {
        let path = directory + "/" + name + ".pcap"
        guard var stream = PcapStream(path: path) else { throw Scenario.ScenarioError.cannotWrite(path) }
        let truth = generate { frame, microseconds in stream.write(frame, microseconds: microseconds) }
        guard stream.close() else { throw Scenario.ScenarioError.cannotWrite(path) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(truth).write(to: URL(fileURLWithPath: directory + "/" + name + ".truth.json"))
        return truth
    }

    /// Makes the packets in time order, handing each to `emit` (frame, microseconds since the epoch).
    public func generate(_ emit: (_ frame: [UInt8], _ microseconds: Int64) -> Void) -> Truth {
        let c = configuration
        var truth = Truth()
        // Events in time order: each a list of frames sent 1 ms apart.
        var events: [(time: Int64, frames: [TCPFrame])] = []
        let span = Int64(c.seconds) * 1_000_000
        let start = c.start * 1_000_000
        func at(_ i: Int, of n: Int) -> Int64 { start + span * Int64(i) / Int64(max(1, n)) }

        let ourServers = (0..<c.servers).map { 0xC0A8_6400 | UInt32(1 + $0) }  // 192.168.100.x
        let heavy: UInt32 = 0xCB00_71FE  // 203.0.113.254
        let heavyEvery = c.heavyFlows > 0 ? max(1, c.floodFlows / c.heavyFlows) : Int.max
        var heavySent = 0
        var destinations = Set<UInt32>()
        var sources = Set<UInt32>()
        for i in 0..<c.floodFlows {
            let isHeavy = i % heavyEvery == 0 && heavySent < c.heavyFlows
            let source = isHeavy ? heavy : 0x0A00_0000 &+ UInt32(i)  // 10.0.0.0/8: one address per flow
            if isHeavy { heavySent += 1 }
            let server = ourServers[i % ourServers.count]
            let sport = isHeavy ? UInt16(20_000 + heavySent) : UInt16(1024 + (i &* 7919) % 60_000)
            events.append((at(i, of: c.floodFlows),
                           [TCPFrame(src: source, dst: server, sport: sport, dport: 571, flags: TCPFlag8.syn, seq: 0, ack: 0)]))
            sources.insert(source)
            destinations.insert(server)
            truth.flood.packets += 1
            truth.flood.bytes += 54
        }
        truth.flood.flows = c.floodFlows
        truth.flood.sources = sources.count
        truth.flood.destinations = destinations.count
        truth.heavySource = dotted(heavy)
        truth.heavyFlows = heavySent

        let victim: UInt32 = 0xC633_6407  // 198.51.100.7
        for i in 0..<c.backscatterFlows {
            let remote = 0xAC10_0000 &+ UInt32(i)  // 172.16.0.0/12
            let dport = UInt16(33_000 + i % 30_000)
            var frames = [TCPFrame(src: remote, dst: victim, sport: 571, dport: dport, flags: TCPFlag8.syn | TCPFlag8.ack,
                                   seq: 7, ack: 100)]
            if i % 3 == 0 { frames.append(TCPFrame(src: victim, dst: remote, sport: dport, dport: 571, flags: TCPFlag8.rst, seq: 100, ack: 0)) }
            events.append((at(i, of: c.backscatterFlows) + 250, frames))
            truth.backscatter.packets += frames.count
            truth.backscatter.bytes += 54 * frames.count
        }
        truth.backscatter.flows = c.backscatterFlows
        truth.backscatter.sources = c.backscatterFlows
        truth.backscatter.destinations = c.backscatterFlows > 0 ? 1 : 0

        for i in 0..<c.answered {
            let client = 0xC000_0200 | UInt32(1 + i)  // 192.0.2.x
            let server = ourServers[(i * 7) % ourServers.count]
            let sport = UInt16(45_000 + i)
            let syn = TCPFrame(src: client, dst: server, sport: sport, dport: 571, flags: TCPFlag8.syn, seq: 0, ack: 0)
            let synAck = TCPFrame(src: server, dst: client, sport: 571, dport: sport, flags: TCPFlag8.syn | TCPFlag8.ack, seq: 0, ack: 1)
            let ack = TCPFrame(src: client, dst: server, sport: sport, dport: 571, flags: TCPFlag8.ack, seq: 1, ack: 1)
            let ask = TCPFrame(src: client, dst: server, sport: sport, dport: 571, flags: TCPFlag8.psh | TCPFlag8.ack, seq: 1, ack: 1, payload: 12)
            let reply = TCPFrame(src: server, dst: client, sport: 571, dport: sport, flags: TCPFlag8.psh | TCPFlag8.ack, seq: 1, ack: 13, payload: 40)
            let fin = TCPFrame(src: client, dst: server, sport: sport, dport: 571, flags: TCPFlag8.fin | TCPFlag8.ack, seq: 13, ack: 41)
            let finAck = TCPFrame(src: server, dst: client, sport: 571, dport: sport, flags: TCPFlag8.fin | TCPFlag8.ack, seq: 41, ack: 14)
            events.append((at(2 * i + 1, of: 2 * c.answered + 1) + 500, [syn, synAck, ack, ask, reply, fin, finAck]))
            truth.answered.append(Truth.Needle(client: dotted(client), clientPort: sport, server: dotted(server)))
        }
        for i in 0..<c.rejected {
            let client = 0xC000_0280 | UInt32(1 + i)  // 192.0.2.128+
            let server = ourServers[(i * 11 + 3) % ourServers.count]
            let sport = UInt16(46_000 + i)
            let syn = TCPFrame(src: client, dst: server, sport: sport, dport: 571, flags: TCPFlag8.syn, seq: 0, ack: 0)
            let rst = TCPFrame(src: server, dst: client, sport: 571, dport: sport, flags: TCPFlag8.rst | TCPFlag8.ack, seq: 0, ack: 1)
            events.append((at(2 * i + 1, of: 2 * c.rejected + 1) + 750, [syn, rst]))
            truth.rejected.append(Truth.Needle(client: dotted(client), clientPort: sport, server: dotted(server)))
        }
        let scanner: UInt32 = 0xC633_64C8  // 198.51.100.200
        let scanned: [UInt16] = [3, 87, 95, 104, 519, 2]
        for (i, port) in scanned.enumerated() {
            events.append((start + span / 2 + Int64(i) * 100_000 + 900,
                           [TCPFrame(src: scanner, dst: ourServers[0], sport: 50_000, dport: port, flags: TCPFlag8.syn, seq: 0, ack: 0)]))
        }
        truth.scanner = dotted(scanner)
        truth.scannedPorts = scanned

        // Frames of one event go 1 ms apart; events are merged in time order (stable).
        var packets: [(time: Int64, order: Int, frame: TCPFrame)] = []
        for event in events {
            for (j, frame) in event.frames.enumerated() { packets.append((event.time + Int64(j) * 1_000, packets.count, frame)) }
        }
        packets.sort { ($0.time, $0.order) < ($1.time, $1.order) }
        for packet in packets { emit(packet.frame.bytes(), packet.time) }
        truth.packets = packets.count
        return truth
    }
}

/// An IPv4 address as text.
private func dotted(_ value: UInt32) -> String {
    "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
}
