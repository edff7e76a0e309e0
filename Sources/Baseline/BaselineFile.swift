import Platform

#if canImport(Glibc)
import Glibc
#endif

/// The baseline as a text file an operator can read, diff and edit: one listener a line,
///
///     # comments and blank lines are ignored
///     since 2026-12-01T00:00:00Z
///     192.0.2.7 104/tcp 2026-12-01T08:00:01Z 2026-12-03T17:59:58Z 5210 3 # PACS archive, radiology
///     2001:db8::5 519/udp - - 0 0
///     198.51.100.9 87/tcp
///
/// `since` is when learning began. A listener line is its address (IPv4 or IPv6 text), its
/// port and protocol (`tcp`, `udp`, `sctp`), then optionally first and last seen (UTC, `-` for
/// unknown), flows answered and distinct clients; a `#` and what follows it is the listener's
/// comment, kept when the sensor rewrites the file. The file is written sorted by address,
/// port and protocol, to a temporary file then renamed over the old one: a sensor killed
/// mid-write leaves the old file whole.
public enum BaselineFile {
    public static let header = """
        # ghostport baseline: the listeners seen answering on watched ports.
        # address port/proto first_seen last_seen flows clients [# comment]

        """

    /// The baseline in `text`; each line that cannot be read is one error, `PATH:LINE: reason`.
    public static func parse(_ text: String, path: String, capacity: Int = ListenerBaseline.defaultCapacity)
        -> Result<ListenerBaseline, BaselineErrors> {
        var text = text
        return text.withUTF8 { parse(utf8: $0, path: path, capacity: capacity) }
    }

    /// Read byte by byte, not by Character: a 100,000-line file is read on the engine's thread at
    /// a reload, and grapheme breaking cost seconds of it.
    static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>, path: String, capacity: Int)
        -> Result<ListenerBaseline, BaselineErrors> {
        var errors: [String] = []
        var entries: [ListenerKey: ListenerEntry] = [:]
        // Sized once: a 100,000-listener file grows no table twice its size on the way.
        entries.reserveCapacity(min(capacity, bytes.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }))
        var since: Int64?
        var number = 0
        var fields: [Range<Int>] = []
        fields.reserveCapacity(8)
        func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        func count(_ range: Range<Int>) -> UInt64? {
            guard !range.isEmpty else { return nil }
            var value: UInt64 = 0
            for i in range {
                let digit = bytes[i] &- 0x30
                guard digit < 10 else { return nil }
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(digit))
                guard !overflow && !overflow2 else { return nil }
                value = sum
            }
            return value
        }
        func time(_ range: Range<Int>) -> Int64? { UTCTime.parse(utf8: UnsafeBufferPointer(rebasing: bytes[range])) }
        var lineStart = 0
        lines: while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            if lineStart == bytes.count && lineEnd == lineStart { break }  // after the last newline
            number += 1
            var end = lineEnd
            if end > lineStart && bytes[end - 1] == 0x0D { end -= 1 }
            var comment: String?
            if let hash = (lineStart..<end).first(where: { bytes[$0] == 0x23 }) {
                var noteStart = hash + 1
                while noteStart < end && isBlank(bytes[noteStart]) { noteStart += 1 }
                comment = noteStart < end ? text(noteStart..<end) : nil
                end = hash
            }
            fields.removeAll(keepingCapacity: true)
            var i = lineStart
            while i < end {
                while i < end && isBlank(bytes[i]) { i += 1 }
                let start = i
                while i < end && !isBlank(bytes[i]) { i += 1 }
                if i > start { fields.append(start..<i) }
            }
            if fields.isEmpty { continue }
            func fail(_ reason: String) { errors.append("\(path):\(number): \(reason)") }
            if text(fields[0]) == "since" {
                guard fields.count == 2, let value = time(fields[1]) else {
                    fail("`since` takes one time, as 2026-12-01T00:00:00Z")
                    continue
                }
                since = value
                continue
            }
            guard let address = ListenerKey.parseAddress(text(fields[0])) else {
                fail("'\(text(fields[0]))' is not an IPv4 or IPv6 address")
                continue
            }
            guard fields.count >= 2 else {
                fail("a port and protocol must follow the address, as 104/tcp")
                continue
            }
            let portProto = fields[1]
            let slash = portProto.first { bytes[$0] == 0x2F } ?? portProto.upperBound
            guard let port = count(portProto.lowerBound..<slash), port > 0, port <= 65_535, slash < portProto.upperBound,
                  let proto = ListenerKey.protocolNumber(text(slash + 1..<portProto.upperBound)) else {
                fail("'\(text(fields[1]))' is not a port and protocol, as 104/tcp (tcp, udp or sctp)")
                continue
            }
            guard fields.count <= 6 else {
                fail("\(fields.count) fields; at most 6 (address, port/proto, first seen, last seen, flows, clients), then # comment")
                continue
            }
            var entry = ListenerEntry(comment: comment)
            for index in fields.indices.dropFirst(2) {
                let field = fields[index]
                switch index {
                case 2, 3:
                    if field.count == 1 && bytes[field.lowerBound] == 0x2D { continue }  // -
                    guard let value = time(field) else {
                        fail("'\(text(field))' is not a time (\(index == 2 ? "first" : "last") seen), as 2026-12-01T00:00:00Z, or -")
                        continue lines
                    }
                    if index == 2 { entry.firstSeen = value } else { entry.lastSeen = value }
                default:
                    guard let value = count(field) else {
                        fail("'\(text(field))' is not a count of \(index == 4 ? "flows" : "clients")")
                        continue lines
                    }
                    if index == 4 { entry.flows = value } else { entry.clients = value }
                }
            }
            let key = ListenerKey(address: address, port: UInt16(port), proto: proto)
            guard entries[key] == nil else {
                fail("\(key) is listed twice")
                continue
            }
            guard entries.count < capacity else {
                fail("more than \(capacity) listeners (baseline.max_listeners)")
                break
            }
            entries[key] = entry
        }
        guard errors.isEmpty else { return .failure(BaselineErrors(messages: errors)) }
        return .success(ListenerBaseline(entries: entries, since: since, capacity: capacity))
    }

    /// Reads and parses `path`. A missing file is an empty baseline when `missingIsEmpty`
    /// (a sensor about to learn), an error otherwise.
    public static func load(_ path: String, capacity: Int = ListenerBaseline.defaultCapacity,
                            missingIsEmpty: Bool = false) -> Result<ListenerBaseline, BaselineErrors> {
        switch FileSystem.contents(of: path) {
        case .success(let bytes):
            return bytes.withUnsafeBufferPointer { parse(utf8: $0, path: path, capacity: capacity) }
        case .failure(let error):
            if missingIsEmpty, FileSystem.kind(of: path) == .missing {
                return .success(ListenerBaseline(capacity: capacity))
            }
            return .failure(BaselineErrors(messages: ["\(error)"]))
        }
    }

    /// The file's text: the header, `since`, then the listeners sorted.
    public static func format(_ baseline: ListenerBaseline) -> String { format(baseline.entries, since: baseline.since) }

    /// The same from a snapshot of the listeners (a live sensor formats it off its engine's thread).
    public static func format(_ entries: [ListenerKey: ListenerEntry], since: Int64?) -> String {
        var text = header
        if let since { text += "since \(UTCTime.format(since))\n" }
        for key in entries.keys.sorted() {
            let entry = entries[key]!
            text += "\(key) \(entry.firstSeen.map(UTCTime.format) ?? "-") \(entry.lastSeen.map(UTCTime.format) ?? "-") "
                + "\(entry.flows) \(entry.clients)"
            if let comment = entry.comment { text += " # \(comment)" }
            text += "\n"
        }
        return text
    }

    /// Writes `baseline` to `path` atomically: a temporary file beside it, flushed to disk,
    /// renamed over `path`. Throws a message naming the path and the reason.
    public static func write(_ baseline: ListenerBaseline, to path: String) throws(BaselineErrors) {
        try write(text: format(baseline), to: path, stillWanted: { true })
    }

    /// Writes a baseline's `text` (`format`) to `path` atomically. `stillWanted`, asked between
    /// writing the temporary file and renaming it, can call the write off (false: nothing
    /// changes, the temporary file is removed).
    @discardableResult
    public static func write(text: String, to path: String, stillWanted: () -> Bool = { true }) throws(BaselineErrors) -> Bool {
        let temporary = "\(path).tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BaselineErrors(messages: ["\(temporary): \(String(cString: strerror(errno)))"]) }
        var failure: Int32 = 0
        text.utf8CString.withUnsafeBufferPointer { buffer in
            var offset = 0
            let count = buffer.count - 1  // without the NUL
            while offset < count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0 && !stillWanted() {
            unlink(temporary)
            return false
        }
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw BaselineErrors(messages: ["\(path): \(String(cString: strerror(failure)))"])
        }
        return true
    }
}

/// What keeps a baseline from loading or saving: one message a problem, `PATH:LINE: reason`
/// for a line that cannot be read.
public struct BaselineErrors: Error, Sendable, CustomStringConvertible {
    public var messages: [String]
    public init(messages: [String]) { self.messages = messages }
    public var description: String { messages.joined(separator: "\n") }
}
