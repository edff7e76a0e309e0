import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Writes the packets of alerted flows to one classic pcap file per flow, named by the flow id
/// the alert carries, so an alert leads straight to its packets. Open files are bounded: the
/// least recently used is closed and reopened for appending when its flow writes again.
public final class EvidenceWriter {
    public let directory: String
    private let maxOpenFiles: Int
    private var open: [UInt64: (fd: Int32, lastUse: UInt64)] = [:]
    private var created: Set<UInt64> = []
    private var clock: UInt64 = 0
    public private(set) var errors: UInt64 = 0
    public private(set) var lastError: String?

    public init(directory: String, maxOpenFiles: Int = 256) throws(WriteError) {
        var info = stat()
        if stat(directory, &info) != 0 {
            guard mkdir(directory, 0o750) == 0 else { throw WriteError(errno: errno) }
        } else if info.st_mode & S_IFMT != S_IFDIR {
            throw WriteError(errno: ENOTDIR)
        }
        self.directory = directory
        self.maxOpenFiles = maxOpenFiles
    }

    public func fileName(flowID: UInt64) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + "flow-\(flowID).pcap"
    }

    /// Appends one packet; false when it could not be written (counted, the flow goes on).
    public func append(flowID: UInt64, linkType: LinkType, bytes: UnsafeRawBufferPointer, originalLength: Int,
                       timestamp: Int64) -> Bool {
        clock &+= 1
        guard let fd = descriptor(flowID: flowID, linkType: linkType) else { return false }
        var record = [UInt8]()
        record.reserveCapacity(16 + bytes.count)
        let seconds = timestamp.floorDivided(by: 1_000_000_000)
        let nanos = timestamp - seconds * 1_000_000_000
        Self.appendLE(UInt32(truncatingIfNeeded: seconds), to: &record)
        Self.appendLE(UInt32(truncatingIfNeeded: nanos), to: &record)
        Self.appendLE(UInt32(bytes.count), to: &record)
        Self.appendLE(UInt32(truncatingIfNeeded: originalLength), to: &record)
        record.append(contentsOf: bytes)
        return writeAll(fd, record)
    }

    public func close(flowID: UInt64) {
        if let entry = open.removeValue(forKey: flowID) { Glibc.close(entry.fd) }
        created.remove(flowID)
    }

    public func closeAll() {
        for entry in open.values { Glibc.close(entry.fd) }
        open.removeAll()
        created.removeAll()
    }

    private func descriptor(flowID: UInt64, linkType: LinkType) -> Int32? {
        if let entry = open[flowID] {
            open[flowID] = (entry.fd, clock)
            return entry.fd
        }
        if open.count >= maxOpenFiles, let oldest = open.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            Glibc.close(oldest.value.fd)
            open[oldest.key] = nil
        }
        let path = fileName(flowID: flowID)
        let isNew = !created.contains(flowID)
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (isNew ? O_TRUNC : O_APPEND)
        let fd = Glibc.open(path, flags, 0o640)
        guard fd >= 0 else {
            fail(path)
            return nil
        }
        if isNew {
            // pcap header, nanosecond magic, little-endian.
            var header = [UInt8]()
            Self.appendLE(0xA1B2_3C4D, to: &header)
            Self.appendLE(UInt32(2) | UInt32(4) << 16, to: &header)
            Self.appendLE(0, to: &header)
            Self.appendLE(0, to: &header)
            Self.appendLE(262_144, to: &header)
            Self.appendLE(UInt32(bitPattern: linkType.rawValue == 12 || linkType.rawValue == 14 ? 101 : linkType.rawValue), to: &header)
            guard writeAll(fd, header) else {
                Glibc.close(fd)
                return nil
            }
            created.insert(flowID)
        }
        open[flowID] = (fd, clock)
        return fd
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        if !ok { fail(directory) }
        return ok
    }

    private func fail(_ path: String) {
        errors &+= 1
        lastError = "\(path): \(String(cString: strerror(errno)))"
    }

    private static func appendLE(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
    }
}
