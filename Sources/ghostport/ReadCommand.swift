import ArgumentParser
import Baseline
import Capture
import Config
import CSensor
import Detect
import Output
import Platform
import Report
import Rules
import Sensor
import Wire

#if canImport(Glibc)
import Glibc
#endif

struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Analyse capture files: flows, verdicts and EVE alerts for abandoned ports.",
        discussion: """
            Reads .pcap and .pcapng files (a directory: its capture files sorted by name; - reads \
            standard input) with the shipped rules unless --rules is given, and writes EVE JSON \
            lines (alert, flow, stats) to standard output or, appending, to --output; with --redis to \
            Redis instead (and to --output too when given). Exit status: \
            0 on success, 1 when some input could not be read (the rest are still processed), 2 for \
            usage or rule errors. SIGTERM, SIGINT or SIGHUP stop the reading: the flows and the \
            final stats of what was read are written, every line whole, and the status is 128 plus \
            the signal's number (143 for SIGTERM, 130 for SIGINT), as if the signal had ended it.
            """
    )

    @OptionGroup var ruleOptions: RuleOptions

    @Option(name: .shortAndLong, help: "Append EVE records to this file instead of standard output ('-': standard output).")
    var output: String?

    @Option(name: [.customShort("r"), .customLong("read")],
            help: ArgumentHelp("A capture file or directory to read, as tcpdump's and Suricata's -r (repeatable).",
                               valueName: "file"))
    var readFiles: [String] = []

    @OptionGroup var engineOptions: EngineOptions

    @Flag(inversion: .prefixedNo, help: "A progress bar on standard error when it is a terminal.")
    var progress = true

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "A sensor's YAML configuration to reuse: its rules, variables, threshold file, flow, scan and decoder settings, and its capture filter.",
        discussion: "Options given here override it. Its alert limits are not used (read writes every alert unless --alert-limit-* says otherwise), nor its outputs."))
    var config: String?

    @Option(help: "Read only the packets this BPF expression (tcpdump's syntax) keeps, as tcpdump -r FILE EXPR.")
    var bpf: String?

    @Flag(name: .shortAndLong, help: "No summary table on standard error.")
    var quiet = false

    @Flag(help: "Read the capture files in sub-directories too.")
    var recursive = false

    @Option(help: ArgumentHelp(
        "A listener baseline (ghostport baseline learn) to judge answers by.",
        discussion: "An answer on a watched port from a listener in it alerts as known (severity 3); from any other as a new listener (signature 8999004, severity 1). Without it alerts carry no listener.",
        valueName: "file"))
    var baseline: String?

    @Option(help: "What a known listener's answer becomes with --baseline: alert (severity 3) or silent (no alert; its flow record stays).")
    var baselineKnown: BaselinePolicy.Known = .alert

    @Option(help: ArgumentHelp("Also write the HTML page of ghostport report for the records of this read.", valueName: "file"))
    var report: String?

    @OptionGroup(title: "Report")
    var reportOptions: ReportOptions

    @OptionGroup(title: "Redis")
    var redisOptions: RedisOptions

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Read this many independent captures at once (default: the CPUs this process may use).",
        discussion: "Captures that continue one another (rotated files of one link: by first and last packet time and link type) are read in time order through one engine, so flows and scans crossing files are as in one capture; independent ones each through their own, and the records are written chain after chain, in the order the first file of each was given. Every --jobs writes the same records; with --evidence, one at a time."))
    var jobs: Int?

    @Argument(help: "Capture files or directories; - for standard input.")
    var files: [String] = []

    func validate() throws {
        if files.isEmpty && readFiles.isEmpty { throw ValidationError("name at least one capture file, directory or -") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        // SIGHUP too: a read whose terminal went away stops as cleanly as one asked to.
        let signals = SignalWatcher(stopOn: [SIGINT, SIGTERM, SIGHUP], watchesHangups: false, watchesStatsRequests: false)
        SignalWatcher.unblock([SIGUSR1])
        var ruleOptions = self.ruleOptions
        var configuration = engineOptions.configuration()
        var recordSettings = engineOptions.recordSettings()
        var filter = bpf
        if let config {
            // A sensor's settings, with this command line's on top.
            let (settings, errors) = SensorConfig.check(path: config)
            for error in errors { warn(error.description) }
            if !errors.isEmpty { throw ExitCode(2) }
            if ruleOptions.paths.isEmpty { ruleOptions.paths = settings.rules.paths }
            ruleOptions.variables = settings.rules.variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                + ruleOptions.variables
            if settings.rules.strict { ruleOptions.strict = true }
            if ruleOptions.thresholdFile == nil { ruleOptions.thresholdFile = settings.detect.thresholdFile }
            configuration = settings.engineConfiguration()
            configuration.alertLimits = EngineConfiguration().alertLimits
            engineOptions.apply(to: &configuration)
            recordSettings = settings.recordSettings()
            recordSettings.interface = nil  // read's records carry pcap_filename, not an interface
            engineOptions.apply(to: &recordSettings)
            if filter == nil { filter = settings.capture.bpf }
        }
        if let filter {
            do {
                _ = try BPFProgram.compile(filter, linkType: .ethernet)
            } catch {
                warn(error.reason)
                throw ExitCode(2)
            }
        }
        ruleOptions.warnWritableByOthers()
        let (ruleSet, rulesFailed) = try ruleOptions.loadCounting()
        configuration.flowHashSeed = 0x6768_6F73_7470_6F72  // the same capture gives the same output
        configuration.countsClients = !quiet  // for the summary's top clients
        let listeners = Handed(try baseline.map { try loadBaseline($0) })
        configuration.baseline = BaselinePolicy(known: baselineKnown, learnUntil: nil)

        // Offline nothing may be lost to a slow server: the read waits for room in the queue while
        // Redis is connected (records are lost, and counted, only while it is away).
        var redisSettings = try redisOptions.settings()
        redisSettings?.waitsWhenFull = true

        var status: Int32 = 0
        let inputs = CaptureInputs.expandReporting(readFiles + files, recursive: recursive, status: &status)

        let fd: Int32
        if let output, output != "-" {
            fd = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                warn("\(output): \(String(cString: strerror(errno)))")
                throw ExitCode(2)
            }
        } else {
            // With Redis and no --output, the records go to Redis only.
            fd = redisSettings != nil && output == nil ? -1 : STDOUT_FILENO
        }
        defer { if fd >= 0 && fd != STDOUT_FILENO { close(fd) } }

        let evidenceWriter = try EngineOptions.openEvidence(engineOptions.evidence, maxFiles: engineOptions.evidenceMaxFiles,
                                                            maxMiB: engineOptions.evidenceMaxMib)
        let sink = EVEOutput(fd: fd)
        let reportBuilder = report.map { _ in ReportBuilder(data: reportOptions.data()) }
        if let reportBuilder { sink.tap = { reportBuilder.feed($0, input: "read") } }
        let records = EVERecords(output: sink, settings: recordSettings, evidence: evidenceWriter)
        let redis = try redisSettings.map {
            try RedisOptions.start($0, mustConnect: true, sink: sink, records: records, log: { warn($0) })
        }

        // Files that continue one another go through one engine; independent ones are read
        // --jobs at a time (one evidence directory is one writer's: with --evidence, one at a time).
        let paths = inputs.map(\.path)
        let jobs = evidenceWriter == nil ? self.jobs ?? Int(gp_usable_cpus()) : 1
        let chains = CaptureChains.plan(CaptureChains.summarize(paths, jobs: jobs), maxGap: configuration.timeouts.longest * 1_000_000_000)
            .map { $0.map { paths[$0] } }
        let evidence = Handed(evidenceWriter)
        let settings = recordSettings, rules = ruleSet, engineConfiguration = configuration, baselinePath = baseline
        let failed = UInt64(rulesFailed)
        let bar = progress && isatty(STDERR_FILENO) == 1 ? ProgressBar() : nil
        var draw: (@Sendable (OfflinePipeline.Progress) -> Void)?
        if let bar { draw = { bar.draw($0) } }
        let outcome = ChainedRead.run(
            chains: chains, jobs: jobs, output: sink,
            makeEngine: { index, output in
                let records = EVERecords(output: output, settings: settings, evidence: evidence.value)
                let engine = Engine(rules: rules, configuration: engineConfiguration, records: records)
                engine.log = { warn($0) }
                engine.baseline = index == 0 ? listeners.value : baselinePath.flatMap { try? loadBaseline($0) }
                engine.rulesFailed = failed
                return engine
            },
            signals: signals, filter: filter, progress: draw)
        bar?.finish()
        var statistics = outcome.statistics
        statistics.output = records.counters
        statistics.output.lost &+= outcome.spillLost
        records.stats(statistics, timestamp: outcome.lastTimestamp)
        records.flush()
        for problem in outcome.pipeline.problems {
            warn(problem)
            status = max(status, 1)
        }
        if let error = outcome.spillError {
            warn("a temporary file of --jobs: \(outcome.spillLost) records lost: \(error)")
            status = max(status, 1)
        }
        if let error = sink.lastError {
            warn("\(output.flatMap { $0 == "-" ? nil : $0 } ?? "standard output"): \(sink.lost) records lost: \(error)")
            status = max(status, 1)
        }
        if let redis {
            let counts = redis.finish()
            if counts.lost > 0 || !quiet { warn(RedisOptions.summary(redis, counts)) }
            if counts.lost > 0 { status = max(status, 1) }
        }
        if let error = evidenceWriter?.lastError {
            warn("evidence: \(evidenceWriter?.errors ?? 0) packets not written, last: \(error)")
        }
        if let report, let reportBuilder {
            reportBuilder.finishFeeding(name: "ghostport read " + inputs.map(\.path).joined(separator: " "))
            if try ReportCommand.finish(reportBuilder, to: report, top: reportOptions.top) != 0 { status = max(status, 1) }
        }
        if !quiet {
            let clients = Engine.top(outcome.clients.map { (address: $0.key, flows: $0.value) }, 10)
            FileHandleStderr.write(ReadSummary(stats: statistics, topClients: clients,
                                               packets: outcome.pipeline.packets).text)
        }
        if let signal = signals.stopSignal {
            let place = outcome.pipeline.interrupted ? "stopped reading after \(outcome.pipeline.packets) packets" : "the input was read to its end"
            warn("\(signalName(signal)): \(place); the records written are complete")
            status = 128 + signal
        }
        // The process ends here: freeing the flow table and the per-source tables (a million
        // flows' worth after a flood) would only delay the exit.
        if let engine = outcome.lastEngine { ProcessLifetime.keep(engine) }
        if status != 0 { throw ExitCode(status) }
    }
}

/// A value the threads of `read --jobs` are handed, used by one of them at a time: the evidence
/// writer (with --evidence there is one job) and the baseline loaded at start (chain 0's engine
/// alone takes it; the others load their own).
final class Handed<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Objects left for the process's exit to reclaim rather than freed one by one.
enum ProcessLifetime {
    nonisolated(unsafe) private static var kept: [AnyObject] = []

    /// Call from the main thread only, at the end of a command.
    static func keep(_ object: AnyObject) { kept.append(object) }
}

/// What the engine does, shared by `read` and `run`.
struct EngineOptions: ParsableArguments {
    @Option(help: "Write the packets of each alerted flow (the match and up to 64 more) to pcap files here.")
    var evidence: String?

    @Option(help: "Keep at most this many evidence files, the oldest removed first (0: no bound; run's default 10000, read's none).")
    var evidenceMaxFiles: Int?

    @Option(help: "Keep at most this many MiB of evidence files, the oldest removed first (0: no bound; run's default 1024, read's none).")
    var evidenceMaxMib: Int?

    @Flag(help: "Alert on every matching packet (Suricata's behaviour) instead of once per flow and sid.")
    var perPacket = false

    @Flag(help: "Write an anomaly record for every decode event.")
    var anomalies = false

    @Option(help: "The sensor's name, as every record's host (Suricata's sensor-name; default: the config's sensor_name, else none).")
    var sensorName: String?

    @Option(help: "Community ID seed (default 0).")
    var communityIDSeed: UInt16?

    @Option(help: "Distinct watched ports from one source that make a scan (default 5).")
    var scanPorts: Int?

    @Option(help: "Distinct hosts contacted on watched ports by one source that make a scan (default 5).")
    var scanHosts: Int?

    @Option(help: "The scan window, in seconds (default 60).")
    var scanSeconds: Int?

    @Option(help: "Memory bound of the flow table, in MiB (default 256).")
    var flowMemory: Int?

    @Option(help: "Alerts from one source address per window; 0: no limit (read: none; run: the config's, 100).")
    var alertLimitPerSource: Int?

    @Option(help: "Alerts of one sid per window; 0: no limit (read: none; run: the config's, 1000).")
    var alertLimitPerSid: Int?

    @Option(help: "The alert limits' window, in seconds (default 60).")
    var alertLimitWindow: Int?

    @Option(help: "Flow records per watched port and protocol per flood window before flows that carried nothing and wrote no alert are folded into one aggregate record; 0: never fold (default 1000).")
    var floodPerPort: Int?

    @Option(help: "Flow records per flood window, all ports together, before the same folding (0: no sensor-wide budget; default 10000).")
    var floodSensorWide: Int?

    @Option(help: "The flood window, in seconds (default 60).")
    var floodWindow: Int?

    @OptionGroup(title: "Tunnels")
    var tunnels: TunnelOptions

    func validate() throws {
        for value in [floodPerPort, floodSensorWide] where (value ?? 0) < 0 {
            throw ValidationError("flood budgets cannot be negative (0: no budget)")
        }
        if let floodWindow, !(1...86_400).contains(floodWindow) {
            throw ValidationError("--flood-window must be between 1 and 86400 seconds")
        }
        for value in [scanPorts, scanHosts, scanSeconds] where (value ?? 1) < 1 {
            throw ValidationError("scan thresholds must be at least 1")
        }
        if (flowMemory ?? 1) < 1 { throw ValidationError("--flow-memory must be at least 1 MiB") }
        if let sensorName, let problem = RecordSettings.sensorNameProblem(sensorName) {
            throw ValidationError("--sensor-name \(problem)")
        }
        for value in [evidenceMaxFiles, evidenceMaxMib] where (value ?? 0) < 0 {
            throw ValidationError("evidence bounds cannot be negative (0: no bound)")
        }
        for value in [alertLimitPerSource, alertLimitPerSid] where (value ?? 0) < 0 {
            throw ValidationError("alert limits cannot be negative (0: no limit)")
        }
        if let alertLimitWindow, !(1...86_400).contains(alertLimitWindow) {
            throw ValidationError("--alert-limit-window must be between 1 and 86400 seconds")
        }
    }

    /// The defaults with what was given on the command line.
    func configuration() -> EngineConfiguration {
        var configuration = EngineConfiguration()
        apply(to: &configuration)
        return configuration
    }

    /// Sets what was given on the command line, leaving the rest (a config file's) alone.
    func apply(to configuration: inout EngineConfiguration) {
        if perPacket { configuration.perPacket = true }
        if anomalies { configuration.anomalies = true }
        if let scanPorts { configuration.scan.ports = scanPorts }
        if let scanHosts { configuration.scan.hosts = scanHosts }
        if let scanSeconds { configuration.scan.seconds = scanSeconds }
        if let flowMemory { configuration.flowMemoryBytes = flowMemory << 20 }
        if let alertLimitPerSource { configuration.alertLimits.perSource = alertLimitPerSource }
        if let alertLimitPerSid { configuration.alertLimits.perSid = alertLimitPerSid }
        if let alertLimitWindow { configuration.alertLimits.seconds = alertLimitWindow }
        if let floodPerPort { configuration.flood.perPort = floodPerPort == 0 ? .max : floodPerPort }
        if let floodSensorWide { configuration.flood.sensorWide = floodSensorWide == 0 ? .max : floodSensorWide }
        if let floodWindow { configuration.flood.seconds = floodWindow }
        tunnels.apply(to: &configuration.tunnelPorts)
    }

    /// How records are written: the defaults with what was given on the command line.
    func recordSettings() -> RecordSettings {
        var settings = RecordSettings()
        apply(to: &settings)
        return settings
    }

    /// Sets what was given on the command line, leaving the rest (a config file's) alone.
    func apply(to settings: inout RecordSettings) {
        if let communityIDSeed { settings.communityIDSeed = communityIDSeed }
        if let sensorName { settings.sensorName = sensorName }
    }

    /// The evidence directory's writer, created if missing; a path that cannot be one exits 2.
    /// `maxFiles` and `maxMiB` bound what it keeps (0 or nil: no bound).
    static func openEvidence(_ directory: String?, maxFiles: Int? = nil, maxMiB: Int? = nil) throws -> EvidenceWriter? {
        guard let directory else { return nil }
        do {
            return try EvidenceWriter(directory: directory, maxFiles: maxFiles.flatMap { $0 > 0 ? $0 : nil },
                                      maxBytes: maxMiB.flatMap { $0 > 0 ? Int64($0) << 20 : nil })
        } catch {
            warn("\(directory): \(error)")
            throw ExitCode(2)
        }
    }
}

/// `--rules`, `--var` and `--strict`, shared by the commands that load rules.
struct RuleOptions: ParsableArguments {
    @Option(name: .customLong("rules"), help: "Rules file or directory (repeatable); default: the shipped rules.")
    var paths: [String] = []

    @Option(name: .customLong("var"), help: "A rule variable, NAME=VALUE (repeatable), e.g. HOME_NET=[10.0.0.0/8].")
    var variables: [String] = []

    @Flag(help: "Refuse to run if any rule fails to load.")
    var strict = false

    @Option(name: .customLong("threshold-file"),
            help: "Suricata's threshold.config: suppress, threshold and event_filter entries applied to the rules.")
    var thresholdFile: String?

    func parsedVariables() throws -> [String: String] {
        var result: [String: String] = [:]
        for text in variables {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw ValidationError("--var takes NAME=VALUE, got '\(text)'")
            }
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return result
    }

    /// Loads and compiles the rules; every bad rule is reported as FILE:LINE:COLUMN: reason.
    func load() throws -> RuleSet {
        try loadCounting().ruleSet
    }

    /// As `load`, with the number of rules that failed to load (the stats record's `rules_failed`).
    func loadCounting() throws -> (ruleSet: RuleSet, failed: Int) {
        if paths.isEmpty && ShippedRules.found() == nil {
            warn(ShippedRules.notFound)
            throw ExitCode(2)
        }
        for path in resolvedPaths where FileSystem.kind(of: path) == .missing {
            warn("\(path): no such file or directory")
            throw ExitCode(2)
        }
        let (paths, ruleSet, classificationErrors, errors, notes) = try compile()
        for error in classificationErrors { warn(error.description) }
        for error in errors { warn(error.description) }
        for note in notes { warn(note) }
        if strict && !errors.isEmpty {
            warn("\(errors.count) rule error\(errors.count == 1 ? "" : "s") with --strict: not running")
            throw ExitCode(2)
        }
        if ruleSet.count == 0 {
            warn("no rules loaded from \(paths.joined(separator: ", "))")
            throw ExitCode(2)
        }
        if let note = Self.ipsNote(ruleSet) { warn(note) }
        return (ruleSet, errors.count)
    }

    /// Said once at load when rules from an IPS rule set are there: they alert, nothing is dropped.
    static func ipsNote(_ ruleSet: RuleSet) -> String? {
        var counts: [RuleAction: Int] = [:]
        for rule in ruleSet.rules where rule.action.alerts && rule.action != .alert { counts[rule.action, default: 0] += 1 }
        guard !counts.isEmpty else { return nil }
        let total = counts.values.reduce(0, +)
        let parts = RuleAction.allCases.compactMap { action in counts[action].map { "\($0) \(action.rawValue)" } }
        return "\(total) rule\(total == 1 ? "" : "s") (\(parts.joined(separator: ", "))) load as alerts: this passive sensor drops and rejects nothing"
    }

    /// Everything loading reads: the paths (a directory too, since whoever can write it can add
    /// rules), the rules files in directories, and the classification file.
    func loadedPaths() -> [String] {
        let paths = resolvedPaths
        var loaded = paths + RuleLoader.rulesFiles(in: paths).files
        if let classification = RuleLoader.classificationPath(for: paths[0]) { loaded.append(classification) }
        if let thresholdFile { loaded.append(thresholdFile) }
        var seen = Set<String>()
        return loaded.filter { seen.insert($0).inserted }
    }

    /// What the live sensor refuses to load: anything others could change (`FileTrust`).
    func untrusted(_ trust: FileTrust) -> [FileTrust.Problem] {
        loadedPaths().compactMap { trust.problem($0) }
    }

    /// `read` loads rules others could change (an analyst's own files, often in shared places),
    /// but says so when anyone at all may write them.
    func warnWritableByOthers() {
        for problem in loadedPaths().compactMap({ FileTrust.writableByOthers($0) }) {
            warn("\(problem.path): \(problem.reason); loading it anyway (run would refuse it)")
        }
    }

    /// The paths given, or the shipped rules.
    var resolvedPaths: [String] { paths.isEmpty ? [ShippedRules.directory()] : paths }

    /// Reads and compiles the rules: the paths read, the ruleset, and the problems of the
    /// classification file (found beside the first path) and of the rules and the threshold
    /// file, with a note for each threshold entry that names no rule. `load` at start-up and
    /// `reload` on SIGHUP judge them differently.
    func compile() throws -> (paths: [String], ruleSet: RuleSet, classificationErrors: [RuleError], ruleErrors: [RuleError],
                              notes: [String]) {
        let paths = resolvedPaths
        let variables = try parsedVariables()
        let classification = RuleLoader.classificationPath(for: paths[0]).map { Classification.load(path: $0) }
        var (ruleSet, errors) = RuleLoader.load(paths: paths, variables: variables,
                                                classification: classification?.0 ?? .suricataDefault, strict: strict)
        var notes: [String] = []
        if let thresholdFile {
            let (config, thresholdErrors) = ThresholdConfig.load(path: thresholdFile, variables: variables)
            errors += thresholdErrors
            if strict && !thresholdErrors.isEmpty { return (paths, .empty, classification?.1 ?? [], errors, []) }
            let applied = config.apply(to: ruleSet.rules)
            if !config.entries.isEmpty { ruleSet = RuleSet(rules: applied.rules) }
            notes = applied.notes
        }
        return (paths, ruleSet, classification?.1 ?? [], errors, notes)
    }
}

/// Where the shipped rules (and the registry beside them) are when --rules is not given, in
/// this order: `$GHOSTPORT_RULES` alone when it is set; `/etc/ghostport/rules` (an operator's
/// copy); `/usr/share/ghostport/rules` (the package's); the source tree the binary was built in
/// (`.build/<config>/ghostport` finds the tree's `rules/`); `rules` in the current directory.
enum ShippedRules {
    static func candidates() -> [String] {
        if let env = getenv("GHOSTPORT_RULES") { return [String(cString: env)] }
        var candidates = ["/etc/ghostport/rules", "/usr/share/ghostport/rules"]
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 {
            let exe = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var parts = exe.split(separator: "/", omittingEmptySubsequences: false)
            // Up to four levels up, never past the root (a binary copied to /tmp has two).
            for _ in 0..<4 where parts.count > 1 {
                parts.removeLast()
                candidates.append(parts.joined(separator: "/") + "/rules")
            }
        }
        candidates.append("rules")
        var seen = Set<String>()
        return candidates.filter { seen.insert($0).inserted }
    }

    /// The first candidate holding `abandoned-ports.rules`, or nil.
    static func found() -> String? {
        candidates().first { FileSystem.kind(of: $0 + "/abandoned-ports.rules") == .file }
    }

    /// The shipped rules' directory, or `rules` (which then fails to load with `notFound`).
    static func directory() -> String { found() ?? "rules" }

    /// What to say when no candidate holds the rules.
    static var notFound: String {
        "no shipped rules found (abandoned-ports.rules in \(candidates().joined(separator: ", "))); "
            + "name a rules file or directory with --rules PATH, or set GHOSTPORT_RULES"
    }
}

/// One line redrawn in place on standard error (a terminal): `ProgressLine`, cut to the
/// terminal's width so it never wraps.
struct ProgressBar: Sendable {
    func draw(_ progress: OfflinePipeline.Progress) {
        let elapsed = progress.elapsed.components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        var line = ProgressLine.render(bytesRead: progress.bytesRead, bytesTotal: progress.bytesTotal,
                                       packets: progress.packets, alerts: progress.alerts, seconds: seconds)
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 1, line.count >= Int(size.ws_col) {
            line = String(line.prefix(Int(size.ws_col) - 1))
        }
        FileHandleStderr.write("\r" + line + "\u{1B}[K")
    }

    /// Clears the line, so what follows starts clean.
    func finish() {
        FileHandleStderr.write("\r\u{1B}[K")
    }
}
