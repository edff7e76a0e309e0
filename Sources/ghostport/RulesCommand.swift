import ArgumentParser
import Capture
import Detect
import KernelFilter
import Platform
import Rules
import Sensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `ghostport rules ...`: work with Suricata-compatible rules files.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check rules files, generate the abandoned-port rules, list watched ports.",
        subcommands: [RulesCheck.self, RulesGenerate.self, RulesList.self, RulesFilter.self]
    )
}

/// `ghostport rules filter`: the kernel filter `run --kernel-filter auto` would install.
struct RulesFilter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Print the capture filter made from the rules for --kernel-filter auto.",
        discussion: """
            The filter as a pcap-filter expression goes to stdout (check it with tcpdump -d), or \
            with --program the program run installs, a binary search of the ports built without \
            libpcap's compiler; sizes go to stderr. Exit status 1 when the rules cannot be turned \
            into a filter (an ip rule, a rule on any port), with the reason.
            """
    )

    @OptionGroup var rules: RuleOptions

    @Flag(name: .customLong("program"), help: "Print the program run installs (tcpdump -d style) instead of the expression.")
    var program = false

    @Flag(help: "Print the program run installs as decimal bytecode, as tcpdump -ddd does (the form tc and iptables -m bpf take).")
    var bytecode = false

    @OptionGroup(title: "Tunnels (as run decodes them; the filter keeps what they may carry)")
    var tunnels: TunnelOptions

    @Argument(help: ArgumentHelp("Rules files or directories (default: the shipped rules).", valueName: "PATH"))
    var paths: [String] = []

    func run() throws {
        var options = rules
        options.paths += paths
        let ruleSet = try options.load()
        let plan = FittedKernelFilter.plan(.auto, rules: ruleSet, anomalies: false, tunnels: tunnels.ports,
                                           linkType: .ethernet, snaplen: 262_144)
        guard case .success(let fitted?) = plan else {
            warn(FittedKernelFilter.report(plan, userFilter: nil))
            throw ExitCode(1)
        }
        warn("run installs for Ethernet: \(fitted.summary)")
        if program {
            print(fitted.program.listing)
            return
        }
        if bytecode {
            print(fitted.program.bytecode)
            return
        }
        // The same packets (give or take merged gaps) in pcap-filter syntax, sized for libpcap's compiler.
        guard let expression = try FittedKernelFilter.fitExpression(fitted.filter, linkType: .ethernet, snaplen: 262_144) else {
            warn("no pcap-filter expression for these rules fits in \(BPFProgram.kernelLimit) instructions")
            throw ExitCode(1)
        }
        warn("as an expression, libpcap compiles it to \(expression.summary)")
        print(expression.expression)
    }
}

/// `ghostport rules check`: load rules the way the sensor would and report every problem.
struct RulesCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Parse rules files or directories and report every rule that fails to load.",
        discussion: """
            Errors go to stderr, one per line, as FILE:LINE:COLUMN: reason; a summary goes to stdout.
            Exit status: 0 when every rule loads, 1 when some failed, 2 for usage errors.
            """
    )

    @Flag(help: "Treat any failed rule as fatal: nothing is loaded.")
    var strict = false

    @Option(name: .customLong("var"), help: ArgumentHelp(
        "Define a rule variable, e.g. HOME_NET=[10.0.0.0/8] or WATCHED_PORTS=[571,1023]. Repeatable.",
        valueName: "NAME=VALUE"))
    var variables: [String] = []

    @Option(help: ArgumentHelp(
        "classification.config to use (default: beside the first rules path, else Suricata's built-in list).",
        valueName: "FILE"))
    var classification: String?

    // Optional to ArgumentParser so a missing PATH exits 2 like every other usage error here.
    @Argument(help: ArgumentHelp("Rules files, or directories of *.rules files (at least one).", valueName: "PATH"))
    var paths: [String] = []

    func run() throws {
        // Usage errors exit 2 before any rule is read, so scripts can tell them from bad rules.
        guard !paths.isEmpty else {
            Self.printError("ghostport: rules check: missing PATH\nusage: ghostport rules \(Self.usageString())")
            throw ExitCode(2)
        }
        var definitions: [String: String] = [:]
        for definition in variables {
            guard let (name, value) = Self.parseVariable(definition) else {
                Self.printError("ghostport: --var '\(definition)': expected NAME=VALUE")
                throw ExitCode(2)
            }
            definitions[name] = value
        }
        for path in paths + [classification].compactMap({ $0 }) where FileSystem.kind(of: path) == .missing {
            Self.printError("ghostport: \(path): no such file or directory")
            throw ExitCode(2)
        }

        var classificationErrors: [RuleError] = []
        var classtypes = Classification.suricataDefault
        if let path = classification ?? paths.first.flatMap(RuleLoader.classificationPath(for:)) {
            (classtypes, classificationErrors) = Classification.load(path: path)
        }

        let (ruleSet, ruleErrors) = RuleLoader.load(
            paths: paths, variables: definitions, classification: classtypes, strict: strict)
        let errors = classificationErrors + ruleErrors
        for error in errors { Self.printError(error.description) }

        let files = RuleLoader.rulesFiles(in: paths).files.count
        var summary = Self.summary(ruleSet, failed: ruleErrors.count, files: files)
        if !classificationErrors.isEmpty {
            summary += "\n  classification errors: \(classificationErrors.count)"
        }
        print(summary)
        guard errors.isEmpty else {
            if strict {
                Self.printError("ghostport: --strict: \(errors.count) error(s), nothing loaded")
            }
            throw ExitCode(1)
        }
    }

    /// `NAME=VALUE`, NAME a Suricata variable name; a leading `$` is tolerated.
    static func parseVariable(_ definition: String) -> (String, String)? {
        guard let equals = definition.firstIndex(of: "=") else { return nil }
        var name = Substring(definition[..<equals])
        if name.hasPrefix("$") { name = name.dropFirst() }
        let value = definition[definition.index(after: equals)...]
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
              name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic)
                  || ("0"..."9").contains($0) }),
              !value.isEmpty else { return nil }
        return (String(name), String(value))
    }

    static func summary(_ ruleSet: RuleSet, failed: Int, files: Int) -> String {
        var byAction: [RuleAction: Int] = [:]
        var byProtocol: [RuleProtocol: Int] = [:]
        for rule in ruleSet.rules {
            byAction[rule.action, default: 0] += 1
            byProtocol[rule.proto, default: 0] += 1
        }
        func counts<Key: RawRepresentable<String> & CaseIterable>(_ table: [Key: Int], _: Key.Type) -> String {
            let parts = Key.allCases.compactMap { key in table[key].map { "\(key.rawValue) \($0)" } }
            return parts.isEmpty ? "none" : parts.joined(separator: ", ")
        }
        return """
            rules: \(ruleSet.count) loaded, \(failed) failed, from \(files) file\(files == 1 ? "" : "s")
              by action: \(counts(byAction, RuleAction.self))
              by protocol: \(counts(byProtocol, RuleProtocol.self))
            """
    }

    static func printError(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
