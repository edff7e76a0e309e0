import Capture
import Platform
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How `read` splits its inputs into chains: files that continue one another (rotated captures
/// of one link: `tcpdump -G`, `-C`) go through one engine in time order, so a flow or a scan
/// that crosses a file boundary comes out as from the concatenated capture; independent files
/// are independent chains, which `read --jobs N` reads N at a time. The plan depends on the
/// files alone, never on the number of jobs, so every `--jobs` writes the same records.
///
/// The rule: the files are taken by their first packet's time (ties: the order given). A file
/// continues the chain whose last packet came latest but not after its first packet (a second
/// of overlap allowed, for capture timestamps a little out of order) and at most `maxGap`
/// before it, of the same link type; without one it starts a chain. Inputs that cannot be
/// summarised (standard input, an unreadable or empty file) are chains of their own, read and
/// reported as usual. Chains are written in the order of their first file among the inputs.
public enum CaptureChains {
    /// What the plan needs of one capture file: its link type and first and last packet times.
    public struct Summary: Sendable, Equatable {
        public var path: String
        public var linkType: Int32
        public var first: Int64
        public var last: Int64

        public init(path: String, linkType: Int32, first: Int64, last: Int64) {
            self.path = path
            self.linkType = linkType
            self.first = first
            self.last = last
        }
    }

    /// Capture timestamps can run a little backwards (several capture queues): a file may
    /// start this much before its predecessor's last packet and still continue it.
    public static let overlap: Int64 = 1_000_000_000

    /// The chains, as lists of indices into the inputs whose `summaries` are given (nil: not
    /// summarised), in writing order; each chain's files in reading order.
    public static func plan(_ summaries: [Summary?], maxGap: Int64) -> [[Int]] {
        var chains: [(files: [Int], linkType: Int32, last: Int64)] = []
        var alone: [[Int]] = []
        let ordered = summaries.indices.compactMap { index in summaries[index].map { (index, $0) } }
            .sorted { ($0.1.first, $0.0) < ($1.1.first, $1.0) }
        for (index, summary) in ordered {
            var best: Int?
            for (number, chain) in chains.enumerated() where chain.linkType == summary.linkType
                && chain.last - overlap <= summary.first && summary.first - chain.last <= maxGap {
                if best == nil || chain.last > chains[best!].last { best = number }
            }
            if let best {
                chains[best].files.append(index)
                chains[best].last = max(chains[best].last, summary.last)
            } else {
                chains.append(([index], summary.linkType, summary.last))
            }
        }
        for index in summaries.indices where summaries[index] == nil { alone.append([index]) }
        return (chains.map(\.files) + alone).sorted { $0.min()! < $1.min()! }
    }

    /// The summary of the capture at `path`; nil for standard input, a file that cannot be
    /// read, or one with no packet. A classic pcap file's record headers are walked in place
    /// (`walk`); anything else, or a pcap file the walk cannot follow to its end, is read
    /// through libpcap.
    public static func summarize(_ path: String) -> Summary? {
        guard path != "-" else { return nil }
        return walk(path) ?? readThroughLibpcap(path)
    }

    /// The summary from every packet libpcap reads of the file.
    static func readThroughLibpcap(_ path: String) -> Summary? {
        guard let capture = try? OfflineCapture(path: path) else { return nil }
        guard let firstRecord = capture.next() else { return nil }
        var first = firstRecord.timestamp, last = first
        while let record = capture.next() {
            let time = record.timestamp
            if time < first { first = time }
            if time > last { last = time }
        }
        return Summary(path: path, linkType: capture.linkType.rawValue, first: first, last: last)
    }

    /// A classic pcap file's summary from its record headers alone, read a mebibyte at a time
    /// and each header taken where the previous record ends; nil when it is not one, or when a
    /// header makes no sense (a cut or damaged file: libpcap then reads it, and `read` reports
    /// it). Ours, not libpcap's: libpcap hands over every packet to reach the next header, and
    /// this plan reads every file before any is analysed, where libpcap's pass cost a third of
    /// `read`'s own time. Tested against libpcap's reading of the same files (CaptureChainsTests).
    static func walk(_ path: String) -> Summary? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size >= 24 + 16 else { return nil }
        let size = Int64(info.st_size)
        let window = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
        defer { window.deallocate() }
        var windowStart: Int64 = 0, windowCount = 0
        /// `count` bytes at `offset` in the window, read there first when they are not.
        func bytes(at offset: Int64, count: Int) -> UnsafeRawBufferPointer? {
            if offset < windowStart || offset + Int64(count) > windowStart + Int64(windowCount) {
                var got = 0
                while got < window.count {
                    let n = pread(fd, window.baseAddress! + got, window.count - got, off_t(offset) + off_t(got))
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { break }
                    got += n
                }
                windowStart = offset
                windowCount = got
                guard count <= got else { return nil }
            }
            let from = Int(offset - windowStart)
            return UnsafeRawBufferPointer(rebasing: window[from..<(from + count)])
        }
        guard let header = bytes(at: 0, count: 24) else { return nil }
        let swapped: Bool, nanoseconds: Bool
        switch header.loadUnaligned(as: UInt32.self) {
        case 0xA1B2_C3D4: (swapped, nanoseconds) = (false, false)
        case 0xD4C3_B2A1: (swapped, nanoseconds) = (true, false)
        case 0xA1B2_3C4D: (swapped, nanoseconds) = (false, true)
        case 0x4D3C_B2A1: (swapped, nanoseconds) = (true, true)
        default: return nil
        }
        func word(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
            let value = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
            return swapped ? value.byteSwapped : value
        }
        // Version 2.0 to 2.4, as libpcap accepts; Ethernet only, whose libpcap DLT value is the
        // file's link type; others go to libpcap.
        let version = word(header, 4)
        let (major, minor) = swapped ? (version >> 16, version & 0xFFFF) : (version & 0xFFFF, version >> 16)
        guard major == 2, minor <= 4, word(header, 20) & 0x0FFF_FFFF == 1 else { return nil }
        let unit: Int64 = nanoseconds ? 1 : 1_000
        var offset: Int64 = 24
        var first = Int64.max, last = Int64.min
        while offset < size {
            guard offset + 16 <= size, let record = bytes(at: offset, count: 16) else { return nil }
            let caplen = Int64(word(record, 8))
            let fraction = Int64(word(record, 4))
            guard caplen <= 262_144, offset + 16 + caplen <= size, fraction * unit < 1_000_000_000 else { return nil }
            let time = Int64(word(record, 0)) * 1_000_000_000 + fraction * unit
            first = min(first, time)
            last = max(last, time)
            offset += 16 + caplen
        }
        guard first <= last else { return nil }
        return Summary(path: path, linkType: 1, first: first, last: last)
    }

    /// The summaries of `paths`, `jobs` files at a time; a single input needs none (nil).
    public static func summarize(_ paths: [String], jobs: Int) -> [Summary?] {
        guard paths.count > 1 else { return paths.map { _ in nil } }
        final class Work: Sendable {
            let results: Mutex<[Summary?]>
            let next = Atomic<Int>(0)
            init(count: Int) { results = Mutex([Summary?](repeating: nil, count: count)) }
        }
        let shared = Work(count: paths.count)
        let work: @Sendable () -> Void = {
            while true {
                let index = shared.next.add(1, ordering: .relaxed).oldValue
                guard index < paths.count else { return }
                let summary = summarize(paths[index])
                shared.results.withLock { $0[index] = summary }
            }
        }
        let threads = (1..<max(1, min(jobs, paths.count))).map { _ in JoinableThread(work) }
        work()
        for thread in threads { thread.join() }
        return shared.results.withLock { $0 }
    }
}
