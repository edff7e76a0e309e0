// `ghostport rules generate` and `ghostport rules list`: thin wrappers over the Rules module.

import ArgumentParser
import Rules

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct RulesGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate the abandoned-port rules from the registry, or rebuild the registry from IANA and nmap data.",
        discussion: """
            Without --from-services: reads the registry and writes the Suricata rules of each watched entry \
            (six for TCP: probes with and without SYN, answers, data or packets from the port with no \
            handshake seen, a handshake seen from the client's side only; two for UDP and SCTP: a probe \
            and an answer) with sids derived from port, protocol and rule kind.

            With --from-services and --frequencies: rebuilds the registry instead. Every registered port \
            in --ports whose nmap open-port frequency is at or below the protocol's threshold is selected; \
            the hand decisions in the base registry (curated, low-use, excluded entries and every note) are kept. \
            Run `ghostport rules generate` again afterwards to refresh the rules.

            Example: ghostport rules generate --from-services /usr/share/wireshark/services \
            --frequencies /usr/share/nmap/nmap-services --max-frequency 0.0001 --ports 1-1023
            """)

    @Option(help: ArgumentHelp("The registry to read, or to rebuild with --from-services.", valueName: "path"))
    var registry = RegistryCommandDefaults.registry

    @Option(
        name: [.short, .long],
        help: ArgumentHelp(
            "Where to write; '-' for standard output. Default: \(RegistryCommandDefaults.rules), or the registry when rebuilding.",
            valueName: "path"))
    var output: String?

    @Flag(help: "Write nothing; exit 1 if the file on disk differs from what would be generated.")
    var check = false

    @Option(
        name: .customLong("from-services"),
        help: ArgumentHelp("Rebuild the registry from this IANA services(5)-format list.", valueName: "path"))
    var fromServices: String?

    @Option(help: ArgumentHelp("The nmap-services-format open-port frequency table for a rebuild.", valueName: "path"))
    var frequencies: String?

    @Option(
        name: .customLong("max-frequency"),
        help: ArgumentHelp("Threshold for every protocol (default: tcp 0.000025, udp 0.000400, sctp 0.000025).", valueName: "freq"),
        transform: RegistryCommandDefaults.frequency)
    var maxFrequency: NmapFrequency?

    @Option(name: .customLong("max-tcp-frequency"), help: ArgumentHelp("Threshold for TCP.", valueName: "freq"),
            transform: RegistryCommandDefaults.frequency)
    var maxTCPFrequency: NmapFrequency?

    @Option(name: .customLong("max-udp-frequency"), help: ArgumentHelp("Threshold for UDP.", valueName: "freq"),
            transform: RegistryCommandDefaults.frequency)
    var maxUDPFrequency: NmapFrequency?

    @Option(name: .customLong("max-sctp-frequency"), help: ArgumentHelp("Threshold for SCTP.", valueName: "freq"),
            transform: RegistryCommandDefaults.frequency)
    var maxSCTPFrequency: NmapFrequency?

    @Option(help: ArgumentHelp("Port range a rebuild decides: 'first-last' or one port.", valueName: "range"),
            transform: RegistryCommandDefaults.portRange)
    var ports: ClosedRange<UInt16> = RegistryCriterion.shipped.ports

    @Option(help: ArgumentHelp("Protocols a rebuild decides, comma-separated.", valueName: "list"),
            transform: RegistryCommandDefaults.protocols)
    var protocols: [RegistryProtocol] = RegistryProtocol.allCases

    @Option(help: ArgumentHelp("Registry whose hand decisions a rebuild keeps (default: --registry, if it exists).",
                               valueName: "path"))
    var base: String?

    @Flag(name: .customLong("no-base"), help: "Rebuild from the sources alone, keeping no hand decisions.")
    var noBase = false

    func validate() throws {
        if (fromServices == nil) != (frequencies == nil) {
            throw ValidationError("--from-services and --frequencies go together.")
        }
        let rebuildOnly = maxFrequency != nil || maxTCPFrequency != nil || maxUDPFrequency != nil
            || maxSCTPFrequency != nil || base != nil || noBase
        if fromServices == nil, rebuildOnly {
            throw ValidationError("Thresholds and --base/--no-base only apply to a rebuild (--from-services).")
        }
        if check, output == "-" {
            throw ValidationError("--check compares a file on disk; it cannot check standard output.")
        }
        if base != nil, noBase {
            throw ValidationError("--base and --no-base exclude each other.")
        }
    }

    func run() throws {
        if let fromServices, let frequencies {
            try rebuildRegistry(servicesPath: fromServices, frequenciesPath: frequencies)
        } else {
            try generateRules()
        }
    }

    private func generateRules() throws {
        let parsed = try RegistryCommandDefaults.loadRegistry(registry)
        let source = registry.split(separator: "/").last.map(String.init) ?? registry
        let text = RuleGenerator.ruleset(for: parsed, source: source)
        try RegistryCommandDefaults.emit(text, to: output ?? RegistryCommandDefaults.rules, check: check)
    }

    private func rebuildRegistry(servicesPath: String, frequenciesPath: String) throws {
        let services = try RegistryCommandDefaults.attempt {
            try RegistrySources.parseServices(try RegistryFile.contents(of: servicesPath), file: servicesPath)
        }
        let table = try RegistryCommandDefaults.attempt {
            try RegistrySources.parseFrequencies(try RegistryFile.contents(of: frequenciesPath), file: frequenciesPath)
        }
        var limits: [RegistryProtocol: NmapFrequency] = [:]
        for proto in protocols {
            let specific: NmapFrequency? = switch proto {
            case .tcp: maxTCPFrequency
            case .udp: maxUDPFrequency
            case .sctp: maxSCTPFrequency
            }
            limits[proto] = specific ?? maxFrequency ?? RegistryCriterion.shipped.maxFrequency[proto]
        }
        let criterion = RegistryCriterion(maxFrequency: limits, ports: ports)
        let basePath = noBase ? nil : (base ?? registry)
        var baseRegistry: Registry?
        if let basePath {
            // The default base may not exist yet (a first build); one named with --base must.
            if base != nil || RegistryCommandDefaults.fileExists(basePath) {
                baseRegistry = try RegistryCommandDefaults.loadRegistry(basePath)
            }
        }
        let rebuilt = RegistryBuilder.build(
            services: services, frequencies: table, criterion: criterion, base: baseRegistry)
        try RegistryCommandDefaults.emit(rebuilt.serialized(), to: output ?? registry, check: check)
    }
}

struct RulesList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print the watched abandoned ports as a table: port, protocol, service, status and why.")

    @Option(help: ArgumentHelp("The registry to read.", valueName: "path"))
    var registry = RegistryCommandDefaults.registry

    @Flag(help: "Also list the excluded entries (registered, rarely seen, but with a living use).")
    var all = false

    @Option(name: .customLong("proto"), help: ArgumentHelp("Only this protocol: tcp, udp or sctp.", valueName: "proto"),
            transform: RegistryCommandDefaults.singleProtocol)
    var proto: RegistryProtocol?

    func run() throws {
        let parsed = try RegistryCommandDefaults.loadRegistry(registry)
        let rows = parsed.entries
            .filter { (all || $0.status.isWatched) && (proto == nil || $0.proto == proto) }
            .map { [String($0.port), $0.proto.rawValue, $0.service, $0.status.rawValue, $0.note] }
        print(RegistryCommandDefaults.table(header: ["PORT", "PROTO", "SERVICE", "STATUS", "WHY"], rows: rows), terminator: "")
    }
}

/// Defaults, option parsing and error reporting shared by the two commands.
enum RegistryCommandDefaults {
    /// Beside the shipped rules (`ShippedRules`: `/etc/ghostport/rules`, `/usr/share/ghostport/rules`,
    /// the source tree, `./rules`).
    static var registry: String { ShippedRules.directory() + "/registry.tsv" }
    static var rules: String { ShippedRules.directory() + "/abandoned-ports.rules" }

    @Sendable static func frequency(_ text: String) throws -> NmapFrequency {
        guard let value = NmapFrequency(text) else {
            throw ValidationError("'\(text)' is not a frequency from 0 to 1 with at most six decimals, like 0.000025.")
        }
        return value
    }

    @Sendable static func portRange(_ text: String) throws -> ClosedRange<UInt16> {
        let bounds = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = UInt16(bounds[0]), let last = UInt16(bounds.last ?? bounds[0]), first >= 1, first <= last else {
            throw ValidationError("'\(text)' is not a port range like 1-1023 (ports 1 to 65535).")
        }
        return first...last
    }

    @Sendable static func protocols(_ text: String) throws -> [RegistryProtocol] {
        let names = text.split(separator: ",")
        let parsed = names.compactMap { RegistryProtocol(rawValue: String($0)) }
        guard !names.isEmpty, parsed.count == names.count else {
            throw ValidationError("'\(text)' is not a comma-separated list of tcp, udp and sctp.")
        }
        return parsed
    }

    @Sendable static func singleProtocol(_ text: String) throws -> RegistryProtocol {
        guard let parsed = RegistryProtocol(rawValue: text) else {
            throw ValidationError("'\(text)' is not tcp, udp or sctp.")
        }
        return parsed
    }

    static func loadRegistry(_ path: String) throws -> Registry {
        if path == registry && !fileExists(path) && ShippedRules.found() == nil {
            warn(ShippedRules.notFound.replacingOccurrences(of: "--rules PATH", with: "--registry PATH"))
            throw ExitCode(2)
        }
        return try attempt { try Registry.parse(try RegistryFile.contents(of: path), file: path) }
    }

    static func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Runs `body`; a file or registry error becomes one `ghostport: ...` line on stderr and exit status 2.
    static func attempt<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as RegistryFileError {
            throw report(error.description, status: 2)
        } catch let error as RegistryError {
            throw report(error.description, status: 2)
        }
    }

    /// Writes `text` to `path` ('-': stdout); with `check`, compares instead and exits 1 on a difference.
    static func emit(_ text: String, to path: String, check: Bool) throws {
        if check {
            let onDisk: String
            do {
                onDisk = try RegistryFile.contents(of: path)
            } catch {
                throw report("\(error.description) (run without --check to create it)", status: 1)
            }
            if let line = firstDifferentLine(onDisk, text) {
                throw report("\(path): differs from a fresh generation from line \(line); run without --check to update it", status: 1)
            }
            return
        }
        if path == "-" {
            print(text, terminator: "")
            return
        }
        try attempt { try RegistryFile.replaceContents(of: path, with: text) }
    }

    static func firstDifferentLine(_ old: String, _ new: String) -> Int? {
        if old == new { return nil }
        let oldLines = old.split(separator: "\n", omittingEmptySubsequences: false)
        let newLines = new.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(oldLines.count, newLines.count) {
            let a = index < oldLines.count ? oldLines[index] : nil
            let b = index < newLines.count ? newLines[index] : nil
            if a != b { return index + 1 }
        }
        return nil
    }

    static func report(_ message: String, status: Int32) -> ExitCode {
        let line = "ghostport: \(message)\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
        return ExitCode(status)
    }

    /// Left-aligned columns two spaces apart; the last column is not padded.
    static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() {
                widths[index] = max(widths[index], cell.count)
            }
        }
        var text = ""
        for row in all {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            text += cells.joined(separator: "  ") + "\n"
        }
        return text
    }
}
