import Baseline
import Capture
import Detect
import Foundation
import FuzzSupport
import Output
import Rules
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The input as a capture file: written to /dev/shm (OfflineCapture reads paths), opened, read to
/// its end, every record decoded. Checks: reading stops with an end reason, the progress offset
/// stays inside the file, and every record's decode keeps the decoder's promises (DecoderInvariants.swift).
/// Every output path that formats what was read runs too: `decode`'s CSV and JSON rows, and the
/// engine with a rule that alerts on every IP packet, anomaly records and per-packet alerts, so
/// alert, flow, anomaly and stats records are written; and a second engine watching ports 1-4096
/// with alert limits and a flood budget of one, so flows fold into flood and backscatter records
/// and their alerts are written, and with a listener baseline that learns for the capture's
/// first second, so answers alert as learning, known and new listeners. Every line must be one
/// JSON object.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPcap(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzDriver.bytes(data, size)
    let path = scratchPath
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fatalError("\(path): \(String(cString: strerror(errno)))") }
    var done = 0
    while done < input.count {
        let n = write(fd, input.baseAddress! + done, input.count - done)
        guard n > 0 else { fatalError("\(path): short write") }
        done += n
    }
    close(fd)
    defer { unlink(path) }

    let capture: OfflineCapture
    do {
        capture = try OfflineCapture(path: path)
    } catch {
        return 0  // not a capture, or a link type ghostport does not decode: reported, not a crash
    }
    invariant(capture.linkType.isSupported, "opened unsupported link type \(capture.linkType)")
    var packet = DecodedPacket()
    var records = 0
    var rows = OutputBuffer(fd: -1, flushThreshold: 1 << 30)
    let engine = Engine(rules: everyPacket, configuration: configuration, records: EVERecords(output: EVEOutput(fd: eveFD)))
    engine.sourceNames = [path]
    var floods: Engine?
    defer { ftruncate(eveFD, 0); lseek(eveFD, 0, SEEK_SET) }
    while let record = capture.next() {
        records += 1
        let time = DecodeRow.Time(seconds: record.seconds, nanoseconds: record.nanoseconds, originalLength: record.originalLength)
        invariant(record.bytes.count <= input.count, "a \(record.bytes.count)-byte record from a \(input.count)-byte file")
        let broken = DecoderInvariants.exactCopy(of: record.bytes) { frame in
            Decoder.decode(frame, linkType: capture.linkType, into: &packet)
            return DecoderInvariants.violations(packet, frame: frame, capturedLength: frame.count)
        }
        invariant(broken.isEmpty, "record \(records): " + broken.joined(separator: "; "))
        DecodeRow.csv(packet, frame: UInt64(records), time: time, into: &rows)
        DecodeRow.json(packet, frame: UInt64(records), time: time, file: path, into: &rows)
        engine.process(record.bytes, linkType: capture.linkType, timestamp: record.timestamp,
                       originalLength: record.originalLength, origin: PacketOrigin(count: UInt64(records), source: 0))
        if floods == nil {
            var configuration = floodConfiguration
            configuration.baseline = BaselinePolicy(known: .alert, learnUntil: record.timestamp &+ 1_000_000_000)
            floods = Engine(rules: lowPorts, configuration: configuration, records: EVERecords(output: EVEOutput(fd: eveFD)))
            floods?.baseline = ListenerBaseline(capacity: 64)
        }
        floods?.process(record.bytes, linkType: capture.linkType, timestamp: record.timestamp,
                        originalLength: record.originalLength, origin: PacketOrigin(count: UInt64(records), source: 0))
        invariant(capture.bytesRead >= 0 && capture.bytesRead <= Int64(input.count),
                  "bytesRead \(capture.bytesRead) outside a \(input.count)-byte file")
    }
    invariant(capture.end != nil, "next() returned nil without an end reason")
    invariant(capture.packetsRead == records, "packetsRead \(capture.packetsRead), read \(records)")
    floods?.finish()
    engine.finish()
    checkRecords()
    return 0
}

/// Every line the engine wrote is one JSON object with an event type; the last is the stats record.
private func checkRecords() {
    let size = Int(lseek(eveFD, 0, SEEK_END))
    var bytes = [UInt8](repeating: 0, count: size)
    invariant(pread(eveFD, &bytes, size, 0) == size, "cannot read the records back")
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    invariant(lines.last?.isEmpty == true, "the records do not end with a newline")
    lines.removeLast()
    var last = ""
    for line in lines {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let kind = object["event_type"] as? String else {
            fatalError("not a JSON record: \(String(decoding: line, as: UTF8.self).debugDescription)")
        }
        last = kind
    }
    invariant(last == "stats", "the last record is \(last), not stats")
}

/// A rule on every IP packet: every packet that reaches the engine writes an alert.
let everyPacket: RuleSet = {
    let (rules, errors) = RuleLoader.load(text: "alert ip any any -> any any (msg:\"every packet\"; sid:1;)\n")
    precondition(errors.isEmpty)
    return rules
}()

let configuration: EngineConfiguration = {
    var configuration = EngineConfiguration()
    configuration.perPacket = true
    configuration.anomalies = true
    configuration.flowHashSeed = 1
    configuration.flowMemoryBytes = 1 << 20
    return configuration
}()

/// Every TCP and UDP port up to 4096 watched: flows there get verdicts, and past one alert per
/// sid and source and one flow record per port, those that carried nothing are folded.
let lowPorts: RuleSet = {
    let (rules, errors) = RuleLoader.load(text: """
        alert tcp any any -> any 1:4096 (msg:"tcp to a low port"; metadata:ghostport_role probe; sid:2;)
        alert udp any any -> any 1:4096 (msg:"udp to a low port"; metadata:ghostport_role probe; sid:3;)
        alert tcp any 1:4096 -> any any (msg:"tcp answer from a low port"; flow:to_client; metadata:ghostport_role answered; sid:4;)
        alert udp any 1:4096 -> any any (msg:"udp answer from a low port"; flow:to_client; metadata:ghostport_role answered; sid:5;)

        """)
    precondition(errors.isEmpty)
    return rules
}()

let floodConfiguration: EngineConfiguration = {
    var configuration = EngineConfiguration()
    configuration.flowHashSeed = 1
    configuration.flowMemoryBytes = 1 << 20
    configuration.alertLimits = AlertLimits(perSource: 1, perSid: 1)
    configuration.flood.perPort = 1
    configuration.flood.sensorWide = 2
    return configuration
}()

/// The engine's records, one scratch file per process, emptied after each input.
let eveFD: Int32 = {
    let path = "/dev/shm/ghostport-fuzz-pcap-eve-\(getpid())"
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(fd >= 0, "\(path): \(String(cString: strerror(errno)))")
    unlink(path)
    return fd
}()

/// One scratch file per process, so parallel fuzzing jobs (-jobs, -fork) do not share it.
let scratchPath = "/dev/shm/ghostport-fuzz-pcap-\(getpid())"

@main
enum FuzzPcapMain {
    static func main() { FuzzDriver.run(fuzzPcap) }
}
