import Detect
import Output
import Ring
import Rules
import TrafficGen
import Wire

#if canImport(Glibc)
import Glibc
#endif

// MARK: the engine's per-packet path, as OfflinePipeline drives it

/// One reader thread's and one detection thread's work, run on one thread: decode and
/// prefilter, the ring, then `Engine.process`, with the clock ticks OfflinePipeline sends for
/// turned-away packets.
final class PacketPath {
    let engine: Engine
    var prefilter: Prefilter
    var producer: PacketProducer
    var consumer: PacketConsumer
    private var lastSent: Int64 = 0
    private var sequence: UInt64 = 0
    private(set) var admitted = 0

    init(rules: String, outputFD: Int32) {
        let (ruleSet, errors) = RuleLoader.load(text: rules)
        precondition(errors.isEmpty, "\(errors.first!)")
        var configuration = EngineConfiguration()
        configuration.flowHashSeed = 0x6768_6F73_7470_6F72
        engine = Engine(rules: ruleSet, configuration: configuration, records: EVERecords(output: EVEOutput(fd: outputFD)))
        engine.sourceNames = ["bench.pcap"]
        prefilter = engine.makePrefilter()
        let ends = PacketRing.make(capacity: 2048, slotSize: 2048)
        producer = ends.producer
        consumer = ends.consumer
    }

    /// One packet, `timestamp` in nanoseconds.
    @inline(__always)
    func process(_ bytes: UnsafeRawBufferPointer, timestamp: Int64) {
        sequence &+= 1
        let seconds = timestamp / 1_000_000_000, nanoseconds = UInt32(timestamp % 1_000_000_000)
        if prefilter.admits(bytes, linkType: .ethernet, originalLength: bytes.count) {
            lastSent = timestamp
            admitted &+= 1
            producer.push(header: SlotHeader(
                timestampSeconds: seconds, timestampNanoseconds: nanoseconds,
                originalLength: UInt32(bytes.count), capturedLength: UInt32(bytes.count), storedLength: 0,
                linkType: LinkType.ethernet.rawValue, sourceIndex: 0, sequence: sequence), bytes: bytes)
        } else if timestamp &- lastSent >= 1_000_000_000 {
            lastSent = timestamp
            producer.push(header: SlotHeader(
                timestampSeconds: seconds, timestampNanoseconds: nanoseconds, originalLength: 0, capturedLength: 0,
                storedLength: 0, linkType: -1, sourceIndex: 0, sequence: sequence),
                bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        } else {
            return
        }
        producer.flush()
        let engine = self.engine
        consumer.pop { header, bytes in
            let timestamp = header.timestamp
            if header.linkType == -1 {
                engine.advanceClock(to: timestamp)
                return
            }
            engine.process(bytes, linkType: LinkType(rawValue: header.linkType), capturedLength: Int(header.capturedLength),
                           timestamp: timestamp, originalLength: Int(header.originalLength),
                           origin: PacketOrigin(count: header.sequence, source: Int(header.sourceIndex)))
        }
    }

    /// Runs `frames` in order, `count` packets, wrapping around; returns the next timestamp.
    func run(_ frames: FrameBuffer, count: Int, from start: Int64, step: Int64) -> Int64 {
        var timestamp = start
        var index = 0
        for _ in 0..<count {
            process(frames.frames[index], timestamp: timestamp)
            timestamp &+= step
            index = index == frames.frames.count - 1 ? 0 : index + 1
        }
        return timestamp
    }
}

/// The allocation check's rules: 99 in the shipped style and one on 571.
let allocRules = generatedRules(count: 100)

/// Client `i`'s address, one per flow (IPv4 or, every tenth flow, IPv6).
func clientAddress(_ i: Int, ipv6: Bool) -> String {
    ipv6 ? "2001:db8:ff::\(String(i >> 16, radix: 16)):\(String(i & 0xFFFF, radix: 16))"
        : "100.\(64 + i >> 16 & 63).\(i >> 8 & 255).\(i & 255)"
}

func serverAddress(_ i: Int, ipv6: Bool) -> String {
    ipv6 ? "2001:db8::\(String(i % 50 + 1, radix: 16))" : "192.168.\(i % 4).\(1 + i % 50)"
}

/// A TCP packet of flow `i` to or from 571/tcp: every tenth flow IPv6, every tenth (other) one VLAN-tagged.
func watchedFlowFrame(_ i: Int, toServer: Bool, flags: TCPFlags, payload: Int) -> [UInt8] {
    let ipv6 = i % 10 == 3
    let client = clientAddress(i, ipv6: ipv6), server = serverAddress(i, ipv6: ipv6)
    let sport = UInt16(20_000 + i % 40_000)
    let segment = Segment.tcp(sport: toServer ? sport : 571, dport: toServer ? 571 : sport, flags: flags,
                              seq: toServer ? 1 : 5000, ack: toServer ? 5001 : 2,
                              payload: [UInt8](repeating: 0x17, count: payload))
    let network: Network = ipv6
        ? .ipv6(src: toServer ? client : server, dst: toServer ? server : client, segment)
        : .ipv4(src: toServer ? client : server, dst: toServer ? server : client, segment)
    return Packet.ethernet(vlans: i % 10 == 5 ? [VLANTag(id: 42)] : [], network)
}

/// Traffic no rule names: HTTPS and DNS, which the prefilter turns away.
func unwatchedFrame(_ i: Int) -> [UInt8] {
    let segment: Segment = i % 2 == 0
        ? .tcp(sport: UInt16(30_000 + i), dport: 443, flags: [.ack, .psh], payload: [UInt8](repeating: 0x17, count: 200))
        : .udp(sport: UInt16(30_000 + i), dport: 53, payload: [UInt8](repeating: 0x17, count: 40))
    return Packet.ethernet(.ipv4(src: clientAddress(i, ipv6: false), dst: "203.0.113.\(1 + i % 200)", segment))
}

let benchEpoch: Int64 = 1_750_000_000 * 1_000_000_000

/// Counts the mallocs of decode → prefilter → ring → engine (flow lookup, match) for `packets`
/// packets that do not alert, after a warm-up on the same flows; then for packets that alert.
/// Prints one line per region; exit status 1 when the non-alerting path allocated.
func checkAllocations(packets: Int) -> Int32 {
    print(Mallocs.statusLine)
    guard Mallocs.isActive else {
        print("allocs: interposer inactive: nothing measured")
        return 0
    }
    let flows = 1000
    let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
    defer { close(devNull) }
    let path = PacketPath(rules: allocRules, outputFD: devNull)

    // Handshakes (the SYN alerts), then data both ways and traffic the prefilter turns away.
    var handshake: [[UInt8]] = []
    for i in 0..<flows {
        handshake.append(watchedFlowFrame(i, toServer: true, flags: .syn, payload: 0))
        handshake.append(watchedFlowFrame(i, toServer: false, flags: .synAck, payload: 0))
        handshake.append(watchedFlowFrame(i, toServer: true, flags: .ack, payload: 0))
    }
    var quiet: [[UInt8]] = []
    for i in 0..<flows {
        quiet.append(watchedFlowFrame(i, toServer: true, flags: [.ack, .psh], payload: 100 + i % 400))
        quiet.append(watchedFlowFrame(i, toServer: false, flags: [.ack, .psh], payload: 300 + i % 900))
        quiet.append(watchedFlowFrame(i, toServer: true, flags: .ack, payload: 0))
        if i % 3 == 0 { quiet.append(unwatchedFrame(i)) }
    }
    // New flows' SYNs (each alerts) and, after them, the same SYNs again (a repeat: matched, no record).
    let alerting = (flows..<(2 * flows)).map { watchedFlowFrame($0, toServer: true, flags: .syn, payload: 0) }
    let handshakeFrames = FrameBuffer(handshake), quietFrames = FrameBuffer(quiet), alertingFrames = FrameBuffer(alerting)
    defer {
        handshakeFrames.deallocate()
        quietFrames.deallocate()
        alertingFrames.deallocate()
    }

    // 100 us apart: 100,000 packets span 10 s of packet time, so expiry runs ten times.
    let step: Int64 = 100_000
    var time = path.run(handshakeFrames, count: handshake.count, from: benchEpoch, step: step)
    time = path.run(quietFrames, count: 3 * quiet.count, from: time, step: step)
    let alertsBefore = path.engine.stats.alerts
    let admittedBefore = path.admitted

    var elapsed = 0.0
    let quietCount = Mallocs.count {
        elapsed = measure { time = path.run(quietFrames, count: packets, from: time, step: step) }
    }
    let admitted = path.admitted - admittedBefore
    let newAlerts = path.engine.stats.alerts - alertsBefore
    print("allocs: non-alerting packets \(packets) (\(admitted) through the ring to the engine, \(packets - admitted) turned away): "
          + "mallocs \(quietCount.mallocs), bytes \(quietCount.bytes), frees \(quietCount.frees), alerts \(newAlerts); "
          + "\(format(elapsed * 1e9 / Double(packets))) ns/packet with counting on")

    let alertsBeforeSyn = path.engine.stats.alerts
    if CommandLine.arguments.contains("--trace") { Mallocs.traceNext(20) }
    let alertCount = Mallocs.count { time = path.run(alertingFrames, count: alerting.count, from: time, step: step) }
    let alerts = path.engine.stats.alerts - alertsBeforeSyn
    print("allocs: alerting packets \(alerting.count) (new flows' SYNs to 571/tcp, \(alerts) alerts): mallocs \(alertCount.mallocs), "
          + "\(perOperation(alertCount.mallocs, max(1, Int(alerts)))) per alert, bytes \(alertCount.bytes)")

    let repeatsBefore = path.engine.stats.repeats
    let repeatCount = Mallocs.count { time = path.run(alertingFrames, count: alerting.count, from: time, step: step) }
    let repeats = path.engine.stats.repeats - repeatsBefore
    print("allocs: repeat-match packets \(alerting.count) (the same SYNs again: \(repeats) matches, no record): "
          + "mallocs \(repeatCount.mallocs), \(perOperation(repeatCount.mallocs, alerting.count)) per packet")
    blackHole(Int(time))
    return quietCount.mallocs == 0 ? 0 : 1
}

// MARK: json

/// The alerting path per alert: new flows' SYNs to a watched port, each writing an EVE alert
/// record, against the same SYNs under a rule that watches the port but never matches them.
func benchJSON() {
    let alerts = option("--alerts", 200_000)
    print("json: \(alerts) SYNs, each a new flow to 571/tcp, through prefilter, ring and engine; best of 3")
    let frames = FrameBuffer((0..<alerts).map { watchedFlowFrame($0, toServer: true, flags: .syn, payload: 0) })
    defer { frames.deallocate() }
    let widths = [38, 11, 9, 16, 13]
    row(["rules", "ns/packet", "alerts", "mallocs/packet", "bytes/record"], widths)
    var perPacket: [Double] = []
    for (name, rules) in [("probe rule on 571 (each SYN alerts)", allocRules),
                          ("rule on 571 that never matches", generatedRules(count: 100, flags571: "F"))] {
        var time = Double.infinity
        var mallocs = Mallocs.Count(mallocs: 0, bytes: 0, frees: 0)
        var written: UInt64 = 0, bytes = 0
        for round in 0..<4 {
            let file = "/tmp/ghostport-bench-json-\(getpid())"
            let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            precondition(fd >= 0, "cannot open \(file)")
            unlink(file)
            let path = PacketPath(rules: rules, outputFD: fd)
            let body = { _ = path.run(frames, count: alerts, from: benchEpoch, step: 10_000) }
            if round == 3 {
                mallocs = Mallocs.count(body)
            } else {
                time = min(time, measure(body))
            }
            path.engine.flushOutput()
            written = path.engine.stats.alerts
            var info = stat()
            fstat(fd, &info)
            bytes = Int(info.st_size)
            close(fd)
        }
        perPacket.append(time * 1e9 / Double(alerts))
        row([name, format(perPacket.last!), "\(written)", perOperation(mallocs.mallocs, alerts),
             written > 0 ? "\(bytes / Int(written))" : "-"], widths)
    }
    let record = perPacket[0] - perPacket[1]
    print("alert record (the difference): \(format(record)) ns each, \(format(1e3 / record, 2)) M records/s")
}
