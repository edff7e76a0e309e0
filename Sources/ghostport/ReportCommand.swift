import ArgumentParser
import Output
import Platform
import Report
import Rules
import Sensor

#if canImport(Glibc)
import Glibc
#endif

/// `ghostport report [EVE...] [-o FILE|-]`: one self-contained HTML page of what touched the
/// abandoned ports, from EVE records (ghostport's, or Suricata's for the fields they share).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Make one self-contained HTML page from EVE records: ports, listeners, sources, scans, a timeline.",
        discussion: """
            Reads EVE JSON lines (files, rotated ones, gzip-compressed ones, - for standard input; \
            default: /var/log/ghostport/eve.json, the service's) and writes one HTML page with no \
            request leaving it: inline CSS and SVG, a Content-Security-Policy that forbids loading \
            anything. Files are read in the order of their first record's time. A line that is not \
            an EVE record is counted and named (FILE:LINE: reason); the page says so. Memory is \
            bounded by the report's caps, not by the input's size. Exit status: 0, 1 when an input \
            could not be read to its end, 2 for a missing or unreadable input or usage errors.
            """
    )

    @Argument(help: "EVE files (- for standard input).")
    var inputs: [String] = ["/var/log/ghostport/eve.json"]

    @Option(name: .shortAndLong, help: "Write the page here ('-': standard output, the default when it is not a terminal).")
    var output: String?

    @OptionGroup var options: ReportOptions

    func validate() throws {
        try options.validate()
        if output == nil && isatty(STDOUT_FILENO) == 1 {
            throw ValidationError("the report is an HTML page: name a file with -o FILE (or -o - to print it)")
        }
    }

    func run() throws {
        for path in inputs where path != "-" {
            switch FileSystem.kind(of: path) {
            case .missing:
                warn("\(path): no such file or directory")
                throw ExitCode(2)
            case .directory:
                warn("\(path): is a directory (name the EVE files)")
                throw ExitCode(2)
            default:
                // The service's files are 0640: say so before reading anything.
                if access(path, R_OK) != 0 {
                    warn("\(path): \(String(cString: strerror(errno)).lowercased())")
                    throw ExitCode(2)
                }
            }
        }
        let builder = ReportBuilder(data: options.data())
        for path in ReportBuilder.ordered(inputs) { builder.read(path) }
        let status = try Self.finish(builder, to: output ?? "-", top: options.top)
        if status != 0 { throw ExitCode(status) }
    }

    /// Writes the page and says on standard error what could not be read; the exit status.
    static func finish(_ builder: ReportBuilder, to output: String, top: Int) throws -> Int32 {
        for failure in builder.failures { warn(failure) }
        for problem in builder.data.problems { warn(problem) }
        let hidden = builder.data.malformed - builder.data.problems.count
        if hidden > 0 { warn("and \(hidden) more lines that are not EVE records") }
        let page = builder.page(top: top, generator: "ghostport \(Version.version)", generated: LiveSensor.wallClock() / 1000)
        do {
            try Self.write(page, to: output)
        } catch let error as RegistryFileError {
            warn(error.description)
            throw ExitCode(2)
        } catch {
            warn("standard output: \(error)")
            throw ExitCode(2)
        }
        return builder.failures.isEmpty ? 0 : 1
    }

    /// The page to a file (RegistryFile's atomic replacement: a reader never sees half of one) or
    /// standard output.
    static func write(_ page: String, to output: String) throws {
        guard output != "-" else {
            var out = OutputBuffer(fd: STDOUT_FILENO)
            out.append(string: page)
            try out.flush()
            return
        }
        try RegistryFile.replaceContents(of: output, with: page)
    }
}

/// The report's options, shared by `report` and `read --report`.
struct ReportOptions: ParsableArguments {
    @Option(help: "Rows of each long table (ports, listeners, sources, scans); the rest are counted as 'and N more'.")
    var top = 20

    func validate() throws {
        if !(1...100_000).contains(top) { throw ValidationError("--top must be between 1 and 100000") }
    }

    /// An empty report with the registry's service names (the shipped registry, when found).
    func data() -> ReportData {
        var services: [(port: Int, proto: String, service: String)] = []
        let path = RegistryCommandDefaults.registry
        if ShippedRules.found() != nil, let text = try? RegistryFile.contents(of: path),
           let registry = try? Registry.parse(text, file: path) {
            services = registry.entries.map { (Int($0.port), $0.proto.rawValue, $0.service) }
        }
        return ReportData(services: services)
    }
}
