import Capture
import FuzzSupport
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The input as a capture file: written to /dev/shm (OfflineCapture reads paths), opened, read to
/// its end, every record decoded. Checks: reading stops with an end reason, the progress offset
/// stays inside the file, and every record's decode keeps the decoder's promises (DecoderInvariants.swift).
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
    while let record = capture.next() {
        records += 1
        invariant(record.bytes.count <= input.count, "a \(record.bytes.count)-byte record from a \(input.count)-byte file")
        let broken = DecoderInvariants.exactCopy(of: record.bytes) { frame in
            Decoder.decode(frame, linkType: capture.linkType, into: &packet)
            return DecoderInvariants.violations(packet, frame: frame, capturedLength: frame.count)
        }
        invariant(broken.isEmpty, "record \(records): " + broken.joined(separator: "; "))
        invariant(capture.bytesRead >= 0 && capture.bytesRead <= Int64(input.count),
                  "bytesRead \(capture.bytesRead) outside a \(input.count)-byte file")
    }
    invariant(capture.end != nil, "next() returned nil without an end reason")
    invariant(capture.packetsRead == records, "packetsRead \(capture.packetsRead), read \(records)")
    return 0
}

/// One scratch file per process, so parallel fuzzing jobs (-jobs, -fork) do not share it.
let scratchPath = "/dev/shm/ghostport-fuzz-pcap-\(getpid())"

@main
enum FuzzPcapMain {
    static func main() { FuzzDriver.run(fuzzPcap) }
}
