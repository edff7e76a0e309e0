import Platform
import Flow
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The EVE sink: builds each record as one line and writes whole lines only, so a reader
/// tailing the file never sees half a record. A failed write loses the records it held,
/// counts them, and the next write tries again.
public final class EVEOutput {
    private var buffer: OutputBuffer
    /// Records written (or buffered to be).
    public private(set) var records: UInt64 = 0
    /// Records lost to write errors (full disk, closed pipe, unwritable file).
    public private(set) var lost: UInt64 = 0
    public private(set) var lastError: WriteError?
    /// The last write failed; the next flush tries again.
    public private(set) var failing = false
    private var pending: UInt64 = 0
    private let flushEveryRecord: Bool
    /// Sees every batch of whole lines before it is written (`read --report` aggregates them).
    public var tap: ((UnsafeRawBufferPointer) -> Void)?

    /// `flushEveryRecord` for live capture, where alerts must reach the file at once. A negative
    /// `fd`: no file, the records go to the `tap` only (Redis instead of the file).
    public init(fd: Int32, flushEveryRecord: Bool = false) {
        buffer = OutputBuffer(fd: fd)
        self.flushEveryRecord = flushEveryRecord
    }

    public var fd: Int32 { buffer.fd }

    /// Appends one record; `body` writes the whole line, newline included.
    @inline(__always)
    public func record(_ body: (inout OutputBuffer) -> Void) {
        _ = record(returningLine: false, body)
    }

    /// As `record`, and with `returningLine` the line written (without its newline), for
    /// outputs that want the same record (syslog).
    public func record(returningLine: Bool, _ body: (inout OutputBuffer) -> Void) -> String? {
        let start = buffer.count
        body(&buffer)
        let line = returningLine ? buffer.line(from: start) : nil
        countAndFlush()
        return line
    }

    /// Appends `count` whole records that `other` holds (written on another thread).
    func append(records count: Int, from other: borrowing OutputBuffer) {
        other.withBytes { buffer.append(raw: $0) }
        records &+= UInt64(count)
        pending &+= UInt64(count)
        if flushEveryRecord || buffer.count >= 1 << 16 { flush() }
    }

    /// Appends whole lines written elsewhere (another engine's output, read back), newlines
    /// included: each counts as a record.
    public func append(lines: UnsafeRawBufferPointer) {
        guard !lines.isEmpty else { return }
        var count: UInt64 = 0
        for byte in lines where byte == 0x0A { count &+= 1 }
        buffer.append(raw: lines)
        records &+= count
        pending &+= count
        if flushEveryRecord || buffer.count >= 1 << 16 { flush() }
    }

    @inline(__always)
    private func countAndFlush() {
        records &+= 1
        pending &+= 1
        if flushEveryRecord {
            flush()
        } else if buffer.count >= 1 << 16 {
            flush()
        }
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        guard buffer.fd >= 0 else {
            if let tap { buffer.withBytes(tap) }
            buffer.discard()
            pending = 0
            return
        }
        // A write cut short (a full disk) must not leave half a line: remember where the file
        // ended and cut it back there on failure.
        var info = stat()
        let isFile = fstat(buffer.fd, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
        if let tap { buffer.withBytes(tap) }
        do {
            try buffer.flush()
            pending = 0
            failing = false
        } catch {
            if isFile { _ = ftruncate(buffer.fd, info.st_size) }
            lost &+= pending
            pending = 0
            lastError = error
            failing = true
        }
    }

    /// Swaps the file descriptor (log rotation); what is buffered goes to the old one first.
    public func replaceDescriptor(_ fd: Int32) {
        flush()
        buffer = OutputBuffer(fd: fd)
    }

    /// `,"community_id":"…"` with the ID `write` puts in a 30-byte scratch (returning its
    /// length): ASCII that needs no escaping, so no String; nothing when it writes nothing.
    @inline(__always)
    static func appendCommunityID(into out: inout OutputBuffer, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        var id: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &id) { raw in
            let count = write(raw)
            guard count > 0 else { return }
            out.append(",\"community_id\":\"")
            out.append(raw: UnsafeRawBufferPointer(rebasing: raw[0..<count]))
            out.append(byte: 0x22)
        }
    }

    /// `,"flow":{...` with the counters and start (and end and age for a flow record); the
    /// caller closes the object.
    static func appendFlowCounters(_ flow: Flow, end: Bool, into out: inout OutputBuffer) {
        out.append(",\"flow\":{\"pkts_toserver\":")
        out.append(decimal: flow.packetsToServer)
        out.append(",\"pkts_toclient\":")
        out.append(decimal: flow.packetsToClient)
        out.append(",\"bytes_toserver\":")
        out.append(decimal: flow.bytesToServer)
        out.append(",\"bytes_toclient\":")
        out.append(decimal: flow.bytesToClient)
        out.append(",\"start\":\"")
        EVE.appendTimestamp(flow.start, into: &out)
        out.append(byte: 0x22)
        if end {
            out.append(",\"end\":\"")
            EVE.appendTimestamp(flow.last, into: &out)
            // Suricata's age: the difference of the two times' whole seconds.
            out.append("\",\"age\":")
            out.append(decimal: UInt64(max(0, flow.last.floorDivided(by: 1_000_000_000) - flow.start.floorDivided(by: 1_000_000_000))))
        }
    }
}
