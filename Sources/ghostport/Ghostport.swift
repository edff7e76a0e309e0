import ArgumentParser
import Sensor

#if canImport(Glibc)
import Glibc
#endif

@main
struct Ghostport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ghostport",
        abstract: "A passive sensor for traffic on abandoned ports.",
        version: Version.description,
        subcommands: [RunCommand.self, ReadCommand.self, DecodeCommand.self, RulesCommand.self, BaselineCommand.self, TailCommand.self, ReportCommand.self]
    )

    /// As ArgumentParser's, except that a usage error exits 2 (tcpdump's and the README's
    /// convention) rather than 64.
    static func main() {
        // First of all: a SIGTERM while `run` or `read` starts up waits for their watcher.
        SignalWatcher.block()
        do {
            var command = try parseAsRoot()
            if !(command is RunCommand || command is ReadCommand) { SignalWatcher.unblock() }
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
