import ArgumentParser
import Baseline
import Capture
import Config
import CSensor
import Detect
import KernelFilter
import Output
import Platform
import Redis
import Rules
import Sensor
import Wire

#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Capture live and alert on traffic to abandoned ports (the sensor).",
        discussion: """
            Settings come from --config (YAML, see systemd/ghostport.yaml); options given here \
            override it. Opens the interface as root (or with CAP_NET_RAW and CAP_NET_ADMIN), \
            drops to the configured user before reading a packet, and writes EVE records. SIGHUP \
            reopens the output file and reloads the rules (a ruleset that fails to load leaves the \
            running one in place); SIGUSR1 writes a stats record; SIGTERM and SIGINT drain, write \
            the flows and the final stats, and exit 0.
            """
    )

    @Option(name: .shortAndLong, help: "The YAML configuration file.")
    var config: String?

    @Option(name: .shortAndLong, help: "Interface to capture on (default: the first up, non-loopback one; 'any' works).")
    var interface: String?

    @Option(name: .customLong("rules"), help: "Rules file or directory (repeatable); replaces the config's rules.")
    var rulePaths: [String] = []

    @Option(name: .customLong("var"), help: "A rule variable, NAME=VALUE (repeatable); added to the config's.")
    var variables: [String] = []

    @Flag(help: "Refuse to run if any rule fails to load.")
    var strict = false

    @Option(name: .customLong("threshold-file"),
            help: "Suricata's threshold.config (suppress, threshold, event_filter); replaces the config's detect.threshold_file. Reloaded with the rules.")
    var thresholdFile: String?

    @Option(name: .shortAndLong, help: "Append EVE records to this file ('-': standard output). SIGHUP reopens it.")
    var output: String?

    @Flag(help: "Also send alerts to syslog (the config's ident, facility and format).")
    var syslog = false

    @Option(help: "Drop to this user after opening the capture (default: the config's, ghostport).")
    var user: String?

    @Flag(help: "Keep running as root (not recommended).")
    var allowRoot = false

    @Option(help: "A BPF filter expression, in tcpdump's syntax, applied in the kernel.")
    var bpf: String?

    @Option(help: ArgumentHelp(
        "auto: also filter in the kernel for the rules' ports when every rule names ports (the default); off: never.",
        valueName: "auto|off"))
    var kernelFilter: KernelFilterMode?

    @Option(help: "Bytes captured per packet.")
    var snaplen: Int32?

    @Flag(name: .customLong("no-promiscuous"), help: "Do not put the interface in promiscuous mode.")
    var noPromiscuous = false

    @Option(help: "Kernel capture buffer, in MiB.")
    var bufferMib: Int32?

    @Option(help: "Seconds between stats records (0: only on SIGUSR1 and at exit).")
    var statsInterval: Int?

    @Option(help: ArgumentHelp(
        "Capture sockets in one PACKET_FANOUT group, each with its own engine and core: 1 to 64, or auto (one per usable CPU).",
        discussion: "Both directions of a flow reach the same worker (the kernel's symmetric flow hash); scans, alert limits, flood budgets, the EVE output and the stats stay the sensor's. Default: the config's capture.workers, 1.",
        valueName: "n|auto"))
    var workers: WorkerCount?

    @OptionGroup var engineOptions: EngineOptions

    @OptionGroup(title: "Redis")
    var redisOptions: RedisOptions

    @Option(help: ArgumentHelp("The least important log line written: error, warning, notice, info or debug (default: the config's logging.level, info).",
                               valueName: "level"))
    var logLevel: LogLevel?

    @Flag(name: .shortAndLong, help: "Log at debug level (as --log-level debug).")
    var verbose = false

    @Flag(name: [.customLong("check-config"), .customShort("T")], help: ArgumentHelp(
        "Check everything the sensor needs, then exit: 0 when all is well, 2 with one line per problem.",
        discussion: """
            The configuration and the rules (and that nobody else can change them), the interface, \
            the user to run as, capture privileges, and each output as that user: the EVE file can \
            be created and written, the syslog socket is served, the evidence and textfile \
            directories can take files.
            """))
    var checkConfig = false

    func validate() throws {
        if let snaplen, snaplen < 64 || snaplen > 262_144 { throw ValidationError("--snaplen must be between 64 and 262144") }
        if let bufferMib, bufferMib < 1 || bufferMib > 4096 { throw ValidationError("--buffer-mib must be between 1 and 4096") }
        if let statsInterval, statsInterval < 0 { throw ValidationError("--stats-interval cannot be negative") }
        if let count = workers?.count, !(1...64).contains(count) { throw ValidationError("--workers must be between 1 and 64, or auto") }
    }

    /// The config file's settings with this command line's on top.
    func settings() throws -> SensorConfig {
        var settings = SensorConfig()
        // Without a config file, or one that names no rules, the rules are the shipped ones,
        // found as `read` finds them (/etc/ghostport/rules first).
        if let config {
            let (loaded, errors) = SensorConfig.check(path: config)
            for error in errors { warn(error.description) }
            if !errors.isEmpty { throw ExitCode(2) }
            settings = loaded
        }
        if let interface { settings.interface = interface }
        if !rulePaths.isEmpty { settings.rules.paths = rulePaths }
        if strict { settings.rules.strict = true }
        if let output {
            settings.outputs.eve.enabled = true
            settings.outputs.eve.path = output
        } else if config == nil {
            // No config, no --output: standard output, or Redis alone with --redis.
            settings.outputs.eve.path = "-"
            if redisOptions.redis != nil { settings.outputs.eve.enabled = false }
        }
        settings.outputs.redis = try redisOptions.settings(over: settings.outputs.redis)
        if syslog { settings.outputs.syslog.enabled = true }
        if let user { settings.user = user }
        if allowRoot { settings.allowRoot = true }
        if let bpf { settings.capture.bpf = bpf }
        if let kernelFilter { settings.capture.kernelFilter = kernelFilter }
        if let snaplen { settings.capture.snaplen = Int(snaplen) }
        if noPromiscuous { settings.capture.promiscuous = false }
        if let bufferMib { settings.capture.bufferMiB = Int(bufferMib) }
        if let statsInterval { settings.stats.intervalSeconds = statsInterval }
        if let workers { settings.capture.workers = workers.count }
        if let evidence = engineOptions.evidence { settings.outputs.evidence.directory = evidence }
        if let maxFiles = engineOptions.evidenceMaxFiles { settings.outputs.evidence.maxFiles = maxFiles }
        if let maxMiB = engineOptions.evidenceMaxMib { settings.outputs.evidence.maxMiB = maxMiB }
        return settings
    }

    func ruleOptions(_ settings: SensorConfig) -> RuleOptions {
        var options = RuleOptions()
        options.paths = settings.rules.paths
        options.variables = settings.rules.variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + variables
        options.strict = settings.rules.strict
        options.thresholdFile = thresholdFile ?? settings.detect.thresholdFile
        return options
    }

    func run() throws {
        // Before any thread starts, so every thread inherits the blocked signals; a SIGTERM while
        // the rules load is kept for later.
        let signals = SignalWatcher()
        let settings = try settings()
        // The sensor's own lines: with the time and level, or journald's way; a check is plain.
        if !checkConfig {
            Log.configure(threshold: logLevel ?? (verbose ? .debug : settings.logLevel), style: Log.serviceStyle)
        }
        let ruleOptions = ruleOptions(settings)
        // Nothing that others could change is loaded: they could silence rules or forge alerts.
        let trust = FileTrust.sensor(user: settings.user)
        let untrusted = (config.flatMap { trust.problem($0) }.map { [$0] } ?? []) + ruleOptions.untrusted(trust)
        for problem in untrusted { warn(problem.description) }
        if !untrusted.isEmpty && !checkConfig { throw ExitCode(2) }
        let (ruleSet, rulesFailed) = try ruleOptions.loadCounting()
        if checkConfig {
            let problems = preflight(settings)
            for problem in problems { warn(problem) }
            if !untrusted.isEmpty || !problems.isEmpty {
                let count = untrusted.count + problems.count
                warn("configuration: \(count) problem\(count == 1 ? "" : "s")")
                throw ExitCode(2)
            }
            let workers = settings.capture.workers ?? Int(gp_usable_cpus())
            print("configuration OK: \(config ?? "built-in defaults"), \(ruleSet.count) rules, capturing on \(settings.interface ?? LiveCapture.defaultInterface() ?? "?") as \(runsAs(settings))"
                  + (workers > 1 ? " with \(workers) workers" : ""))
            return
        }
        if let signal = signals.stopSignal {
            warn("stopped by \(signalName(signal)) before the capture started")
            return
        }
        var options = LiveOptions()
        options.interface = settings.interface
        options.snaplen = Int32(settings.capture.snaplen)
        options.promiscuous = settings.capture.promiscuous
        options.immediate = settings.capture.immediate
        options.bufferBytes = Int32(clamping: settings.capture.bufferMiB << 20)
        options.filter = settings.capture.bpf
        let workerCount = settings.capture.workers ?? Int(gp_usable_cpus())
        if workerCount > 1 {
            if let problem = Self.workersProblem(settings) {
                warn(problem)
                throw ExitCode(2)
            }
            // One group per process, the packets spread by address pair (`fanoutByAddresses`).
            options.fanout = Fanout(group: UInt16(truncatingIfNeeded: getpid()), program: BPFProgram.fanoutByAddresses())
        }
        var captures: [LiveCapture] = []
        do {
            for _ in 0..<workerCount { captures.append(try LiveCapture(options: options)) }
        } catch {
            warn(error.description)
            throw ExitCode(1)
        }
        let capture = captures[0]
        for warning in capture.warnings { warn("\(capture.interface): \(warning)") }
        Log.write(.debug, "capture: snaplen \(options.snaplen), buffer \(options.bufferBytes >> 20) MiB, promiscuous \(options.promiscuous), immediate \(options.immediate)")

        // Drop root before the first packet is read, as tcpdump -Z does.
        if Privileges.isRoot {
            if settings.allowRoot && user == nil {
                warn("running as root (allow_root)")
            } else {
                do {
                    try Privileges.drop(to: settings.user)
                } catch {
                    warn("refusing to run as root: \(error.description)")
                    warn("give --user USER (an unprivileged account) or --allow-root")
                    throw ExitCode(2)
                }
            }
        }
        Privileges.forbidNewPrivileges()
        // Reloads read the rules as this user: say now if they cannot, not at the first SIGHUP.
        let account = Privileges.isRoot ? nil : Privileges.userName
        if let account {
            for path in ruleOptions.unreadable() {
                warn("\(path): not readable by user \(account), which the sensor now runs as; reloading the rules (SIGHUP) will fail until it is")
            }
        }

        let eveFile: EVEFile?
        let fd: Int32
        let eve = settings.outputs.eve
        if eve.enabled && eve.path != "-" {
            do {
                let file = try EVEFile(path: eve.path)
                if eve.maxMiB > 0 { file.sizeLimit = (Int64(eve.maxMiB) << 20, eve.maxFiles) }
                eveFile = file
                fd = file.fd
            } catch {
                warn("\(error)")
                throw ExitCode(2)
            }
        } else {
            eveFile = nil
            fd = eve.enabled ? STDOUT_FILENO : -1  // no file: the records go to Redis, if anywhere
        }
        let evidence = settings.outputs.evidence
        let evidenceWriter = try EngineOptions.openEvidence(evidence.directory, maxFiles: evidence.maxFiles, maxMiB: evidence.maxMiB)

        var configuration = settings.engineConfiguration()
        engineOptions.apply(to: &configuration)
        var recordSettings = settings.recordSettings()
        engineOptions.apply(to: &recordSettings)
        recordSettings.interface = capture.interface
        let sink = EVEOutput(fd: fd)
        let records = EVERecords(output: sink, settings: recordSettings, evidence: evidenceWriter)
        records.file = eveFile
        // Started after dropping root, so that a reconnection later is made as the first one was;
        // a server out of reach now is retried (records queue meanwhile), a refused login is fatal.
        let redis = try settings.outputs.redis.map {
            try RedisOptions.start($0, mustConnect: false, sink: sink, records: records, log: { Log.write(.warning, $0) })
        }
        var keeper: BaselineKeeper?
        if let path = settings.baseline.file {
            let (baseline, policy) = try BaselineKeeper.open(settings.baseline, path: path)
            configuration.baseline = policy
            keeper = BaselineKeeper(path: path, baseline: baseline, settings: settings.baseline, policy: policy,
                                    log: { level, message in Log.write(level, message) })
        }
        let loadedAt = LiveSensor.wallClock()
        func makeEngine(records: EVERecords, sensorWide: SensorWide? = nil) -> Engine {
            let engine = Engine(rules: ruleSet, configuration: configuration, records: records, sensorWide: sensorWide)
            engine.log = { warn($0) }
            engine.baseline = keeper?.baseline  // (none with workers: refused above)
            engine.rulesFailed = UInt64(rulesFailed)
            engine.rulesLoadedAt = loadedAt
            return engine
        }
        if let keeper {
            let learning = keeper.learning ? ", learning until \(UTCTime.format(configuration.baseline.learnUntil! / 1_000_000_000))" : ""
            Log.write(.notice, "\(keeper.path): \(keeper.baseline.count) listeners\(learning)")
        }

        let sinkLock = Monitor()
        var sensorSettings = LiveSensor.Settings()
        sensorSettings.capture = options
        sensorSettings.kernelFilter = settings.capture.kernelFilter
        sensorSettings.statsInterval = settings.stats.intervalSeconds
        let textfile = settings.stats.prometheusTextfile
        var hooks = LiveSensor.Hooks(
            reopenOutputs: {
                guard let eveFile else { return [] }
                sink.flush()
                do {
                    try eveFile.reopen()
                    return ["\(eveFile.path): reopened"]
                } catch {
                    return ["\(error); still writing to the old file"]
                }
            },
            reloadRules: { ruleOptions.reload(trust: trust, runningAs: account) },
            afterStats: { stats in
                guard let textfile else { return }
                do {
                    try PrometheusTextfile.write(stats, to: textfile)
                } catch {
                    warn("\(textfile): \(error)")
                }
            },
            checkOutput: eveFile.map { file in
                { sink in
                    let health = file.check(records: sink.records, lost: sink.lost, lastError: sink.lastError)?.description
                    let rotation = file.rotateIfFull()
                    let lines = [health, rotation].compactMap { $0 }
                    return lines.isEmpty ? nil : lines.joined(separator: "; ")
                }
            }
        )
        if let keeper {
            hooks.rereadFiles = { keeper.reread() }
            hooks.everySecond = { keeper.tick() }
        }
        let log: @Sendable (LogLevel, String) -> Void = { level, message in Log.write(level, message) }
        if captures.count == 1 {
            if settings.outputs.syslog.enabled { records.syslog = Self.syslogOutput(settings) }
            let sensor = LiveSensor(engine: makeEngine(records: records), records: records, capture: capture, settings: sensorSettings,
                                    signals: signals, notifier: SystemdNotifier(), hooks: hooks, log: log)
            sensor.run()
        } else {
            // Each worker's engine writes its own records, handed whole to the one output (`sink`,
            // under `sinkLock`); the scans, alert limits and flood budgets are the sensor's.
            let sensorWide = SensorWide(configuration: configuration, seed: UInt64.random(in: .min ... .max))
            let workers = captures.map { capture in
                let own = EVERecords(output: EVEOutput(fd: -1), settings: recordSettings, evidence: evidenceWriter)
                // Each worker its own syslog sender (the shared output's records have none).
                own.syslog = settings.outputs.syslog.enabled ? Self.syslogOutput(settings) : nil
                return LiveWorkers.Worker(engine: makeEngine(records: own, sensorWide: sensorWide), records: own, capture: capture)
            }
            let sensor = LiveWorkers(workers: workers, records: records, sinkLock: sinkLock, sensorWide: sensorWide,
                                     settings: sensorSettings, signals: signals, notifier: SystemdNotifier(), hooks: hooks, log: log)
            sensor.run()
        }
        if let redis { Log.write(.notice, RedisOptions.summary(redis, redis.finish())) }
        keeper?.flush(waiting: true)
        eveFile?.close()
    }
}

/// `--workers N|auto`.
struct WorkerCount: ExpressibleByArgument {
    /// nil: auto.
    var count: Int?

    init?(argument: String) {
        if argument == "auto" {
            count = nil
        } else if let value = Int(argument) {
            count = value
        } else {
            return nil
        }
    }
}

extension RunCommand {
    /// The syslog sender the config describes (each worker has its own).
    static func syslogOutput(_ settings: SensorConfig) -> SyslogOutput {
        let syslog = settings.outputs.syslog
        return SyslogOutput(ident: syslog.ident, facility: syslog.facility, format: syslog.format, levels: syslog.levels,
                            socket: syslog.socket)
    }

    /// The account the sensor opens its outputs as: the one it drops to when started as root,
    /// else this process's own.
    func runsAs(_ settings: SensorConfig) -> String {
        Privileges.isRoot && !(settings.allowRoot && user == nil) ? settings.user : Privileges.userName
    }

    /// Why the sensor cannot run its workers, or nil.
    static func workersProblem(_ settings: SensorConfig) -> String? {
        let workers = settings.capture.workers ?? Int(gp_usable_cpus())
        guard workers > 1, settings.baseline.file != nil else { return nil }
        return "capture.workers \(workers): a listener baseline (baseline.file) is kept by one engine; run 1 worker with it"
    }

    /// `--check-config`'s checks beyond the configuration and the rules: one line per problem.
    func preflight(_ settings: SensorConfig) -> [String] {
        var problems: [String] = []
        if let problem = Self.workersProblem(settings) { problems.append(problem) }
        if let problem = Preflight.interfaceProblem(settings.interface) { problems.append(problem) }
        if let problem = Preflight.captureProblem() { problems.append(problem) }
        let account: Preflight.Account
        if Privileges.isRoot && !(settings.allowRoot && user == nil) {
            guard let named = Preflight.Account.named(settings.user) else {
                // Without the account nothing else can be judged for it.
                return problems + [Preflight.userProblem(settings.user)].compactMap { $0 }
            }
            account = named
        } else {
            account = .current
        }
        let outputs = settings.outputs
        if outputs.eve.enabled && outputs.eve.path != "-",
           let problem = Preflight.writableFileProblem(outputs.eve.path, as: account, what: "outputs.eve.path") {
            problems.append(problem)
        }
        if outputs.syslog.enabled, let problem = Preflight.syslogProblem(outputs.syslog.socket, as: account) {
            problems.append(problem)
        }
        if let directory = outputs.evidence.directory,
           let problem = Preflight.writableDirectoryProblem(directory, as: account, what: "outputs.evidence.dir") {
            problems.append(problem)
        }
        if let path = settings.baseline.file {
            // Written as a temporary file beside it, then renamed: its directory must be writable.
            if let problem = Preflight.writableDirectoryProblem(FileSystem.directory(of: path), as: account,
                                                                what: "baseline.file", mayCreate: false) {
                problems.append(problem)
            }
            let learns = settings.baseline.learnUntil != nil || settings.baseline.learnDays != nil
            if case .failure(let errors) = BaselineFile.load(path, capacity: settings.baseline.maxListeners, missingIsEmpty: learns) {
                problems += errors.messages.map { "baseline.file: \($0)" + (learns ? "" : " (and no learn_until or learn_days to start one)") }
            }
        }
        if let redis = outputs.redis, let problem = RedisOutput.problem(redis) {
            problems.append("outputs.redis: \(problem)")
        }
        if let textfile = settings.stats.prometheusTextfile,
           let problem = Preflight.writableDirectoryProblem(FileSystem.directory(of: textfile), as: account,
                                                            what: "stats.prometheus_textfile", mayCreate: false) {
            problems.append(problem)
        }
        return problems
    }
}

extension KernelFilterMode: ExpressibleByArgument {}

extension RuleOptions {
    /// Loads the rules again for a reload: any error keeps the running set, so a typo in one
    /// rule never silently drops it from a sensor that was alerting on it. Rules that others
    /// could change since the start (`trust`) are refused the same way.
    /// `account`: the user the sensor runs as after dropping root, named when a file cannot be read.
    func reload(trust: FileTrust, runningAs account: String? = nil) -> Result<RuleSet, LiveSensor.ReloadFailure> {
        let untrusted = untrusted(trust)
        if !untrusted.isEmpty { return .failure(LiveSensor.ReloadFailure(messages: untrusted.map(\.description))) }
        let (paths, ruleSet, classificationErrors, errors): ([String], RuleSet, [RuleError], [RuleError])
        do {
            (paths, ruleSet, classificationErrors, errors, _) = try compile()
        } catch {
            return .failure(LiveSensor.ReloadFailure(messages: ["\(error)"]))
        }
        let problems = classificationErrors + errors
        if !problems.isEmpty {
            return .failure(LiveSensor.ReloadFailure(messages: problems.map { problem in
                guard let account, problem.line == 0, problem.reason == "permission denied" else { return problem.description }
                return "\(problem.description) (the sensor runs as user \(account))"
            }))
        }
        if ruleSet.count == 0 {
            let named = paths.map { FileSystem.kind(of: $0) == .directory ? "\($0) (a directory without *.rules files)" : $0 }
            return .failure(LiveSensor.ReloadFailure(messages: ["no rules loaded from \(named.joined(separator: ", "))"]))
        }
        return .success(ruleSet)
    }

    /// The rules files and directories (and classification.config) this process cannot read.
    func unreadable() -> [String] {
        let paths = resolvedPaths
        let (files, _) = RuleLoader.rulesFiles(in: paths)
        let directories = paths.filter { FileSystem.kind(of: $0) == .directory }
        let classification = RuleLoader.classificationPath(for: paths[0]).map { [$0] } ?? []
        return (directories + files + classification).filter { access($0, R_OK) != 0 }
    }
}
