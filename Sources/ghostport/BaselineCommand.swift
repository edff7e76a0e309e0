import ArgumentParser
import Baseline
import Capture
import Detect
import Output
import Platform
import Rules
import Sensor
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// `ghostport baseline`: the listeners seen answering on watched ports, learned from captures
/// (or by `run`), shown, compared.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Learn which listeners answer on abandoned ports here; show and compare baselines.",
        discussion: """
            A baseline is a text file, one listener a line (address, port/proto, first and last seen, \
            flows, clients, # comment), that an operator can read, diff and edit. `read --baseline \
            FILE` and `run` (baseline.file) judge every answer on a watched port by it: a listener in \
            it is known (severity 3, or silent), any other is new (signature 8999004, severity 1).
            """,
        subcommands: [BaselineLearn.self, BaselineShow.self, BaselineDiff.self, BaselineSuggest.self]
    )
}

extension BaselinePolicy.Known: ExpressibleByArgument {}

/// `ghostport baseline learn --output FILE CAPTURE...`
struct BaselineLearn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Learn the listeners that answered on watched ports in capture files.",
        discussion: """
            Reads the captures as `read` does (the same rules, flows and verdicts) and adds each \
            listener that answered (server address, port, protocol) to FILE, with first and last \
            seen, answered flows and distinct clients. An existing FILE is learned onto: its lines, \
            comments included, are kept and their figures updated. Written atomically.
            """
    )

    @OptionGroup var ruleOptions: RuleOptions

    @Option(name: .shortAndLong, help: "The baseline file to write (learned onto when it exists).")
    var output: String

    @Option(help: "The most listeners the baseline holds; past it, listeners are counted as refused, not learned.")
    var maxListeners = ListenerBaseline.defaultCapacity

    @OptionGroup var captures: CaptureFiles

    func validate() throws {
        if maxListeners < 1 { throw ValidationError("--max-listeners must be at least 1") }
    }

    func run() throws {
        let baseline = try loadBaseline(output, capacity: maxListeners, missingIsEmpty: true)
        let before = baseline.count
        var configuration = EngineConfiguration()
        configuration.flowHashSeed = 0x6768_6F73_7470_6F72
        configuration.baseline = BaselinePolicy(known: .alert, learnUntil: .max)
        let ruleSet = try ruleOptions.load()
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let engine = Engine(rules: ruleSet, configuration: configuration,
                            records: EVERecords(output: EVEOutput(fd: null), settings: RecordSettings(), evidence: nil))
        engine.baseline = baseline
        var status: Int32 = 0
        let inputs = CaptureInputs.expandReporting(captures.files, recursive: captures.recursive, status: &status)
        let outcome = OfflinePipeline.run(inputs: inputs.map(\.path), engine: engine)
        engine.finish()
        for problem in outcome.problems {
            warn(problem)
            status = max(status, 1)
        }
        do {
            try BaselineFile.write(baseline, to: output)
        } catch {
            warn(error.description)
            throw ExitCode(2)
        }
        let answered = engine.statistics.engine.verdicts[Int(Verdict.answered.rawValue)]
        var summary = "\(output): \(baseline.count) listeners (\(baseline.count - before) new) from \(answered) answered flows "
            + "in \(outcome.packets) packets"
        if baseline.refused > 0 { summary += "; \(baseline.refused) answers from listeners not learned: the baseline is full (--max-listeners \(maxListeners))" }
        warn(summary)
        ProcessLifetime.keep(engine)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `ghostport baseline show FILE`
struct BaselineShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a baseline as a table: listener, service, first and last seen, flows, clients."
    )

    @OptionGroup var ruleOptions: RuleOptions

    @Argument(help: "The baseline file.")
    var file: String

    func run() throws {
        let baseline = try loadBaseline(file)
        let services = try? Watchlist(rules: ruleOptions.load())
        var rows = [["LISTENER", "SERVICE", "FIRST SEEN", "LAST SEEN", "FLOWS", "CLIENTS", "COMMENT"]]
        for key in baseline.entries.keys.sorted() {
            let entry = baseline.entries[key]!
            let address = key.address.isIPv6 ? "[\(key.address)]" : "\(key.address)"
            rows.append(["\(address):\(key.port)/\(ListenerKey.protocolName(key.proto) ?? "?")",
                         services?.service(port: key.port, proto: key.proto) ?? "-",
                         entry.firstSeen.map(UTCTime.format) ?? "-", entry.lastSeen.map(UTCTime.format) ?? "-",
                         "\(entry.flows)", "\(entry.clients)", entry.comment ?? ""])
        }
        var text = "\(file): \(baseline.count) listener\(baseline.count == 1 ? "" : "s")"
            + (baseline.since.map { ", learning since \(UTCTime.format($0))" } ?? "") + "\n"
        text += Self.table(rows, rightAligned: [4, 5])
        print(text, terminator: "")
    }
}

extension BaselineShow {
    /// Rows as columns two spaces apart, `rightAligned` columns (numbers) flush right; the last
    /// column is not padded.
    static func table(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                if rightAligned.contains(column) { return pad + cell }
                return column == row.count - 1 ? cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }.joined()
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// `ghostport baseline diff OLD NEW`
struct BaselineDiff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Listeners that appeared, went away or went silent between two baselines.",
        discussion: """
            One line each: `+ LISTENER` appeared in NEW; `- LISTENER` is in OLD only; `= LISTENER \
            silent since TIME` is in both but answered nothing after OLD was written while others \
            did (its last seen did not move, NEW's latest did). Exit status 0 when nothing differs, 1 when something does, 2 on error, as diff(1).
            """
    )

    @Argument(help: "The older baseline.")
    var old: String

    @Argument(help: "The newer baseline.")
    var new: String

    func run() throws {
        let before = try loadBaseline(old), after = try loadBaseline(new)
        // Silence needs time to pass: only when NEW saw answers after OLD's last one.
        func latest(_ baseline: ListenerBaseline) -> Int64 { baseline.entries.values.compactMap(\.lastSeen).max() ?? .min }
        let timePassed = latest(after) > latest(before)
        var lines: [String] = []
        for key in Set(before.entries.keys).union(after.entries.keys).sorted() {
            switch (before.entries[key], after.entries[key]) {
            case (nil, let added?):
                lines.append("+ \(key)" + (added.firstSeen.map { " first seen \(UTCTime.format($0))" } ?? "")
                             + " \(added.flows) flows \(added.clients) clients")
            case (let gone?, nil):
                lines.append("- \(key)" + (gone.lastSeen.map { " last seen \(UTCTime.format($0))" } ?? ""))
            case (let was?, let now?) where timePassed && now.lastSeen == was.lastSeen:
                lines.append("= \(key) silent since \(now.lastSeen.map(UTCTime.format) ?? "-")")
            default:
                continue
            }
        }
        print(lines.map { $0 + "\n" }.joined(), terminator: "")
        if !lines.isEmpty { throw ExitCode(1) }
    }
}

/// `ghostport baseline suggest CAPTURE...`
struct BaselineSuggest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "Rules for this network's own dead ports: probed here, never answered, outside the registry.",
        discussion: """
            Reads capture files (a day of `tcpdump -w` rotations, say: the live sensor's kernel \
            filter keeps unwatched ports out, so its baseline holds no probes of them) and prints, \
            in the shipped rules' format, the rules for each port outside the loaded rules that at \
            least --min-sources distinct sources probed and that never answered (TCP: no SYN-ACK or \
            other segment with ACK from it; UDP: no datagram from it to a higher port). Ports where \
            --baseline FILE has a listener are left out. Save the output as rules/local.rules and \
            check it with `ghostport rules check`.
            """
    )

    @OptionGroup var ruleOptions: RuleOptions

    @Option(help: ArgumentHelp("A baseline whose listeners' ports are never suggested.", valueName: "file"))
    var baseline: String?

    @Option(help: "Distinct sources that must have probed a port (default 3).")
    var minSources = 3

    @Option(help: "The most ports suggested, most sources first (default 20).")
    var top = 20

    @OptionGroup var captures: CaptureFiles

    func validate() throws {
        if minSources < 1 { throw ValidationError("--min-sources must be at least 1") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let watchlist = Watchlist(rules: try ruleOptions.load())
        let listening = Set(try baseline.map { try loadBaseline($0).entries.keys.map { ListenerPort(port: $0.port, proto: $0.proto) } } ?? [])
        var survey = ProbeSurvey()
        var packet = DecodedPacket()
        var status: Int32 = 0
        var first: Int64?, last: Int64?
        for input in CaptureInputs.expandReporting(captures.files, recursive: captures.recursive, status: &status) {
            let capture: OfflineCapture
            do {
                capture = try OfflineCapture(path: input.path)
            } catch {
                warn(error.description)
                status = max(status, 1)
                continue
            }
            while let record = capture.next() {
                Decoder.decode(record.bytes, linkType: capture.linkType, into: &packet)
                survey.observe(packet)
                first = min(first ?? record.seconds, record.seconds)
                last = max(last ?? record.seconds, record.seconds)
            }
            if case .truncated = capture.end { warn("\(input.path): truncated after packet \(capture.packetsRead)") }
        }
        let probed = survey.ports
        let candidates = probed.filter { port in
            !port.answered && port.sources >= minSources && !watchlist.isWatched(port: port.port, proto: port.proto)
                && !listening.contains(ListenerPort(port: port.port, proto: port.proto))
        }
        let span = first.map { "\(UTCTime.format($0)) to \(UTCTime.format(last ?? $0))" } ?? "no packets"
        var text = """
            # ghostport local rules: ports outside the registry probed here and never answered,
            # from \(captures.files.joined(separator: " ")) (\(span)), by ghostport baseline suggest.
            # Review, then save as rules/local.rules; sids follow the registry's (9000000 + port*10 + kind).

            """
        for port in candidates.prefix(top) {
            guard let proto = RegistryProtocol(rawValue: ListenerKey.protocolName(port.proto) ?? "") else { continue }
            let entry = RegistryEntry(port: port.port, proto: proto, service: "local", status: .curated, nmapFrequency: nil,
                                      description: "probed by \(port.sources) sources, never answered here",
                                      note: "")
            text += "\n# \(port.port)/\(proto.rawValue): \(port.sources) sources, \(port.probes) probes, never answered\n"
            text += RuleGenerator.rules(for: entry).joined(separator: "\n") + "\n"
        }
        print(text, terminator: "")
        let more = candidates.count > top ? " (the first \(top) printed; --top for more)" : ""
        warn("\(survey.packets) packets, \(probed.count) ports probed, \(probed.filter(\.answered).count) of them answered; "
             + "\(candidates.count) outside the rules with \(minSources)+ sources and no answer\(more)")
        if status != 0 { throw ExitCode(status) }
    }

    struct ListenerPort: Hashable {
        var port: UInt16
        var proto: UInt8
    }
}

/// The capture files a baseline command reads.
struct CaptureFiles: ParsableArguments {
    @Flag(help: "Read the capture files in sub-directories too.")
    var recursive = false

    @Argument(help: "Capture files or directories.")
    var files: [String] = []

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one capture file or directory") }
    }
}

/// A baseline file, or its errors on standard error (`FILE:LINE: reason`) and exit status 2.
func loadBaseline(_ path: String, capacity: Int = ListenerBaseline.defaultCapacity, missingIsEmpty: Bool = false) throws -> ListenerBaseline {
    switch BaselineFile.load(path, capacity: capacity, missingIsEmpty: missingIsEmpty) {
    case .success(let baseline):
        return baseline
    case .failure(let errors):
        for message in errors.messages { warn(message) }
        throw ExitCode(2)
    }
}
