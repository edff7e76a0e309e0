import Wire

/// Which ports received probes and which answered, over a stretch of traffic: the ground for
/// `ghostport baseline suggest`, which proposes watching ports outside the registry that were
/// probed here and never answered (this network's own dead ports).
///
/// Judged per packet, without flows: a TCP segment with SYN and no ACK probes its destination
/// port; one with ACK and no RST answers from its source port (a SYN-ACK, data, a FIN: only a
/// socket sends them). A UDP datagram between two ports goes from the higher (a client's
/// ephemeral port) to the lower (the service's): it probes the lower when that is its
/// destination, answers from it when that is its source. Distinct sources are counted exactly
/// up to `maxSourcesPerPort` a port.
public struct ProbeSurvey {
    public static let maxSourcesPerPort = 10_000

    /// A port that was probed: by how many packets and distinct sources, and whether it answered.
    public struct Port: Sendable, Equatable {
        public var port: UInt16
        /// 6 TCP, 17 UDP.
        public var proto: UInt8
        public var probes: UInt64
        public var sources: Int
        public var answered: Bool
    }

    /// Index: TCP ports then UDP ports.
    private var probes = [UInt64](repeating: 0, count: 2 * 65_536)
    private var answered = [Bool](repeating: false, count: 2 * 65_536)
    private var sources: [Int: Set<IPAddress>] = [:]
    public private(set) var packets: UInt64 = 0

    public init() {}

    public mutating func observe(_ packet: DecodedPacket) {
        packets &+= 1
        guard packet.hasIP, packet.hasPorts else { return }
        switch packet.proto {
        case 6:
            guard packet.hasTCPFlags else { return }
            let flags = packet.tcpFlags
            if flags & 0x02 != 0 && flags & 0x10 == 0 {
                probe(Int(packet.dport), from: packet.src)
            } else if flags & 0x10 != 0 && flags & 0x04 == 0 {
                answered[Int(packet.sport)] = true
            }
        case 17:
            if packet.dport < packet.sport {
                probe(65_536 + Int(packet.dport), from: packet.src)
            } else if packet.sport < packet.dport {
                answered[65_536 + Int(packet.sport)] = true
            }
        default:
            return
        }
    }

    private mutating func probe(_ index: Int, from source: IPAddress) {
        probes[index] &+= 1
        if sources[index, default: []].count < Self.maxSourcesPerPort { sources[index, default: []].insert(source) }
    }

    /// Every port probed, most distinct sources first (then most probes, then lowest port).
    public var ports: [Port] {
        sources.keys.map { index in
            Port(port: UInt16(index % 65_536), proto: index < 65_536 ? 6 : 17, probes: probes[index],
                 sources: sources[index]?.count ?? 0, answered: answered[index])
        }.sorted { ($1.sources, $1.probes, $0.proto, $0.port) < ($0.sources, $0.probes, $1.proto, $1.port) }
    }
}
