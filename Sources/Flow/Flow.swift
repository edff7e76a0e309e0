import Wire

/// TCP flag bits as they sit in `DecodedPacket.tcpFlags`.
public enum TCPFlag {
    public static let fin: UInt16 = 0x01
    public static let syn: UInt16 = 0x02
    public static let rst: UInt16 = 0x04
    public static let psh: UInt16 = 0x08
    public static let ack: UInt16 = 0x10
    public static let urg: UInt16 = 0x20
}

/// Where a TCP conversation is, from what a passive observer sees.
public enum TCPState: UInt8, Sendable, Comparable {
    /// Nothing, or only packets that did not open a handshake (midstream: never established).
    case none
    /// The client's SYN.
    case synSent
    /// The server's SYN-ACK after the client's SYN.
    case synReceived
    /// The client's ACK after the SYN-ACK: the 3-way handshake is complete.
    case established
    /// A FIN from one side.
    case closing
    /// FIN from both sides, or a RST from either: the flow has ended.
    case closed

    public static func < (a: TCPState, b: TCPState) -> Bool { a.rawValue < b.rawValue }

    /// The name Suricata's EVE `flow` event uses (static text: records append it without a
    /// reference count).
    public var name: StaticString {
        switch self {
        case .none: "none"
        case .synSent: "syn_sent"
        case .synReceived: "syn_recv"
        case .established: "established"
        case .closing: "closing"
        case .closed: "closed"
        }
    }
}

/// One flow, stored inline in the table: no heap, one fixed-size value (see `FlowTable.bytesPerFlow`).
///
/// The client is the side that sent the first packet the sensor saw. `established` is what the
/// `flow:established` keyword tests: for TCP the 3-way handshake was seen (and it stays set while
/// the flow closes, as in Suricata, where states past ESTABLISHED still count); for UDP and
/// other protocols both directions have been seen.
public struct Flow: Sendable {
    public internal(set) var key: FlowKey
    /// Nanoseconds since the epoch, from packet timestamps.
    public internal(set) var start: Int64
    public internal(set) var last: Int64
    /// Table clock when the flow was last put at the front of its timeout list.
    var linkedAt: Int64 = 0
    public internal(set) var packetsToServer: UInt64 = 0
    public internal(set) var packetsToClient: UInt64 = 0
    public internal(set) var bytesToServer: UInt64 = 0
    public internal(set) var bytesToClient: UInt64 = 0

    // The detection engine's area: the table never reads it.
    public var flags: UInt32 = 0
    public var watchedPort: UInt16 = 0
    public var verdict: UInt8 = 0

    public internal(set) var tcpState = TCPState.none
    /// The low 8 TCP flag bits seen in each direction, OR-ed (EVE's `tcp_flags_ts`/`tcp_flags_tc`).
    public internal(set) var tcpFlagsToServer: UInt8 = 0
    public internal(set) var tcpFlagsToClient: UInt8 = 0
    /// True when the client is the key's endpoint A.
    public internal(set) var clientIsA: Bool
    public internal(set) var established = false
    public internal(set) var finFromClient = false
    public internal(set) var finFromServer = false
    public internal(set) var rstSeen = false
    /// Each side sent one of the flow's own packets (not merely a related one, see `countRelated`).
    public internal(set) var spokeToServer = false
    public internal(set) var spokeToClient = false
    /// The timeout list the flow is on (it fits in padding before `alerted`).
    var listedClass: UInt8 = 0
    /// Which input its first packet came from (`read`'s files, for `pcap_filename`); in padding too.
    public var source: UInt16 = 0

    public var alerted = AlertedSids()

    /// A new flow whose first packet was sent by `clientIsA ? A : B`.
    public init(key: FlowKey, clientIsA: Bool, timestamp: Int64) {
        self.key = key
        self.clientIsA = clientIsA
        self.start = timestamp
        self.last = timestamp
    }

    /// Makes the receiver of the flow's first packet its client: for a first packet that came
    /// from a server (a SYN-ACK or data from a listening port whose client's packets were not
    /// seen). Only before the first `update`.
    public mutating func reverseDirection() {
        precondition(packetsToServer == 0 && packetsToClient == 0, "a flow's direction is set before its first packet")
        clientIsA.toggle()
    }

    /// Whether a packet in the key's canonical direction (A → B) goes to the server.
    @inline(__always)
    public func isToServer(isCanonical: Bool) -> Bool { isCanonical == clientIsA }

    public var client: (address: IPAddress, port: UInt16) {
        clientIsA ? (key.addressA, key.portA) : (key.addressB, key.portB)
    }

    public var server: (address: IPAddress, port: UInt16) {
        clientIsA ? (key.addressB, key.portB) : (key.addressA, key.portA)
    }

    /// FIN both ways or a RST: the flow expires on the short closed timeout.
    public var isClosed: Bool { tcpState == .closed }

    /// Counts a packet and moves the state on. `length` is whatever the caller counts as the
    /// packet's bytes (EVE counts the captured frame). Timestamps that go backwards (reordered
    /// captures) never move `last` back.
    @inline(__always)
    public mutating func update(with packet: borrowing DecodedPacket, toServer: Bool, timestamp: Int64, length: Int) {
        countRelated(toServer: toServer, timestamp: timestamp, length: length)
        if toServer { spokeToServer = true } else { spokeToClient = true }
        if packet.hasTCPFlags {
            updateTCP(flags: packet.tcpFlags, toServer: toServer)
        } else if key.proto != IPProtocol.tcp, !established, spokeToServer, spokeToClient {
            established = true
        }
    }

    /// Counts a packet that belongs with the flow without being one of its own, such as an ICMP
    /// error about it: packets and bytes go to the counters, the state does not move (a refusal
    /// must not make a UDP flow look established).
    @inline(__always)
    public mutating func countRelated(toServer: Bool, timestamp: Int64, length: Int) {
        if timestamp > last { last = timestamp }
        let bytes = UInt64(max(0, length))
        if toServer {
            packetsToServer &+= 1
            bytesToServer &+= bytes
        } else {
            packetsToClient &+= 1
            bytesToClient &+= bytes
        }
    }

    /// The TCP state machine: handshake in order, FIN per side, RST ends the flow at once.
    ///
    /// A sensor may see one side only (asymmetric routing), or miss a packet. As Suricata does
    /// with `async-oneside`, the handshake counts as complete from either side alone: after the
    /// client's SYN, its ACK (it acknowledges a SYN-ACK the sensor missed); after the server's
    /// SYN-ACK, the server's own ACK or data (a server sends nothing past its SYN-ACK until the
    /// handshake completes). A SYN-ACK with no SYN before it starts the handshake half-way.
    @inline(__always)
    public mutating func updateTCP(flags: UInt16, toServer: Bool) {
        let low = UInt8(truncatingIfNeeded: flags)
        if toServer { tcpFlagsToServer |= low } else { tcpFlagsToClient |= low }
        guard tcpState != .closed else { return }
        if flags & TCPFlag.rst != 0 {
            rstSeen = true
            tcpState = .closed
            return
        }
        let syn = flags & TCPFlag.syn != 0
        let ack = flags & TCPFlag.ack != 0
        switch tcpState {
        case .none:
            if syn && !ack && toServer {
                tcpState = .synSent
            } else if syn && ack && !toServer {
                tcpState = .synReceived
            }
        case .synSent:
            if syn && ack && !toServer {
                tcpState = .synReceived
            } else if ack && !syn && toServer {
                tcpState = .established
                established = true
            }
        case .synReceived:
            if ack && !syn {
                tcpState = .established
                established = true
            }
        default:
            break
        }
        if flags & TCPFlag.fin != 0 {
            if toServer { finFromClient = true } else { finFromServer = true }
            if finFromClient && finFromServer {
                tcpState = .closed
            } else if tcpState < .closing {
                tcpState = .closing
            }
        }
    }

    /// Which of the table's timeout lists the flow belongs on.
    @inline(__always)
    var timeoutClass: Int {
        FlowTimeouts.classIndex(proto: key.proto, established: established, closed: tcpState == .closed)
    }
}

/// Idle timeouts per protocol and state, in seconds of packet time.
public struct FlowTimeouts: Sendable, Equatable {
    public struct PerProtocol: Sendable, Equatable {
        public var new: Int64
        public var established: Int64
        public var closed: Int64

        public init(new: Int64, established: Int64, closed: Int64) {
            self.new = new
            self.established = established
            self.closed = closed
        }
    }

    public var tcp: PerProtocol
    public var udp: PerProtocol
    public var icmp: PerProtocol
    public var other: PerProtocol

    public init(tcp: PerProtocol, udp: PerProtocol, icmp: PerProtocol, other: PerProtocol) {
        self.tcp = tcp
        self.udp = udp
        self.icmp = icmp
        self.other = other
    }

    /// The longest of the timeouts, in seconds: no flow outlives that much silence.
    public var longest: Int64 {
        [tcp, udp, icmp, other].map { max($0.new, $0.established, $0.closed) }.max()!
    }

    /// Suricata's built-in defaults (flow-private.h): new 30 s, established 300 s; closed 10 s
    /// for TCP (long enough for the last ACK and retransmitted FINs), 0 elsewhere.
    public static let suricata = FlowTimeouts(
        tcp: PerProtocol(new: 30, established: 300, closed: 10),
        udp: PerProtocol(new: 30, established: 300, closed: 0),
        icmp: PerProtocol(new: 30, established: 300, closed: 0),
        other: PerProtocol(new: 30, established: 300, closed: 0))

    static let classCount = 12

    /// Protocol group (TCP, UDP, ICMP/ICMPv6, other) × state (new, established, closed).
    @inline(__always)
    static func classIndex(proto: UInt8, established: Bool, closed: Bool) -> Int {
        let group: Int
        switch proto {
        case IPProtocol.tcp: group = 0
        case IPProtocol.udp: group = 1
        case IPProtocol.icmp, IPProtocol.icmpv6: group = 2
        default: group = 3
        }
        return group * 3 + (closed ? 2 : established ? 1 : 0)
    }

    /// The timeout of each class, in nanoseconds.
    func nanosecondsByClass() -> [Int64] {
        var result: [Int64] = []
        for p in [tcp, udp, icmp, other] {
            for seconds in [p.new, p.established, p.closed] {
                result.append(seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow ? .max : seconds * 1_000_000_000)
            }
        }
        return result
    }
}
