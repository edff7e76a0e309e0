import Baseline
import Detect
import Flow
import KernelFilter
import Output
import Redis
import Platform
import Rules
import Yams

#if canImport(Glibc)
import Glibc
#endif

extension SensorConfig {
    /// Reads and checks the YAML file at `path`. Throws the first problem; `check(path:)`
    /// returns all of them.
    public static func load(path: String) throws(ConfigError) -> SensorConfig {
        let (config, errors) = check(path: path)
        if let first = errors.first { throw first }
        return config
    }

    /// Reads and checks the YAML file at `path`, reporting every problem in the order of the
    /// file. The configuration holds what could be read (defaults elsewhere).
    public static func check(path: String) -> (SensorConfig, [ConfigError]) {
        switch readFile(path) {
        case .success(let bytes): return check(bytes: bytes, file: path)
        case .failure(let error): return (SensorConfig(), [error])
        }
    }

    /// Checks a configuration file's bytes (which must be UTF-8); `file` names it in messages.
    public static func check(bytes: [UInt8], file: String) -> (SensorConfig, [ConfigError]) {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let line = firstInvalidUTF8Line(bytes)
            return (SensorConfig(), [ConfigError(file: file, line: line, key: nil, reason: "not valid UTF-8")])
        }
        return check(text: text, file: file)
    }

    /// Checks configuration text; `file` names it in messages.
    public static func check(text: String, file: String) -> (SensorConfig, [ConfigError]) {
        var config = SensorConfig()
        config.file = file
        if let problem = nestingProblem(text, file: file) { return (config, [problem]) }
        // Yams composes nested collections recursively: on a stack sized for the deepest nesting
        // the limits above allow, whatever thread checks the file.
        return onLargeStack(64 << 20) {
            var reader = ConfigReader(file: file, lastLine: yamlLineCount(text))
            let root: Node?
            do {
                root = try Yams.compose(yaml: text)
            } catch let error as YamlError {
                return (config, [reader.syntaxError(error)])
            } catch {
                return (config, [ConfigError(file: file, line: nil, key: nil, reason: "\(error)")])
            }
            if let root { reader.read(root, into: &config) }
            config.lines = reader.lines
            // In the order of the file: unknown keys are found before the values beside them.
            let ordered = reader.errors.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }
            return (config, ordered.map(\.element))
        }
    }

    /// The longest line and the most flow collections (`[`, `{`) a configuration may have. They
    /// bound how deeply it can nest: a block collection opens at a column further right than
    /// the one it is in (or, a sequence under a mapping key, at the same one), a flow collection
    /// at a bracket, so no node is deeper than 2 × (1024 + 1) + 2 × 256 + 2 = 2,564 levels.
    /// libyaml and Yams set no bound, and a file of `[[[[...` would exhaust the stack.
    static let maxLineLength = 1_024
    static let maxFlowCollections = 256

    /// A line too long, or too many brackets, for the nesting bound; the line where it happens.
    static func nestingProblem(_ text: String, file: String) -> ConfigError? {
        var line = 1, length = 0, brackets = 0
        var previous: Unicode.Scalar = "\0"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n" where previous == "\r":
                break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                line += 1
                length = 0
            default:
                length += 1
                if length > maxLineLength {
                    return ConfigError(file: file, line: line, key: nil,
                                       reason: "line longer than \(maxLineLength) characters (YAML lists and mappings can span lines)")
                }
                if scalar == "[" || scalar == "{" {
                    brackets += 1
                    if brackets > maxFlowCollections {
                        return ConfigError(file: file, line: line, key: nil,
                                           reason: "more than \(maxFlowCollections) '[' and '{' in the file (lists and mappings nest too deep to read)")
                    }
                }
            }
            previous = scalar
        }
        return nil
    }

    /// Runs `body` on a thread with a stack of `bytes` and waits for it; on this thread if no
    /// thread can be started.
    static func onLargeStack<Result>(_ bytes: Int, _ body: () -> Result) -> Result {
        var result: Result?
        Concurrently.run({}, alongside: { result = body() }, stackSize: bytes)
        return result!
    }

    private static func readFile(_ path: String) -> Result<[UInt8], ConfigError> {
        func failure(_ code: Int32) -> Result<[UInt8], ConfigError> {
            var reason = String(cString: strerror(code))
            if let first = reason.first { reason = first.lowercased() + reason.dropFirst() }
            return .failure(ConfigError(file: path, line: nil, key: nil, reason: reason))
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return failure(errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return failure(errno)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
            if bytes.count > 16 << 20 {
                return .failure(ConfigError(file: path, line: nil, key: nil, reason: "larger than 16 MiB"))
            }
        }
        return .success(bytes)
    }

    /// The lines of `text` as YAML breaks them (LF, CR, CRLF, NEL, LS, PS), so that a position
    /// libyaml reports at the end of input, a line past a last line without a break, can be
    /// reported at the last line instead.
    static func yamlLineCount(_ text: String) -> Int {
        var lines = 1
        var previous: Unicode.Scalar = "\0"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n" where previous != "\r", "\r", "\u{85}", "\u{2028}", "\u{2029}": lines += 1
            default: break
            }
            previous = scalar
        }
        return lines
    }

    private static func firstInvalidUTF8Line(_ bytes: [UInt8]) -> Int {
        var line = 1
        var start = 0
        for (i, byte) in bytes.enumerated() where byte == 0x0A {
            if String(validating: bytes[start..<i], as: UTF8.self) == nil { return line }
            line += 1
            start = i + 1
        }
        return line
    }
}

/// Walks the composed YAML, filling a `SensorConfig` and collecting errors with lines.
struct ConfigReader {
    let file: String
    /// The text's last line: where an error libyaml reports past the end of input is put.
    let lastLine: Int
    var errors: [ConfigError] = []
    var lines: [String: Int] = [:]

    init(file: String, lastLine: Int) {
        self.file = file
        self.lastLine = lastLine
    }

    mutating func syntaxError(_ error: YamlError) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var reason = "syntax error: \(problem)"
            if let context { reason += " (\(context.text) at line \(min(context.mark.line, lastLine)))" }
            return ConfigError(file: file, line: min(mark.line, lastLine), key: nil, reason: reason)
        case .reader(let problem, _, _, _):
            return ConfigError(file: file, line: nil, key: nil, reason: "syntax error: \(problem)")
        default:
            return ConfigError(file: file, line: nil, key: nil, reason: "syntax error: \(error)")
        }
    }

    // MARK: - The schema

    mutating func read(_ root: Node, into config: inout SensorConfig) {
        guard let top = mapping(root, key: nil, known: [
            "interface", "sensor_name", "capture", "rules", "outputs", "stats", "user", "allow_root", "flow", "scan", "alerts",
            "decoder", "detect", "logging", "baseline",
        ]) else { return }
        if let node = top["sensor_name"], let name = string(node, "sensor_name") {
            if let problem = RecordSettings.sensorNameProblem(name) {
                fail(node, "sensor_name", problem)
            } else {
                config.sensorName = name
            }
        }
        if let node = top["interface"] {
            if let name = string(node, "interface") {
                if name.utf8.count > 15 {
                    fail(node, "interface", "must be at most 15 characters, got '\(name)'")
                } else if name.contains(where: { $0 == "/" || $0.isWhitespace }) {
                    fail(node, "interface", "must not contain '/' or spaces, got '\(name)'")
                } else {
                    config.interface = name
                }
            }
        }
        if let node = top["capture"] { readCapture(node, into: &config.capture) }
        if let node = top["rules"] { readRules(node, into: &config.rules) }
        if let node = top["outputs"] { readOutputs(node, into: &config.outputs) }
        if let node = top["stats"] { readStats(node, into: &config.stats) }
        if let node = top["user"], let user = string(node, "user") {
            if user.contains(where: { $0 == ":" || $0 == "/" || $0.isWhitespace }) {
                fail(node, "user", "not a user name: '\(user)'")
            } else {
                config.user = user
            }
        }
        if let node = top["allow_root"], let value = bool(node, "allow_root") { config.allowRoot = value }
        if let node = top["flow"] { readFlow(node, into: &config.flow) }
        if let node = top["scan"] { readScan(node, into: &config.scan) }
        if let node = top["alerts"] { readAlerts(node, into: &config.alerts) }
        if let node = top["decoder"] { readDecoder(node, into: &config.decoder) }
        if let node = top["baseline"] { readBaseline(node, into: &config.baseline) }
        if let node = top["logging"], let map = mapping(node, key: "logging", known: ["level"]),
           let levelNode = map["level"], let text = string(levelNode, "logging.level") {
            if let level = LogLevel(name: text) {
                config.logLevel = level
            } else {
                fail(levelNode, "logging.level", "must be error, warning, notice, info or debug, got '\(text)'")
            }
        }
        if let node = top["detect"], let map = mapping(node, key: "detect", known: ["threshold_file", "flood"]) {
            if let file = map["threshold_file"], !isNull(file), let path = string(file, "detect.threshold_file") {
                config.detect.thresholdFile = path
            }
            if let node = map["flood"] { readFlood(node, into: &config.detect.flood) }
        }
    }

    private mutating func readCapture(_ node: Node, into capture: inout SensorConfig.CaptureSettings) {
        guard let map = mapping(node, key: "capture", known: [
            "snaplen", "promiscuous", "immediate", "buffer_mib", "bpf", "kernel_filter", "workers",
        ]) else { return }
        if let node = map["workers"] {
            if node.scalar?.string == "auto" {
                capture.workers = nil
            } else if !isNull(node), node.scalar.flatMap({ Int($0.string) }) == nil {
                fail(node, "capture.workers", "expected a number of workers (1 to 64) or auto, got \(describe(node))")
            } else if let value = integer(node, "capture.workers", in: 1...64) {
                capture.workers = value
            }
        }
        if let node = map["snaplen"], let value = integer(node, "capture.snaplen", in: 64...262_144) {
            capture.snaplen = value
        }
        if let node = map["promiscuous"], let value = bool(node, "capture.promiscuous") { capture.promiscuous = value }
        if let node = map["immediate"], let value = bool(node, "capture.immediate") { capture.immediate = value }
        if let node = map["buffer_mib"], let value = integer(node, "capture.buffer_mib", in: 1...4096) {
            capture.bufferMiB = value
        }
        if let node = map["bpf"], let value = string(node, "capture.bpf") { capture.bpf = value }
        if let node = map["kernel_filter"], let value = choice(node, "capture.kernel_filter", KernelFilterMode.self) {
            capture.kernelFilter = value
        }
    }

    private mutating func readRules(_ node: Node, into rules: inout SensorConfig.RuleSettings) {
        // `rules:` may be the list of paths itself.
        if node.sequence != nil || (node.scalar != nil && !isNull(node)) {
            if let paths = pathList(node, "rules") { rules.paths = paths }
            return
        }
        guard let map = mapping(node, key: "rules", known: ["paths", "strict", "vars"]) else { return }
        if let node = map["paths"], let paths = pathList(node, "rules.paths") { rules.paths = paths }
        if let node = map["strict"], let value = bool(node, "rules.strict") { rules.strict = value }
        if let node = map["vars"] { readVariables(node, into: &rules.variables) }
    }

    /// One path or a list of them, none empty.
    private mutating func pathList(_ node: Node, _ key: String) -> [String]? {
        if let sequence = node.sequence {
            var paths: [String] = []
            for (i, element) in sequence.enumerated() {
                let elementKey = "\(key)[\(i)]"
                if let path = string(element, elementKey) { paths.append(path) } else { return nil }
            }
            guard !paths.isEmpty else {
                fail(node, key, "must name at least one rules file or directory")
                return nil
            }
            return paths
        }
        return string(node, key).map { [$0] }
    }

    private mutating func readVariables(_ node: Node, into variables: inout [String: String]) {
        guard let pairs = pairs(node, key: "rules.vars") else { return }
        var found: [(String, Node)] = []
        for (name, keyNode, value) in pairs {
            let key = "rules.vars.\(name)"
            guard name.first.map({ $0 == "_" || ($0.isASCII && $0.isLetter) }) == true,
                  name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else {
                fail(keyNode, key, "a variable name is letters, digits and '_', not starting with a digit")
                continue
            }
            var text: String?
            if let sequence = value.sequence {
                var items: [String] = []
                for (i, element) in sequence.enumerated() {
                    guard let item = string(element, "\(key)[\(i)]") else { break }
                    items.append(item)
                }
                if items.count == sequence.count { text = "[" + items.joined(separator: ",") + "]" }
            } else {
                text = string(value, key)
            }
            guard let text else { continue }
            variables[name] = text
            found.append((name, value))
        }
        // Checked once all are known: one may name another.
        for (name, value) in found {
            if let reason = Self.variableProblem(name: name, variables: variables) {
                fail(value, "rules.vars.\(name)", reason)
                variables[name] = nil
            }
        }
    }

    /// Compiles the variable where the rule language would use it: `*_PORTS`/`*_PORT` as a
    /// port list, anything else as an address list (Suricata's address-groups and port-groups).
    static func variableProblem(name: String, variables: [String: String]) -> String? {
        let isPort = name.hasSuffix("_PORTS") || name.hasSuffix("_PORT")
        let rule = isPort
            ? "alert tcp any $\(name) -> any any (msg:\"variable check\"; sid:1;)"
            : "alert ip $\(name) any -> any any (msg:\"variable check\"; sid:1;)"
        let (_, errors) = RuleLoader.load(text: rule, file: "<vars>", variables: variables)
        guard var reason = errors.first?.reason else { return nil }
        for suffix in [" in sid 1", " in variable $\(name)"] where reason.hasSuffix(suffix) {
            reason.removeLast(suffix.count)
        }
        return reason
    }

    private mutating func readOutputs(_ node: Node, into outputs: inout SensorConfig.OutputSettings) {
        guard let map = mapping(node, key: "outputs", known: ["eve", "syslog", "evidence", "redis"]) else { return }
        if let node = map["eve"], let eve = mapping(node, key: "outputs.eve", known: ["enabled", "path", "anomalies", "max_mib", "max_files"]) {
            if let node = eve["max_mib"], let value = integer(node, "outputs.eve.max_mib", in: 0...1_048_576) {
                outputs.eve.maxMiB = value
            }
            if let node = eve["max_files"], let value = integer(node, "outputs.eve.max_files", in: 0...1_000) {
                outputs.eve.maxFiles = value
            }
            if let node = eve["enabled"], let value = bool(node, "outputs.eve.enabled") { outputs.eve.enabled = value }
            if let node = eve["path"], let value = string(node, "outputs.eve.path") { outputs.eve.path = value }
            if let node = eve["anomalies"], let value = bool(node, "outputs.eve.anomalies") {
                outputs.eve.anomalies = value
            }
        }
        if let node = map["syslog"], let syslog = mapping(node, key: "outputs.syslog", known: [
            "enabled", "ident", "facility", "format", "level", "socket",
        ]) {
            if let node = syslog["enabled"], let value = bool(node, "outputs.syslog.enabled") {
                outputs.syslog.enabled = value
            }
            if let node = syslog["ident"], let value = string(node, "outputs.syslog.ident") {
                if value.count > 64 || value.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true }) {
                    fail(node, "outputs.syslog.ident", "must be at most 64 characters without spaces, got '\(value)'")
                } else {
                    outputs.syslog.ident = value
                }
            }
            if let node = syslog["facility"], let value = string(node, "outputs.syslog.facility") {
                if let facility = SyslogFacility(name: value) {
                    outputs.syslog.facility = facility
                } else {
                    fail(node, "outputs.syslog.facility",
                         "must be one of \(SyslogFacility.names.joined(separator: ", ")), got '\(value)'")
                }
            }
            if let node = syslog["format"], let value = choice(node, "outputs.syslog.format", SyslogFormat.self) {
                outputs.syslog.format = value
            }
            if let node = syslog["level"] { readLevels(node, into: &outputs.syslog.levels) }
            if let node = syslog["socket"], let value = string(node, "outputs.syslog.socket") {
                if value.hasPrefix("/") && value.utf8.count < 108 {
                    outputs.syslog.socket = value
                } else {
                    fail(node, "outputs.syslog.socket", "must be an absolute path shorter than 108 bytes, got '\(value)'")
                }
            }
        }
        if let node = map["redis"] { readRedis(node, into: &outputs) }
        if let node = map["evidence"], let evidence = mapping(node, key: "outputs.evidence", known: ["dir", "max_files", "max_mib"]) {
            if let node = evidence["max_files"], let value = integer(node, "outputs.evidence.max_files", in: 0...10_000_000) {
                outputs.evidence.maxFiles = value
            }
            if let node = evidence["max_mib"], let value = integer(node, "outputs.evidence.max_mib", in: 0...16_777_216) {
                outputs.evidence.maxMiB = value
            }
            if let node = evidence["dir"], let value = string(node, "outputs.evidence.dir") {
                outputs.evidence.directory = value
            }
        }
    }

    private mutating func readLevels(_ node: Node, into levels: inout SyslogLevels) {
        guard let pairs = pairs(node, key: "outputs.syslog.level") else { return }
        for (priority, keyNode, value) in pairs {
            let key = "outputs.syslog.level.\(priority)"
            guard let name = string(value, key) else { continue }
            guard let level = SyslogLevel(name: name) else {
                let names = SyslogLevel.allCases.map(\.name).joined(separator: ", ")
                fail(value, key, "must be one of \(names), got '\(name)'")
                continue
            }
            switch priority {
            case "1": levels.priority1 = level
            case "2": levels.priority2 = level
            case "3": levels.priority3 = level
            case "4": levels.lowest = level
            default: fail(keyNode, key, "unknown priority: use 1, 2, 3 or 4 (4 and above)")
            }
        }
    }

    private mutating func readStats(_ node: Node, into stats: inout SensorConfig.StatsSettings) {
        guard let map = mapping(node, key: "stats", known: ["interval", "prometheus_textfile"]) else { return }
        if let node = map["interval"], let value = integer(node, "stats.interval", in: 0...86_400) {
            stats.intervalSeconds = value
        }
        if let node = map["prometheus_textfile"], let value = string(node, "stats.prometheus_textfile") {
            if value.hasSuffix(".prom") {
                stats.prometheusTextfile = value
            } else {
                fail(node, "stats.prometheus_textfile", "must end in .prom (node_exporter reads only *.prom), got '\(value)'")
            }
        }
    }

    private mutating func readFlow(_ node: Node, into flow: inout SensorConfig.FlowSettings) {
        guard let map = mapping(node, key: "flow", known: [
            "memory_mib", "timeouts", "per_packet", "community_id_seed",
        ]) else { return }
        if let node = map["memory_mib"], let value = integer(node, "flow.memory_mib", in: 1...65_536) {
            flow.memoryMiB = value
        }
        if let node = map["timeouts"],
           let timeouts = mapping(node, key: "flow.timeouts", known: ["tcp", "udp", "icmp", "other"]) {
            func protocolTimeouts(_ name: String, _ value: inout FlowTimeouts.PerProtocol) {
                guard let node = timeouts[name], let map = mapping(node, key: "flow.timeouts.\(name)",
                                                                   known: ["new", "established", "closed"]) else { return }
                let prefix = "flow.timeouts.\(name)."
                if let node = map["new"], let seconds = integer(node, prefix + "new", in: 1...86_400) {
                    value.new = Int64(seconds)
                }
                if let node = map["established"], let seconds = integer(node, prefix + "established", in: 1...86_400) {
                    value.established = Int64(seconds)
                }
                if let node = map["closed"], let seconds = integer(node, prefix + "closed", in: 0...86_400) {
                    value.closed = Int64(seconds)
                }
            }
            protocolTimeouts("tcp", &flow.timeouts.tcp)
            protocolTimeouts("udp", &flow.timeouts.udp)
            protocolTimeouts("icmp", &flow.timeouts.icmp)
            protocolTimeouts("other", &flow.timeouts.other)
        }
        if let node = map["per_packet"], let value = bool(node, "flow.per_packet") { flow.perPacket = value }
        if let node = map["community_id_seed"], let value = integer(node, "flow.community_id_seed", in: 0...65_535) {
            flow.communityIDSeed = UInt16(value)
        }
    }

    private mutating func readAlerts(_ node: Node, into alerts: inout SensorConfig.AlertSettings) {
        guard let map = mapping(node, key: "alerts", known: ["per_source", "per_sid", "window_seconds", "max_sources"])
        else { return }
        if let node = map["per_source"], let value = integer(node, "alerts.per_source", in: 0...1_000_000_000) {
            alerts.perSource = value
        }
        if let node = map["per_sid"], let value = integer(node, "alerts.per_sid", in: 0...1_000_000_000) {
            alerts.perSid = value
        }
        if let node = map["window_seconds"], let value = integer(node, "alerts.window_seconds", in: 1...86_400) {
            alerts.windowSeconds = value
        }
        if let node = map["max_sources"], let value = integer(node, "alerts.max_sources", in: 1_024...16_777_216) {
            alerts.maxSources = value
        }
    }

    private mutating func readBaseline(_ node: Node, into baseline: inout SensorConfig.BaselineSettings) {
        guard let map = mapping(node, key: "baseline", known: ["file", "learn_until", "learn_days", "known", "max_listeners", "flush_seconds"])
        else { return }
        if let node = map["file"], let path = string(node, "baseline.file") { baseline.file = path }
        if let node = map["learn_until"], let text = string(node, "baseline.learn_until") {
            if let time = UTCTime.parse(text) {
                baseline.learnUntil = time
            } else {
                fail(node, "baseline.learn_until", "must be a UTC time as 2026-12-11T00:00:00Z, got '\(text)'")
            }
        }
        if let node = map["learn_days"], let value = integer(node, "baseline.learn_days", in: 1...3650) { baseline.learnDays = value }
        if baseline.learnUntil != nil && baseline.learnDays != nil, let node = map["learn_days"] {
            fail(node, "baseline.learn_days", "give learn_until or learn_days, not both")
        }
        if let node = map["known"], let value = choice(node, "baseline.known", BaselinePolicy.Known.self) { baseline.known = value }
        if let node = map["max_listeners"], let value = integer(node, "baseline.max_listeners", in: 1...10_000_000) {
            baseline.maxListeners = value
        }
        if let node = map["flush_seconds"], let value = integer(node, "baseline.flush_seconds", in: 1...86_400) {
            baseline.flushSeconds = value
        }
        if baseline.file == nil && (baseline.learnUntil != nil || baseline.learnDays != nil), let node = map["learn_until"] ?? map["learn_days"] {
            fail(node, "baseline", "a learning period needs baseline.file, where the listeners learned are kept")
        }
    }

    private mutating func readFlood(_ node: Node, into flood: inout FloodLimits) {
        guard let map = mapping(node, key: "detect.flood", known: ["per_port", "sensor_wide", "window_seconds", "top_sources"])
        else { return }
        if let node = map["per_port"], let value = integer(node, "detect.flood.per_port", in: 0...1_000_000_000) {
            flood.perPort = value == 0 ? .max : value
        }
        if let node = map["sensor_wide"], let value = integer(node, "detect.flood.sensor_wide", in: 0...1_000_000_000) {
            flood.sensorWide = value == 0 ? .max : value
        }
        if let node = map["window_seconds"], let value = integer(node, "detect.flood.window_seconds", in: 1...86_400) {
            flood.seconds = value
        }
        if let node = map["top_sources"], let value = integer(node, "detect.flood.top_sources", in: 1...TopAddresses.capacity) {
            flood.topSources = value
        }
    }

    private mutating func readScan(_ node: Node, into scan: inout SensorConfig.ScanSettings) {
        guard let map = mapping(node, key: "scan", known: ["ports", "hosts", "seconds"]) else { return }
        if let node = map["ports"], let value = integer(node, "scan.ports", in: 1...65_535) { scan.ports = value }
        if let node = map["hosts"], let value = integer(node, "scan.hosts", in: 1...65_535) { scan.hosts = value }
        if let node = map["seconds"], let value = integer(node, "scan.seconds", in: 1...86_400) { scan.seconds = value }
    }

    private mutating func readDecoder(_ node: Node, into decoder: inout SensorConfig.DecoderSettings) {
        guard let map = mapping(node, key: "decoder", known: ["tunnels", "vxlan_ports", "geneve_port", "teredo_port"])
        else { return }
        if let node = map["tunnels"], let value = bool(node, "decoder.tunnels") { decoder.tunnels = value }
        if let node = map["vxlan_ports"], !isNull(node) {
            // One port or a list of up to four.
            let elements = node.sequence.map(Array.init) ?? [node]
            if elements.count > 4 {
                fail(node, "decoder.vxlan_ports", "at most 4 ports, got \(elements.count)")
            } else {
                var ports: [UInt16] = []
                for (i, element) in elements.enumerated() {
                    let key = node.sequence == nil ? "decoder.vxlan_ports" : "decoder.vxlan_ports[\(i)]"
                    guard let port = integer(element, key, in: 1...65_535) else { continue }
                    ports.append(UInt16(port))
                }
                if ports.count == elements.count { decoder.vxlanPorts = ports }
            }
        }
        if let node = map["geneve_port"], let value = integer(node, "decoder.geneve_port", in: 0...65_535) {
            decoder.genevePort = UInt16(value)
        }
        if let node = map["teredo_port"], let value = integer(node, "decoder.teredo_port", in: 0...65_535) {
            decoder.teredoPort = UInt16(value)
        }
    }

    // MARK: - Typed reads

    private func line(_ node: Node) -> Int { min(node.mark?.line ?? 1, lastLine) }

    mutating func fail(_ node: Node, _ key: String?, _ reason: String) {
        errors.append(ConfigError(file: file, line: line(node), key: key, reason: reason))
    }

    private func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && node.tag.description == Tag.Name.null.rawValue
    }

    /// What a node is, for "expected X, got Y".
    private func describe(_ node: Node) -> String {
        if node.mapping != nil { return "a mapping" }
        if node.sequence != nil { return "a list" }
        return "'\(node.scalar?.string ?? "")'"
    }

    /// The key/value pairs of a mapping with string keys, duplicates reported. Nil (and an
    /// error) when the node is not a mapping; nil without error when it is empty (`key:`).
    private mutating func pairs(_ node: Node, key: String?) -> [(String, Node, Node)]? {
        if isNull(node) { return nil }
        guard let map = node.mapping else {
            fail(node, key, key == nil ? "expected a mapping at the top level, got \(describe(node))"
                                       : "expected a mapping, got \(describe(node))")
            return nil
        }
        var result: [(String, Node, Node)] = []
        var firstLine: [String: Int] = [:]
        for (keyNode, value) in map {
            guard let name = keyNode.scalar?.string else {
                fail(keyNode, key, "keys must be plain names, got \(describe(keyNode))")
                continue
            }
            // `&alerts:` is an anchor on an empty key, not a key named "&alerts".
            guard !name.isEmpty else {
                fail(keyNode, key, "keys must be plain names, got an empty key (quote a key that starts with '&', '*' or '!')")
                continue
            }
            let path = key.map { "\($0).\(name)" } ?? name
            if let first = firstLine[name] {
                fail(keyNode, path, "duplicate key (first at line \(first))")
                continue
            }
            firstLine[name] = line(keyNode)
            lines[path] = line(keyNode)
            result.append((name, keyNode, value))
        }
        return result
    }

    /// A mapping whose keys must be among `known`.
    private mutating func mapping(_ node: Node, key: String?, known: [String]) -> [String: Node]? {
        guard let pairs = pairs(node, key: key) else { return nil }
        var result: [String: Node] = [:]
        for (name, keyNode, value) in pairs {
            guard known.contains(name) else {
                let path = key.map { "\($0).\(name)" } ?? name
                var reason = "unknown key"
                if let suggestion = known.min(by: { editDistance($0, name) < editDistance($1, name) }),
                   editDistance(suggestion, name) <= 2 {
                    reason += " (did you mean '\(suggestion)'?)"
                }
                fail(keyNode, path, reason)
                continue
            }
            result[name] = value
        }
        return result
    }

    /// A scalar's text; nil (and an error) for lists and mappings; nil without error when
    /// empty, which means the default.
    private mutating func string(_ node: Node, _ key: String) -> String? {
        if isNull(node) { return nil }
        guard let scalar = node.scalar else {
            fail(node, key, "expected a string, got \(describe(node))")
            return nil
        }
        let tag = node.tag.description
        if tag.hasPrefix("!") && !tag.hasPrefix("!!") {
            fail(node, key, "quote a value that starts with '!' (YAML reads '\(tag)' as a tag)")
            return nil
        }
        guard !scalar.string.isEmpty else {
            fail(node, key, "must not be empty")
            return nil
        }
        return scalar.string
    }

    private mutating func integer(_ node: Node, _ key: String, in range: ClosedRange<Int>) -> Int? {
        if isNull(node) { return nil }
        guard let scalar = node.scalar, let value = Int(scalar.string) else {
            fail(node, key, "expected an integer, got \(describe(node))")
            return nil
        }
        guard range.contains(value) else {
            fail(node, key, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    private mutating func bool(_ node: Node, _ key: String) -> Bool? {
        if isNull(node) { return nil }
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            fail(node, key, "expected true or false, got \(describe(node))")
            return nil
        }
    }

    private mutating func readRedis(_ node: Node, into outputs: inout SensorConfig.OutputSettings) {
        guard let redis = mapping(node, key: "outputs.redis", known: ["enabled", "url", "mode", "key", "stream_maxlen", "queue_mib"]) else {
            return
        }
        var enabled = true
        if let node = redis["enabled"], let value = bool(node, "outputs.redis.enabled") { enabled = value }
        guard let urlNode = redis["url"] else {
            if enabled { fail(node, "outputs.redis", "needs a url (redis://host:port/db or a unix socket path)") }
            return
        }
        // Every key is checked, even after a bad url, so one run names every problem.
        var target: RedisTarget?
        if let url = string(urlNode, "outputs.redis.url") {
            do {
                target = try RedisTarget(url: url)
            } catch {
                fail(urlNode, "outputs.redis.url", error.message)
            }
        }
        var settings = SensorConfig.RedisSettings(target: target ?? RedisTarget(address: .unix(path: "/")))
        if let node = redis["mode"], let value = choice(node, "outputs.redis.mode", RedisMode.self) { settings.mode = value }
        if let node = redis["key"], let value = string(node, "outputs.redis.key") {
            if value.isEmpty { fail(node, "outputs.redis.key", "cannot be empty") } else { settings.key = value }
        }
        if let node = redis["stream_maxlen"], let value = integer(node, "outputs.redis.stream_maxlen", in: 0...1_000_000_000) {
            settings.streamMaxLength = value
        }
        if let node = redis["queue_mib"], let value = integer(node, "outputs.redis.queue_mib", in: 1...65_536) {
            settings.queueBytes = value << 20
        }
        guard target != nil else { return }
        if enabled { outputs.redis = settings }
    }

    private mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ node: Node, _ key: String, _ type: Choice.Type
    ) -> Choice? where Choice.RawValue == String {
        guard let text = string(node, key) else { return nil }
        if let value = Choice(rawValue: text.lowercased()) { return value }
        let names = Choice.allCases.map(\.rawValue)
        let list = names.count == 2 ? "\(names[0]) or \(names[1])" : names.joined(separator: ", ")
        fail(node, key, "must be \(list), got '\(text)'")
        return nil
    }
}

/// Levenshtein distance, for "did you mean".
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
