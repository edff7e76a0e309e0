import Platform
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Writes the packets of alerted flows to one classic pcap file per flow, named by the flow id
/// the alert carries, so an alert leads straight to its packets. Open files are bounded: the
/// least recently used is closed and reopened for appending when its flow writes again.
///
/// Retention: with `maxFiles` or `maxBytes`, the directory's evidence files (those of earlier
/// runs too, `flow-<id>.pcap`) are kept under both, the oldest removed first (by modification
/// time for earlier runs' files, then in the order this writer created them). The file being
/// written is never removed for its own sake, so one flow's packets stay whole.
///
/// A sensor's workers share one: its methods and counts are used under `lock`.
public final class EvidenceWriter: @unchecked Sendable {
    // @unchecked: every mutable property is used under `lock` (by the public methods).
    private let lock = Monitor()
    public let directory: String
    private let maxOpenFiles: Int
    public let maxFiles: Int?
    public let maxBytes: Int64?
    private var open: [UInt64: (fd: Int32, lastUse: UInt64)] = [:]
    private var created: Set<UInt64> = []
    private var clock: UInt64 = 0
    /// Every evidence file in the directory, for retention: its size and when it was created.
    private var kept: [UInt64: (bytes: Int64, order: UInt64)] = [:]
    /// The files by age, oldest first; entries for files already gone are skipped.
    private var age: [(flowID: UInt64, order: UInt64)] = []
    private var ageHead = 0
    private var order: UInt64 = 0
    private var keptBytesHeld: Int64 = 0
    public var keptBytes: Int64 { lock.locked { keptBytesHeld } }
    public var keptFiles: Int { lock.locked { kept.count } }
    private var errorsHeld: UInt64 = 0
    private var lastErrorHeld: String?
    public var errors: UInt64 { lock.locked { errorsHeld } }
    public var lastError: String? { lock.locked { lastErrorHeld } }
    /// Files removed to stay under `maxFiles` and `maxBytes`, and their bytes.
    private var removedFilesHeld: UInt64 = 0
    private var removedBytesHeld: UInt64 = 0
    public var removedFiles: UInt64 { lock.locked { removedFilesHeld } }
    public var removedBytes: UInt64 { lock.locked { removedBytesHeld } }

    public init(directory: String, maxOpenFiles: Int = 256, maxFiles: Int? = nil, maxBytes: Int64? = nil) throws(WriteError) {
        var info = stat()
        if stat(directory, &info) != 0 {
            guard mkdir(directory, 0o750) == 0 else { throw WriteError(errno: errno) }
        } else if info.st_mode & S_IFMT != S_IFDIR {
            throw WriteError(errno: ENOTDIR)
        }
        self.directory = directory
        self.maxOpenFiles = maxOpenFiles
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        if maxFiles != nil || maxBytes != nil {
            adoptEarlierFiles()
            enforce(writing: nil)
        }
    }

    public func fileName(flowID: UInt64) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + "flow-\(flowID).pcap"
    }

    /// Appends one packet; false when it could not be written (counted, the flow goes on).
    public func append(flowID: UInt64, linkType: LinkType, bytes: UnsafeRawBufferPointer, originalLength: Int,
                       timestamp: Int64) -> Bool {
        lock.locked { appendHeld(flowID: flowID, linkType: linkType, bytes: bytes, originalLength: originalLength, timestamp: timestamp) }
    }

    private func appendHeld(flowID: UInt64, linkType: LinkType, bytes: UnsafeRawBufferPointer, originalLength: Int,
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
        guard writeAll(fd, record) else { return false }
        if maxFiles != nil || maxBytes != nil {
            grow(flowID, by: Int64(record.count))
            enforce(writing: flowID)
        }
        return true
    }

    // MARK: - Retention

    /// The evidence files already in the directory (earlier runs), oldest first.
    private func adoptEarlierFiles() {
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        var found: [(flowID: UInt64, bytes: Int64, modified: Int64)] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix("flow-"), name.hasSuffix(".pcap"),
                  let flowID = UInt64(name.dropFirst(5).dropLast(5)) else { continue }
            var info = stat()
            guard stat(fileName(flowID: flowID), &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            found.append((flowID, Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)))
        }
        for file in found.sorted(by: { ($0.modified, $0.flowID) < ($1.modified, $1.flowID) }) {
            grow(file.flowID, by: file.bytes)
        }
    }

    /// Counts `bytes` more for `flowID`'s file, a new one at the young end.
    private func grow(_ flowID: UInt64, by bytes: Int64) {
        if let entry = kept[flowID] {
            kept[flowID] = (entry.bytes + bytes, entry.order)
        } else {
            order &+= 1
            kept[flowID] = (bytes, order)
            age.append((flowID, order))
        }
        keptBytesHeld += bytes
    }

    /// Removes the oldest files while over a bound, never `writing`'s own.
    private func enforce(writing: UInt64?) {
        while isOverBound, ageHead < age.count {
            let (flowID, order) = age[ageHead]
            guard let entry = kept[flowID], entry.order == order else {
                ageHead += 1  // gone already, or recreated since
                continue
            }
            if flowID == writing { break }  // the youngest: nothing older is left
            ageHead += 1
            if let handle = open.removeValue(forKey: flowID) { Glibc.close(handle.fd) }
            created.remove(flowID)
            kept[flowID] = nil
            keptBytesHeld -= entry.bytes
            if unlink(fileName(flowID: flowID)) == 0 || errno == ENOENT {
                removedFilesHeld &+= 1
                removedBytesHeld &+= UInt64(max(0, entry.bytes))
            } else {
                fail(fileName(flowID: flowID))
            }
        }
        // The queue's consumed front is dropped now and then, so it does not grow for months.
        if ageHead > 4096 && ageHead * 2 > age.count {
            age.removeFirst(ageHead)
            ageHead = 0
        }
    }

    private var isOverBound: Bool {
        if let maxFiles, kept.count > maxFiles { return true }
        if let maxBytes, keptBytesHeld > maxBytes { return true }
        return false
    }

    public func close(flowID: UInt64) {
        lock.locked {
            if let entry = open.removeValue(forKey: flowID) { Glibc.close(entry.fd) }
            created.remove(flowID)
        }
    }

    public func closeAll() {
        lock.locked {
            for entry in open.values { Glibc.close(entry.fd) }
            open.removeAll()
            created.removeAll()
        }
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
            if maxFiles != nil || maxBytes != nil {
                // Truncated and started again: its old size no longer counts, its age is now.
                if let old = kept.removeValue(forKey: flowID) { keptBytesHeld -= old.bytes }
                grow(flowID, by: Int64(header.count))
            }
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
        errorsHeld &+= 1
        lastErrorHeld = "\(path): \(String(cString: strerror(errno)))"
    }

    private static func appendLE(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
    }
}
