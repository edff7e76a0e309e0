import CPcap
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Why a capture could not be opened or read to its end.
public enum CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path does not exist.
    case notFound(path: String)
    /// The file exists but libpcap could not open it (not a capture, unreadable, bad header).
    case openFailed(path: String, reason: String)
    /// The file's link type is not one the decoder understands.
    case unsupportedLinkType(path: String, linkType: LinkType, name: String)

    /// What went wrong, without the path.
    public var reason: String {
        switch self {
        case .notFound: "no such file or directory"
        case .openFailed(_, let reason): reason
        case .unsupportedLinkType(_, let linkType, let name): "unsupported link type \(name) (\(linkType.rawValue))"
        }
    }

    public var description: String {
        switch self {
        case .notFound(let path): "\(path): no such file or directory"
        case .openFailed(let path, let reason): "\(path): \(reason)"
        case .unsupportedLinkType(let path, let linkType, let name):
            "\(path): unsupported link type \(name) (\(linkType.rawValue)), skipped"
        }
    }
}

/// How reading a capture ended.
public enum ReadEnd: Equatable, Sendable {
    case endOfFile
    /// The file stops inside a record. `offset` is where that record starts, when known.
    case truncated(offset: Int64?, reason: String)
    case failed(reason: String)
}

/// One record from libpcap. `bytes` borrows libpcap's buffer: valid only until the next read.
public struct CaptureRecord {
    public var seconds: Int64
    /// The sub-second part in nanoseconds, as the file holds it: a crafted file may hold a
    /// billion or more (it is kept as it is, for `decode` to print as tshark does).
    public var nanoseconds: UInt32
    public var originalLength: Int
    public var bytes: UnsafeRawBufferPointer

    /// Nanoseconds since the epoch; wraps rather than traps on the absurd values a crafted file can hold.
    @inline(__always)
    public var timestamp: Int64 { seconds &* 1_000_000_000 &+ Int64(nanoseconds) }
}

/// A capture file (or standard input) read through libpcap, timestamps kept in nanoseconds.
public final class OfflineCapture {
    public let path: String
    public let linkType: LinkType
    /// libpcap's name for the link type (`pcap_datalink_val_to_name`).
    public let linkTypeName: String
    /// Total bytes of the file when known (a regular file), for progress.
    public let fileSize: Int64?
    public private(set) var packetsRead = 0
    public private(set) var end: ReadEnd?

    private let handle: OpaquePointer
    /// The stream's stdio buffer, when this reader opened the file.
    private var streamStorage: UnsafeMutablePointer<CChar>?
    private let isPcapNG: Bool
    /// Where the next record starts; tracked so a cut-off file can say where the cut is.
    private var recordOffset: Int64
    private var canTell: Bool

    /// The stdio buffer of a capture file's stream: 1 MiB, or the file's size if smaller (a
    /// directory of small captures, or the fuzzer, should not pay for a megabyte each).
    static func streamBufferSize(forFileSize size: Int64?) -> Int {
        guard let size else { return 1 << 20 }
        return Int(max(4096, min(1 << 20, size)))
    }

    /// Opens `path`, or standard input for `-`.
    /// The corresponding C functions are `fopen`, `setvbuf` and
    /// `pcap_fopen_offline_with_tstamp_precision`.
    public init(path: String) throws(CaptureError) {
        self.path = path
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        var opened: OpaquePointer?
        var size: Int64?
        // Kept in a local until the capture is accepted: an init that throws runs no deinit.
        var buffer: UnsafeMutablePointer<CChar>?
        if path == "-" {
            opened = pcap_fopen_offline_with_tstamp_precision(fdopen(STDIN_FILENO, "rb"), UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf)
        } else {
            var info = stat()
            guard stat(path, &info) == 0 else {
                let code = errno
                if code == ENOENT || code == ENOTDIR { throw .notFound(path: path) }
                throw .openFailed(path: path, reason: String(cString: strerror(code)))
            }
            if info.st_mode & S_IFMT == S_IFDIR { throw .openFailed(path: path, reason: "is a directory") }
            if info.st_mode & S_IFMT == S_IFREG {
                size = Int64(info.st_size)
                if size == 0 { throw .openFailed(path: path, reason: "empty file") }
            }
            // Opened here rather than by libpcap, to give the stream a larger buffer: libpcap
            // reads record by record, and stdio's default (the 4 KiB block size) made that a
            // read(2) for every dozen packets.
            guard let file = fopen(path, "rb") else {
                throw .openFailed(path: path, reason: String(cString: strerror(errno)))
            }
            // glibc ignores the size without a buffer: the stream gets one of ours, freed after
            // pcap_close has closed the stream.
            let bufferSize = Self.streamBufferSize(forFileSize: size)
            let storage = UnsafeMutablePointer<CChar>.allocate(capacity: bufferSize)
            buffer = storage
            setvbuf(file, storage, _IOFBF, bufferSize)
            opened = pcap_fopen_offline_with_tstamp_precision(file, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf)
            // On failure libpcap leaves the stream to its opener; on success pcap_close closes it.
            if opened == nil { fclose(file) }
        }
        guard let handle = opened else {
            buffer?.deallocate()
            throw .openFailed(path: path, reason: Self.describe(libpcapError: errbuf))
        }
        let linkType: LinkType, name: String
        do {
            (linkType, name) = try supportedLinkType(of: handle, path: path)
        } catch {
            // supportedLinkType closed the handle, and with it the stream.
            buffer?.deallocate()
            throw error
        }
        self.streamStorage = buffer
        self.handle = handle
        self.linkType = linkType
        self.linkTypeName = linkType.name ?? name
        self.fileSize = size
        // libpcap reports a pcapng section as major version 1: see pcap_major_version(3PCAP).
        self.isPcapNG = pcap_major_version(handle) != 2
        let position = ftell(pcap_file(handle))
        self.canTell = position >= 0
        self.recordOffset = position >= 0 ? Int64(position) : (isPcapNG ? 0 : 24)
    }

    deinit {
        pcap_close(handle)
        streamStorage?.deallocate()
    }

    /// Bytes of the file consumed so far, for progress.
    public var bytesRead: Int64 { recordOffset }

    /// The next record, or nil at the end (then `end` says how it ended).
    /// The corresponding C function is `pcap_next_ex`.
    @inline(__always)
    public func next() -> CaptureRecord? {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        let status = pcap_next_ex(handle, &header, &data)
        guard status == 1, let header, let data else {
            finish(status: status)
            return nil
        }
        packetsRead += 1
        let caplen = Int(header.pointee.caplen)
        advanceOffset(caplen: caplen)
        return CaptureRecord(
            // A classic pcap file's seconds are an unsigned 32-bit field (so it reaches 2106);
            // libpcap reads them signed, and this undoes that, as tshark reads them.
            seconds: isPcapNG ? Int64(header.pointee.ts.tv_sec) : Int64(UInt32(truncatingIfNeeded: header.pointee.ts.tv_sec)),
            // With nanosecond precision requested, libpcap puts nanoseconds in tv_usec.
            nanoseconds: UInt32(truncatingIfNeeded: header.pointee.ts.tv_usec),
            originalLength: Int(header.pointee.len),
            bytes: UnsafeRawBufferPointer(start: data, count: caplen)
        )
    }

    @inline(__always)
    private func advanceOffset(caplen: Int) {
        if isPcapNG {
            guard canTell else { return }
            recordOffset = Int64(ftell(pcap_file(handle)))
        } else {
            recordOffset += 16 + Int64(caplen)
        }
    }

    private func finish(status: Int32) {
        guard end == nil else { return }
        let known = !isPcapNG || canTell
        let shrunk = shrinkage()
        if status == PCAP_ERROR_BREAK {
            // A file cut while it was read can end on a record boundary: libpcap sees a clean end.
            if let shrunk, known {
                end = .truncated(offset: recordOffset, reason: shrunk)
            } else {
                end = .endOfFile
            }
            return
        }
        let message = String(cString: pcap_geterr(handle))
        if message.contains("truncated") {
            end = .truncated(offset: known ? recordOffset : nil, reason: shrunk.map { message + "; " + $0 } ?? message)
        } else {
            end = .failed(reason: message)
        }
    }

    /// "the file shrank from A to B bytes while it was read" when it is now shorter than at open
    /// and the read stopped short of the old size; nil otherwise.
    private func shrinkage() -> String? {
        guard let fileSize, recordOffset < fileSize, let file = pcap_file(handle) else { return nil }
        var info = stat()
        guard fstat(fileno(file), &info) == 0, Int64(info.st_size) < fileSize else { return nil }
        return "the file shrank from \(fileSize) to \(info.st_size) bytes while it was read"
    }

    /// libpcap's open errors name the file already in some cases; say it once.
    private static func describe(libpcapError errbuf: [CChar]) -> String {
        let bytes = errbuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? "not a capture file" : String(decoding: bytes, as: UTF8.self)
    }
}

/// The link type of a handle just opened (offline or live), with libpcap's name for it; when
/// ghostport cannot decode that link type, the handle is closed and `.unsupportedLinkType` thrown.
func supportedLinkType(of handle: OpaquePointer, path: String) throws(CaptureError) -> (LinkType, name: String) {
    let dlt = pcap_datalink(handle)
    let linkType = LinkType(rawValue: dlt)
    let name = pcap_datalink_val_to_name(dlt).map { String(cString: $0) } ?? "DLT_\(dlt)"
    guard linkType.isSupported else {
        pcap_close(handle)
        throw .unsupportedLinkType(path: path, linkType: linkType, name: name)
    }
    return (linkType, name)
}

/// The capture files a path names: the file itself, or a directory's capture files sorted by name.
public enum CaptureInputs {
    public struct Input: Equatable, Sendable {
        public var path: String
        public init(path: String) { self.path = path }
    }

    /// What `expand` found: the inputs in order, the paths that could not be used (errors),
    /// and, for each directory entry passed over, one line saying which and why.
    public struct Expansion: Sendable {
        public var inputs: [Input] = []
        public var errors: [CaptureError] = []
        public var skipped: [String] = []
    }

    /// Expands directories (their sub-directories too with `recursive`); a path that does not
    /// exist is reported and skipped, and so is a directory that holds no capture file.
    public static func expand(_ paths: [String], recursive: Bool = false) -> Expansion {
        var expansion = Expansion()
        var readsStandardInput = false
        for path in paths {
            if path == "-" {
                // Standard input is read to its end once; a second - would find it closed.
                if readsStandardInput {
                    expansion.errors.append(.openFailed(path: path, reason: "standard input is already named once"))
                } else {
                    expansion.inputs.append(Input(path: path))
                }
                readsStandardInput = true
                continue
            }
            var info = stat()
            guard stat(path, &info) == 0 else {
                let code = errno
                if code == ENOENT || code == ENOTDIR {
                    expansion.errors.append(.notFound(path: path))
                } else {
                    expansion.errors.append(.openFailed(path: path, reason: String(cString: strerror(code))))
                }
                continue
            }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                expansion.inputs.append(Input(path: path))
                continue
            }
            let before = expansion.inputs.count
            collect(directory: path, recursive: recursive, into: &expansion)
            if expansion.inputs.count == before {
                expansion.errors.append(.openFailed(path: path, reason: recursive
                    ? "no capture files in it or below" : "no capture files in it (--recursive reads its sub-directories)"))
            }
        }
        return expansion
    }

    /// The capture files of `directory` (regular files that start with a pcap or pcapng magic
    /// number, hidden ones left out), sorted by name; sub-directories in the same order with
    /// `recursive`. Every other entry gets a line in `skipped`.
    static func collect(directory: String, recursive: Bool, into expansion: inout Expansion) {
        guard let dir = opendir(directory) else {
            expansion.errors.append(.openFailed(path: directory, reason: String(cString: strerror(errno))))
            return
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            guard !name.hasPrefix(".") else { continue }
            names.append(name)
        }
        closedir(dir)
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        for path in names.sorted().map({ base + $0 }) {
            var info = stat()
            guard stat(path, &info) == 0 else {
                expansion.skipped.append("\(path): skipped: \(String(cString: strerror(errno)))")
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                if recursive {
                    collect(directory: path, recursive: true, into: &expansion)
                } else {
                    expansion.skipped.append("\(path): skipped: a directory (--recursive reads it)")
                }
            case S_IFREG:
                if info.st_size == 0 {
                    expansion.skipped.append("\(path): skipped: empty file")
                } else if isCaptureFile(path) {
                    expansion.inputs.append(Input(path: path))
                } else {
                    expansion.skipped.append("\(path): skipped: not a pcap or pcapng file")
                }
            default:
                expansion.skipped.append("\(path): skipped: not a regular file")
            }
        }
    }

    static let magics: Set<UInt32> = [
        0xA1B2_C3D4, 0xD4C3_B2A1,  // pcap, microseconds, either byte order
        0xA1B2_3C4D, 0x4D3C_B2A1,  // pcap, nanoseconds
        0x0A0D_0D0A,  // pcapng section header block
    ]

    static func isCaptureFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var magic: UInt32 = 0
        guard fread(&magic, 4, 1, file) == 1 else { return false }
        return magics.contains(UInt32(bigEndian: magic))
    }
}
