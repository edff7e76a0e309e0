import ArgumentParser

@main
struct Ghostport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ghostport",
        abstract: "A passive sensor for traffic on abandoned ports.",
        version: "0.1.0",
        subcommands: [DecodeCommand.self]
    )
}
