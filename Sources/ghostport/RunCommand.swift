import ArgumentParser
import Capture
import Detect
import Output
import Rules
import Sensor

#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Capture live and alert on traffic to abandoned ports (the sensor).",
        discussion: """
            Opens the interface as root (or with CAP_NET_RAW and CAP_NET_ADMIN), drops to --user \
            before reading a packet, and writes EVE records. SIGHUP reopens the output file and \
            reloads the rules (a ruleset that fails to load leaves the running one in place); \
            SIGUSR1 writes a stats record; SIGTERM and SIGINT drain, write the flows and the final \
            stats, and exit 0.
            """
    )

    @Option(name: .shortAndLong, help: "Interface to capture on (default: the first up, non-loopback one; 'any' works).")
    var interface: String?

    @OptionGroup var ruleOptions: RuleOptions

    @Option(name: .shortAndLong, help: "Append EVE records to this file (default: standard output). SIGHUP reopens it.")
    var output: String?

    @Option(help: "Drop to this user after opening the capture (default: ghostport when running as root).")
    var user: String?

    @Flag(help: "Keep running as root (not recommended).")
    var allowRoot = false

    @Option(help: "A BPF filter expression, in tcpdump's syntax, applied in the kernel.")
    var bpf: String?

    @Option(help: "Bytes captured per packet.")
    var snaplen: Int32 = 262_144

    @Flag(name: .customLong("no-promiscuous"), help: "Do not put the interface in promiscuous mode.")
    var noPromiscuous = false

    @Option(help: "Kernel capture buffer, in MiB.")
    var bufferMib: Int32 = 64

    @Option(help: "Seconds between stats records (0: only on SIGUSR1 and at exit).")
    var statsInterval = 30

    @OptionGroup var engineOptions: EngineOptions

    @Flag(help: "Check the rules and options, then exit (0 when everything loads).")
    var checkConfig = false

    func validate() throws {
        if snaplen < 64 || snaplen > 262_144 { throw ValidationError("--snaplen must be between 64 and 262144") }
        if bufferMib < 1 || bufferMib > 2048 { throw ValidationError("--buffer-mib must be between 1 and 2048") }
        if statsInterval < 0 { throw ValidationError("--stats-interval cannot be negative") }
    }

    func run() throws {
        let ruleSet = try ruleOptions.load()
        if checkConfig {
            print("configuration OK: \(ruleSet.count) rules")
            return
        }
        // Before any thread starts, so every thread inherits the blocked signals.
        let signals = SignalWatcher()
        var options = LiveOptions()
        options.interface = interface
        options.snaplen = snaplen
        options.promiscuous = !noPromiscuous
        options.bufferBytes = bufferMib << 20
        options.filter = bpf
        let capture: LiveCapture
        do {
            capture = try LiveCapture(options: options)
        } catch {
            warn(error.description)
            throw ExitCode(1)
        }
        for warning in capture.warnings { warn("\(capture.interface): \(warning)") }

        // Drop root before the first packet is read, as tcpdump -Z does.
        if Privileges.isRoot {
            if allowRoot && user == nil {
                warn("running as root (--allow-root)")
            } else {
                let name = user ?? "ghostport"
                do {
                    try Privileges.drop(to: name)
                } catch {
                    warn("refusing to run as root: \(error.description)")
                    warn("give --user USER (an unprivileged account) or --allow-root")
                    throw ExitCode(2)
                }
            }
        }
        Privileges.forbidNewPrivileges()

        let outputPath = output
        let fd = try Self.openOutput(outputPath)
        let evidenceWriter = try engineOptions.openEvidence()
        var configuration = engineOptions.configuration()
        configuration.interface = capture.interface
        let sink = EVEOutput(fd: fd)
        let engine = Engine(rules: ruleSet, configuration: configuration, output: sink, evidence: evidenceWriter)

        var settings = LiveSensor.Settings()
        settings.capture = options
        settings.statsInterval = statsInterval
        let ruleOptions = self.ruleOptions
        let hooks = LiveSensor.Hooks(
            reopenOutputs: {
                guard let outputPath else { return [] }
                guard let newFD = try? Self.openOutput(outputPath) else {
                    return ["\(outputPath): cannot reopen (\(String(cString: strerror(errno)))); still writing to the old file"]
                }
                let old = sink.fd
                sink.replaceDescriptor(newFD)
                close(old)
                return ["\(outputPath): reopened"]
            },
            reloadRules: { ruleOptions.reload() },
            afterStats: { _, _ in }
        )
        let sensor = LiveSensor(engine: engine, capture: capture, settings: settings, signals: signals,
                                notifier: SystemdNotifier(), hooks: hooks, log: { warn($0) })
        sensor.run()
        if sink.fd != STDOUT_FILENO { close(sink.fd) }
    }

    /// Opens the EVE file for appending (created 0640), or standard output without a path.
    static func openOutput(_ path: String?) throws -> Int32 {
        guard let path else { return STDOUT_FILENO }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            warn("\(path): \(String(cString: strerror(errno)))")
            throw ExitCode(2)
        }
        return fd
    }
}

extension RuleOptions {
    /// Loads the rules again for a reload: any error keeps the running set, so a typo in one
    /// rule never silently drops it from a sensor that was alerting on it.
    func reload() -> Result<RuleSet, LiveSensor.ReloadFailure> {
        let paths = self.paths.isEmpty ? [ShippedRules.directory()] : self.paths
        let variables: [String: String]
        do {
            variables = try parsedVariables()
        } catch {
            return .failure(LiveSensor.ReloadFailure(messages: ["\(error)"]))
        }
        let classification = RuleLoader.classificationPath(for: paths[0]).map { Classification.load(path: $0) }
        let (ruleSet, errors) = RuleLoader.load(paths: paths, variables: variables,
                                                classification: classification?.0 ?? .suricataDefault)
        let problems = (classification?.1 ?? []) + errors
        if !problems.isEmpty { return .failure(LiveSensor.ReloadFailure(messages: problems.map(\.description))) }
        if ruleSet.count == 0 {
            return .failure(LiveSensor.ReloadFailure(messages: ["no rules loaded from \(paths.joined(separator: ", "))"]))
        }
        return .success(ruleSet)
    }
}
