// Captures and rules for the benchmarks (compare.sh): many concurrent flows, and a flood of
// distinct flows, millions of packets written as they are made.
#if canImport(Glibc)
import Glibc
#endif

/// Classic pcap, Ethernet, microseconds, written in large blocks.
public struct PcapStream: ~Copyable {
    private let fd: Int32
    private var buffer: [UInt8] = []
    public private(set) var failed = false
    public private(set) var packets = 0

    public init?(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        buffer.reserveCapacity(1 << 21)
        for value: UInt32 in [0xA1B2_C3D4] { appendLE(value) }
        appendLE(UInt16(2))
        appendLE(UInt16(4))
        for value: UInt32 in [0, 0, 262_144, 1] { appendLE(value) }
    }

    private mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// One record: `frame` at `microseconds` since the epoch.
    public mutating func write(_ frame: [UInt8], microseconds: Int64) {
        appendLE(UInt32(microseconds / 1_000_000))
        appendLE(UInt32(microseconds % 1_000_000))
        appendLE(UInt32(frame.count))
        appendLE(UInt32(frame.count))
        buffer.append(contentsOf: frame)
        packets += 1
        if buffer.count >= 1 << 20 { flush() }
    }

    public mutating func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 {
                failed = true
                break
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    public consuming func close() -> Bool {
        flush()
        return Glibc.close(fd) == 0 && !failed
    }
}

/// Ethernet + IPv4 + TCP with correct checksums, built without intermediate arrays.
public struct TCPFrame {
    public var src: UInt32
    public var dst: UInt32
    public var sport: UInt16
    public var dport: UInt16
    public var flags: UInt8
    public var seq: UInt32 = 1
    public var ack: UInt32 = 1
    public var payload = 0

    public init(src: UInt32, dst: UInt32, sport: UInt16, dport: UInt16, flags: UInt8, seq: UInt32 = 1, ack: UInt32 = 1, payload: Int = 0) {
        self.src = src
        self.dst = dst
        self.sport = sport
        self.dport = dport
        self.flags = flags
        self.seq = seq
        self.ack = ack
        self.payload = payload
    }

    public func bytes() -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: 54 + payload)
        frame.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            // Ethernet: locally administered MACs, IPv4.
            for (i, byte) in [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00].enumerated() { raw[i] = UInt8(byte) }
            func put16(_ value: UInt16, _ offset: Int) { (base + offset).storeBytes(of: value.bigEndian, as: UInt16.self) }
            func put32(_ value: UInt32, _ offset: Int) { (base + offset).storeBytes(of: value.bigEndian, as: UInt32.self) }
            // IPv4 header at 14.
            raw[14] = 0x45
            put16(UInt16(40 + payload), 16)
            put16(UInt16(truncatingIfNeeded: seq), 18)
            raw[22] = 64
            raw[23] = 6
            put32(src, 26)
            put32(dst, 30)
            put16(~fold(sum(raw, 14, 20)), 24)
            // TCP header at 34.
            put16(sport, 34)
            put16(dport, 36)
            put32(seq, 38)
            put32(ack, 42)
            raw[46] = 0x50
            raw[47] = flags
            put16(65_535, 48)
            for i in 0..<payload { raw[54 + i] = 0x17 }
            let pseudo = UInt32(src >> 16) + UInt32(src & 0xFFFF) + UInt32(dst >> 16) + UInt32(dst & 0xFFFF) + 6 + UInt32(20 + payload)
            put16(~fold(sum(raw, 34, 20 + payload) + pseudo), 50)
        }
        return frame
    }

    private func sum(_ raw: UnsafeMutableRawBufferPointer, _ start: Int, _ count: Int) -> UInt32 {
        var total: UInt32 = 0
        var i = start
        while i + 1 < start + count {
            total += UInt32(raw[i]) << 8 | UInt32(raw[i + 1])
            i += 2
        }
        if i < start + count { total += UInt32(raw[i]) << 8 }
        return total
    }

    private func fold(_ value: UInt32) -> UInt16 {
        var v = value
        while v >> 16 != 0 { v = (v & 0xFFFF) + (v >> 16) }
        return UInt16(v)
    }
}

public enum TCPFlag8 {
    public static let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, psh: UInt8 = 0x08, ack: UInt8 = 0x10
}

public func writeFile(_ path: String, _ bytes: [UInt8]) -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        print("\(path): \(String(cString: strerror(errno)))")
        return 1
    }
    defer { close(fd) }
    return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count ? 0 : 1
}

/// Client `i`: 100.64.0.0/10 (shared address space), so a million stay distinct.
public func clientIPv4(_ i: Int) -> UInt32 { 0x6440_0000 &+ UInt32(i & 0x3F_FFFF) }

/// `flows` TCP flows, all open from their first packet to the end of the capture, to the ports
/// of `gen-rules` (10,000 rules: 9,999 ports). Packets go round-robin over the flows: data from
/// the client (0-1400 bytes, about 300 on average) and pure ACKs from the server, 40 s of packet
/// time in all, far inside the 300 s established timeout. With `syn` each flow starts with a
/// handshake, whose SYN alerts once per flow; otherwise flows are picked up mid-stream.
public func generateConcurrentFlows(path: String, flows: Int, packets: Int, syn: Bool, rules: Int = 10_000) -> Int32 {
    guard var writer = PcapStream(path: path) else {
        print("\(path): \(String(cString: strerror(errno)))")
        return 1
    }
    let span: Int64 = 40_000_000  // microseconds
    let start: Int64 = 1_750_000_000 * 1_000_000
    let payloads = [0, 40, 200, 536, 1400, 120, 0, 300]
    var written = 0
    func time() -> Int64 { start + span * Int64(written) / Int64(packets) }
    func flow(_ i: Int) -> (client: UInt32, server: UInt32, sport: UInt16, dport: UInt16) {
        (clientIPv4(i), 0xC0A8_0000 | UInt32(i % 65_000 + 1), UInt16(1024 + (i &* 7919) % 60_000), rulePort(i % (rules - 1)))
    }
    if syn {
        for i in 0..<flows where written + 3 <= packets {
            let f = flow(i)
            for (fromClient, flags) in [(true, TCPFlag8.syn), (false, TCPFlag8.syn | TCPFlag8.ack), (true, TCPFlag8.ack)] {
                let frame = fromClient
                    ? TCPFrame(src: f.client, dst: f.server, sport: f.sport, dport: f.dport, flags: flags, seq: 0, ack: 0)
                    : TCPFrame(src: f.server, dst: f.client, sport: f.dport, dport: f.sport, flags: flags, seq: 0, ack: 1)
                writer.write(frame.bytes(), microseconds: time())
                written += 1
            }
        }
    }
    var round = 0
    while written < packets {
        for i in 0..<flows where written < packets {
            let f = flow(i)
            let fromClient = round % 2 == 0
            let frame = fromClient
                ? TCPFrame(src: f.client, dst: f.server, sport: f.sport, dport: f.dport, flags: TCPFlag8.psh | TCPFlag8.ack,
                           seq: UInt32(1 + round * 1000), ack: 1, payload: payloads[(i &+ round) % payloads.count])
                : TCPFrame(src: f.server, dst: f.client, sport: f.dport, dport: f.sport, flags: TCPFlag8.ack,
                           seq: 1, ack: UInt32(1 + round * 1000))
            writer.write(frame.bytes(), microseconds: time())
            written += 1
        }
        round += 1
    }
    let count = writer.packets
    guard writer.close() else {
        print("\(path): write failed")
        return 1
    }
    print("\(path): \(count) packets, \(flows) concurrent flows\(syn ? " with handshakes" : " picked up mid-stream")")
    return 0
}

/// `flows` distinct flows of one SYN each from distinct clients to 571/tcp on 250 servers,
/// within 10 s of packet time, so none times out before the capture ends.
public func generateFlood(path: String, flows: Int) -> Int32 {
    guard var writer = PcapStream(path: path) else {
        print("\(path): \(String(cString: strerror(errno)))")
        return 1
    }
    let start: Int64 = 1_750_000_000 * 1_000_000
    for i in 0..<flows {
        let frame = TCPFrame(src: clientIPv4(i), dst: 0xC0A8_6400 | UInt32(1 + i % 250),
                             sport: UInt16(1024 + (i &* 7919) % 60_000), dport: 571, flags: TCPFlag8.syn, seq: 0, ack: 0)
        writer.write(frame.bytes(), microseconds: start + 10_000_000 * Int64(i) / Int64(max(1, flows)))
    }
    let count = writer.packets
    guard writer.close() else {
        print("\(path): write failed")
        return 1
    }
    print("\(path): \(count) packets, \(flows) distinct flows (one SYN each to 571/tcp)")
    return 0
}

/// Destination port of generated rule `index`: from 1,000 up, skipping ports ending in 7,
/// which stay free for traffic no rule names.
public func rulePort(_ index: Int) -> UInt16 {
    // Nine of every ten ports are used: 0-6, 8, 9 of each ten.
    let tens = index / 9, digit = index % 9
    return UInt16(1000 + tens * 10 + (digit >= 7 ? digit + 1 : digit))
}

/// Rules in the shipped style, one per port (`rulePort`), the last one on 571 with `flags571`.
public func generatedRules(count: Int, flags571: String = "S,CE") -> String {
    var text = ""
    for i in 0..<max(0, count - 1) {
        text += "alert tcp any any -> any \(rulePort(i)) (msg:\"bench \(i)\"; flow:to_server; flags:S,CE; classtype:attempted-recon; sid:\(1_000_000 + i); rev:1;)\n"
    }
    text += "alert tcp any any -> any 571 (msg:\"571\"; flow:to_server; flags:\(flags571); sid:999; rev:1;)\n"
    return text
}
