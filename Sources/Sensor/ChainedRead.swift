import Detect
import Flow
import Output
import Platform
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// `read`'s chains (`CaptureChains`) through engines of their own, `jobs` at a time, into one
/// output in the chains' order, as if read one after the other: chain k's records follow chain
/// k-1's whole. A chain starting when every chain before it is written writes straight to the
/// output (with one job, all do: nothing is copied); any other writes to an unlinked temporary
/// file (in `$TMPDIR`, else /tmp) that is copied to the output once its turn comes. The engines'
/// counts are added into one final stats record.
public enum ChainedRead {
    /// What the chains did, together.
    public struct Outcome: Sendable {
        public var pipeline = OfflinePipeline.Outcome()
        /// Every engine's counts, added (the output's counts are the caller's records').
        public var statistics = SensorStats()
        /// Watched flows by client, all engines together (empty unless counted).
        public var clients: [IPAddress: UInt64] = [:]
        /// The latest packet time of any chain (the final stats record's time).
        public var lastTimestamp: Int64 = 0
        /// Records lost writing or copying a temporary file, with the last error.
        public var spillLost: UInt64 = 0
        public var spillError: String?
        /// The last chain's engine, for the caller to keep to the process's end (freeing a
        /// flood's flow table only delays the exit); the others are freed as their chains end,
        /// so chains read ahead of the output hold no engine.
        public var lastEngine: EngineBox?
    }

    /// An engine handed from the thread that ran it to the caller's, once that thread is done with it.
    public final class EngineBox: @unchecked Sendable {
        public let engine: Engine
        init(_ engine: Engine) { self.engine = engine }
    }

    /// Makes chain `index`'s engine, its records written to `output` (on the thread that reads it).
    public typealias EngineMaker = @Sendable (_ index: Int, _ output: EVEOutput) -> Engine

    /// Reads `chains` (each a list of inputs, in reading order) `jobs` at a time, writing to
    /// `output` through the engines `makeEngine` makes. `progress` gets the inputs' total.
    public static func run(chains: [[String]], jobs: Int, output: EVEOutput, makeEngine: @escaping EngineMaker, signals: SignalWatcher?, filter: String?,
                           progress: (@Sendable (OfflinePipeline.Progress) -> Void)?) -> Outcome {
        let state = State(chains: chains, output: output, progress: progress)
        let worker: @Sendable () -> Void = {
            while let (index, direct) = state.nextChain() {
                let result = read(chain: index, inputs: chains[index], direct: direct, keepsEngine: index == chains.count - 1, state: state,
                                  makeEngine: makeEngine, signals: signals, filter: filter)
                state.finished(index, result)
            }
        }
        let threads = (0..<max(1, min(jobs, chains.count))).map { _ in JoinableThread(worker) }
        var outcome = Outcome()
        for index in chains.indices {
            let result = state.take(index)
            if index == chains.count - 1 { outcome.lastEngine = result.engine }
            if let spill = result.spill {
                copy(spill, to: output, outcome: &outcome)
                close(spill)
                state.written(index)
            }
            outcome.pipeline.problems += result.pipeline.problems
            outcome.pipeline.packets &+= result.pipeline.packets
            outcome.pipeline.ringWaits += result.pipeline.ringWaits
            outcome.pipeline.filesRead += result.pipeline.filesRead
            outcome.pipeline.interrupted = outcome.pipeline.interrupted || result.pipeline.interrupted
            outcome.statistics.add(result.statistics)
            outcome.clients.merge(result.clients) { $0 &+ $1 }
            outcome.lastTimestamp = max(outcome.lastTimestamp, result.lastTimestamp)
            outcome.spillLost &+= result.spillLost
            if let error = result.spillError { outcome.spillError = error }
        }
        for thread in threads { thread.join() }
        return outcome
    }

    /// One chain's end.
    struct Result: Sendable {
        var pipeline: OfflinePipeline.Outcome
        var statistics: SensorStats
        var clients: [IPAddress: UInt64]
        var lastTimestamp: Int64
        var engine: EngineBox?
        /// The temporary file holding its records, nil when they went straight to the output.
        var spill: Int32?
        var spillLost: UInt64 = 0
        var spillError: String?
    }

    private static func read(chain index: Int, inputs: [String], direct: Bool, keepsEngine: Bool, state: State, makeEngine: EngineMaker, signals: SignalWatcher?, filter: String?) -> Result {
        var spill: Int32?
        var spillError: String?
        let output: EVEOutput
        if direct {
            output = state.output.value
        } else {
            switch temporaryFile() {
            case .success(let fd): spill = fd
            case .failure(let reason): spillError = reason
            }
            output = EVEOutput(fd: spill ?? -1)
        }
        let engine = makeEngine(index, output)
        var draw: (@Sendable (OfflinePipeline.Progress) -> Void)?
        if state.reportsProgress { draw = { state.progress(index, $0) } }
        let pipeline = OfflinePipeline.run(inputs: inputs, engine: engine, signals: signals, filter: filter, progress: draw)
        engine.finish(writesStats: false)
        var clients: [IPAddress: UInt64] = [:]
        engine.watchedFlowsByClient.forEach { clients[$0] = $1 }
        var statistics = engine.statistics
        statistics.output = OutputCounters()  // the caller's records count the output
        var result = Result(pipeline: pipeline, statistics: statistics, clients: clients, lastTimestamp: engine.lastTimestamp,
                            engine: keepsEngine ? EngineBox(engine) : nil, spill: spill, spillError: spillError)
        if !direct {
            // Records that never reached the temporary file: none was made, or writing it failed.
            result.spillLost = spill == nil ? output.records : output.lost
            if let error = output.lastError { result.spillError = error.description }
        }
        return result
    }

    /// Copies a temporary file's records to `output`, whole lines only.
    private static func copy(_ fd: Int32, to output: EVEOutput, outcome: inout Outcome) {
        var offset: off_t = 0
        var carried: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { chunk.deallocate() }
        while true {
            let count = pread(fd, chunk.baseAddress, chunk.count, offset)
            if count < 0 && errno == EINTR { continue }
            if count < 0 {
                outcome.spillError = "reading a temporary file: \(String(cString: strerror(errno)))"
                break
            }
            if count == 0 { break }
            offset += off_t(count)
            let bytes = UnsafeRawBufferPointer(rebasing: chunk[0..<count])
            guard let lastNewline = bytes.lastIndex(of: 0x0A) else {
                carried.append(contentsOf: bytes)
                continue
            }
            if carried.isEmpty {
                output.append(lines: UnsafeRawBufferPointer(rebasing: bytes[...lastNewline]))
            } else {
                carried.append(contentsOf: bytes[...lastNewline])
                carried.withUnsafeBytes { output.append(lines: $0) }
                carried.removeAll(keepingCapacity: true)
            }
            carried.append(contentsOf: bytes[(lastNewline + 1)...])
        }
        // Whatever is left is not a whole line (a write cut short): it is not a record.
    }

    private enum Temporary { case success(Int32), failure(String) }

    private static func temporaryFile() -> Temporary {
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/ghostport-read.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return .failure("\(directory): \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return .success(fd)
    }

    /// What the chains' threads and the writing thread share, under `monitor`.
    final class State: @unchecked Sendable {
        // @unchecked: every `var` is used under `monitor`. `output` is used by one thread at a
        // time, handed over under it: by the chain writing straight to it while it runs, by the
        // caller's thread between chains.
        struct Box: @unchecked Sendable { let value: EVEOutput }
        let output: Box
        private let monitor = Monitor()
        private var next = 0
        /// Chains whose records are all in the output.
        private var written = 0
        private var results: [Result?]
        /// Each chain's latest progress; a chain read counts its whole size.
        private var progressByChain: [OfflinePipeline.Progress?]
        private let sizes: [Int64?]
        private let totalBytes: Int64?
        private let started = ContinuousClock.now
        private let report: (@Sendable (OfflinePipeline.Progress) -> Void)?

        init(chains: [[String]], output: EVEOutput, progress: (@Sendable (OfflinePipeline.Progress) -> Void)?) {
            self.output = Box(value: output)
            let sizes = chains.map { inputs in
                inputs.reduce(Int64(0) as Int64?) { total, path in
                    guard let total, let size = OfflinePipeline.fileSize(path) else { return nil }
                    return total + size
                }
            }
            self.sizes = sizes
            totalBytes = sizes.contains(nil) ? nil : sizes.reduce(0) { $0 + $1! }
            results = [Result?](repeating: nil, count: chains.count)
            progressByChain = [OfflinePipeline.Progress?](repeating: nil, count: chains.count)
            report = progress
        }

        var reportsProgress: Bool { report != nil }

        /// The next chain to read and whether it writes straight to the output; nil when all are taken.
        func nextChain() -> (Int, Bool)? {
            monitor.locked {
                guard next < results.count else { return nil }
                next += 1
                return (next - 1, written == next - 1)
            }
        }

        func finished(_ index: Int, _ result: Result) {
            monitor.locked {
                results[index] = result
                if result.spill == nil && written == index { written = index + 1 }
                if report != nil {
                    var done = progressByChain[index] ?? OfflinePipeline.Progress(bytesRead: 0, bytesTotal: nil, packets: 0,
                                                                                  alerts: 0, elapsed: .zero)
                    done.bytesRead = sizes[index] ?? done.bytesRead
                    done.packets = result.pipeline.packets
                    done.alerts = result.statistics.engine.alerts
                    progressByChain[index] = done
                }
                monitor.broadcast()
            }
        }

        /// The caller's thread copied chain `index`'s records to the output.
        func written(_ index: Int) {
            monitor.locked { written = index + 1 }
        }

        /// Chain `index`'s result once it is read.
        func take(_ index: Int) -> Result {
            monitor.locked {
                while results[index] == nil { monitor.wait() }
                return results[index]!
            }
        }

        /// A chain's pipeline reports: the sum of all is drawn, one drawing at a time.
        func progress(_ index: Int, _ progress: OfflinePipeline.Progress) {
            guard let report else { return }
            monitor.locked {
                progressByChain[index] = progress
                var total = OfflinePipeline.Progress(bytesRead: 0, bytesTotal: totalBytes, packets: 0, alerts: 0,
                                                     elapsed: ContinuousClock.now - started)
                for chain in progressByChain.compactMap({ $0 }) {
                    total.bytesRead += chain.bytesRead
                    total.packets &+= chain.packets
                    total.alerts &+= chain.alerts
                }
                report(total)
            }
        }
    }
}
