import Detect
import Output
import Ring
import Rules
import Wire

#if canImport(Glibc)
import Glibc
#endif

// MARK: phases: where a `read` spends its time, one phase at a time, on one thread

/// The packets of a classic pcap file in memory, with the slot headers the reader would send
/// (flow hints included), so the engine's streaming phase can be timed without the reader.
struct LoadedCapture {
    var bytes: [UInt8]
    /// Per admitted packet: the slot header and where its bytes start in `bytes`.
    var headers: [SlotHeader] = []
    var offsets: [Int] = []

    /// Reads a little-endian, microsecond classic pcap (what gen-flows and genpcap.py write).
    static func read(_ path: String) -> LoadedCapture? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        fseek(file, 0, SEEK_END)
        let size = ftell(file)
        fseek(file, 0, SEEK_SET)
        var bytes = [UInt8](repeating: 0, count: size)
        guard bytes.withUnsafeMutableBytes({ fread($0.baseAddress, 1, size, file) }) == size, size >= 24 else { return nil }
        guard bytes[0] == 0xD4, bytes[1] == 0xC3, bytes[2] == 0xB2, bytes[3] == 0xA1 else { return nil }
        return LoadedCapture(bytes: bytes)
    }

    /// Runs `prefilter` over every packet, keeping the admitted ones' headers.
    mutating func admit(with prefilter: inout Prefilter) {
        headers.removeAll()
        offsets.removeAll()
        var at = 24
        var sequence: UInt64 = 0
        bytes.withUnsafeBytes { raw in
            while at + 16 <= raw.count {
                let seconds = Int64(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))
                let micros = raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self)
                let captured = Int(raw.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self))
                let original = raw.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self)
                let start = at + 16
                guard start + captured <= raw.count else { break }
                at = start + captured
                sequence &+= 1
                let frame = UnsafeRawBufferPointer(rebasing: raw[start..<start + captured])
                guard prefilter.admits(frame, linkType: .ethernet, originalLength: Int(original)) else { continue }
                headers.append(SlotHeader(
                    timestampSeconds: seconds, timestampNanoseconds: micros &* 1000, originalLength: original,
                    capturedLength: UInt32(captured), storedLength: UInt32(min(captured, OfflineSlot.size)),
                    linkType: LinkType.ethernet.rawValue, sourceIndex: 0, sequence: sequence, flowHint: prefilter.flowHint,
                    sourceHint: prefilter.sourceHint))
                offsets.append(start)
            }
        }
    }
}

/// What a ring slot holds of a packet offline (`OfflinePipeline.slotSize`; the bench does not
/// link the Sensor module).
enum OfflineSlot {
    static let size = 2048
}

/// `phases RULES CAPTURE [--rounds N] [--parallel-records N] [--first N]`: the three phases of
/// `read --output /dev/null`, each timed alone: loading and compiling the rules and building the engine; the engine's work on
/// every admitted packet (as the detection thread does it, prefetch hints included, without
/// the reader thread or the ring); and the shutdown (a record per flow; on two threads from
/// `--parallel-records` flows, as `RecordSettings.parallelFlowRecords`). Medians over rounds.
/// `--first N` also times the first N packets of the stream apart (where gen-flows' flows start).
func benchPhases(rulesPath: String, capturePath: String, rounds: Int, parallelRecords: Int, firstPackets: Int) -> Int32 {
    guard rounds >= 1 else {
        print("phases: --rounds must be at least 1")
        return 2
    }
    guard access(capturePath, R_OK) == 0 else {
        print("phases: \(capturePath): \(String(cString: strerror(errno)))")
        return 2
    }
    guard var capture = LoadedCapture.read(capturePath) else {
        print("phases: \(capturePath): not a little-endian microsecond pcap")
        return 2
    }
    let (_, ruleErrors) = RuleLoader.load(paths: [rulesPath])
    if let error = ruleErrors.first {
        print("phases: \(error)")
        return 2
    }
    let devNull = open("/dev/null", O_WRONLY)
    var setup: [Double] = [], stream: [Double] = [], finish: [Double] = [], first: [Double] = []
    var packets = 0
    for _ in 0..<rounds {
        var engine: Engine!
        setup.append(measure {
            let (ruleSet, _) = RuleLoader.load(paths: [rulesPath])
            var configuration = EngineConfiguration()
            configuration.flowHashSeed = 0x6768_6F73_7470_6F72
            var settings = RecordSettings()
            settings.parallelFlowRecords = parallelRecords
            engine = Engine(rules: ruleSet, configuration: configuration,
                            records: EVERecords(output: EVEOutput(fd: devNull), settings: settings))
        })
        var prefilter = engine.makePrefilter()
        capture.admit(with: &prefilter)
        packets = capture.headers.count
        let lookahead = Engine.lookahead
        stream.append(measure {
            capture.bytes.withUnsafeBytes { raw in
                capture.headers.withUnsafeBufferPointer { headers in
                    capture.offsets.withUnsafeBufferPointer { offsets in
                        let count = headers.count
                        let clock = ContinuousClock()
                        let start = clock.now
                        for i in 0..<count {
                            if firstPackets > 0 && i == firstPackets { first.append(seconds(clock.now - start)) }
                            let ahead = i + lookahead < count ? headers[i + lookahead] : nil
                            engine.prefetch(flow: ahead?.flowHint ?? 0, source: ahead?.sourceHint ?? 0)
                            let header = headers[i]
                            let offset = offsets[i]
                            engine.process(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + Int(header.storedLength)]),
                                           linkType: .ethernet, capturedLength: Int(header.capturedLength),
                                           timestamp: header.timestamp,
                                           originalLength: Int(header.originalLength),
                                           origin: PacketOrigin(count: header.sequence, source: 0))
                        }
                    }
                }
            }
        })
        finish.append(measure { engine.finish() })
        ProcessLifetime.leak(engine)
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    print("phases: \(rulesPath), \(capturePath): \(packets) packets to the engine, median of \(rounds) rounds")
    print(String(format: "  setup  %8.1f ms (best %.1f)  load and compile the rules, build the engine",
                 median(setup) * 1e3, setup.min()! * 1e3))
    print(String(format: "  stream %8.1f ms (best %.1f)  %.1f ns/packet: the engine alone, one thread",
                 median(stream) * 1e3, stream.min()! * 1e3, median(stream) * 1e9 / Double(max(1, packets))))
    if !first.isEmpty {
        print(String(format: "         %8.1f ms (best %.1f)  %.1f ns/packet: its first %d packets", median(first) * 1e3,
                     first.min()! * 1e3, median(first) * 1e9 / Double(firstPackets), firstPackets))
    }
    print(String(format: "  finish %8.1f ms (best %.1f)  flow records, stats", median(finish) * 1e3, finish.min()! * 1e3))
    return 0
}

/// Engines left for the process's exit, as `read` leaves its own: freeing a million flows' tables
/// one by one is not part of any phase.
enum ProcessLifetime {
    nonisolated(unsafe) static var kept: [AnyObject] = []
    static func leak(_ object: AnyObject) { kept.append(object) }
}
