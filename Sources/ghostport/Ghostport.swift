import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

@main
struct Ghostport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ghostport",
        abstract: "A passive sensor for traffic on abandoned ports.",
        version: "0.1.0",
        subcommands: [RunCommand.self, ReadCommand.self, DecodeCommand.self, RulesCommand.self]
    )

    /// As ArgumentParser's, except that a usage error exits 2 (tcpdump's and the README's
    /// convention) rather than 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandleStderr.write(fullMessage(for: error) + "\n")
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}
