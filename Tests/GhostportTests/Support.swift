import Foundation
import TestSupport
import Wire

/// What a finished process left: its exit status and everything it wrote.
struct ProcessOutput {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Standard output's lines, without the final newline's empty one.
    var lines: [String] { Self.split(stdout) }
    /// Standard error's lines.
    var errorLines: [String] { Self.split(stderr) }

    private static func split(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

enum Tool {
    /// The `ghostport` binary SwiftPM built next to the test bundle.
    static let ghostport: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("ghostport").path
    }()

    static let tshark = "/usr/bin/tshark"
    static var hasTshark: Bool { FileManager.default.isExecutableFile(atPath: tshark) }
    /// Nil when tshark is installed; otherwise what to install.
    static var tsharkUnmet: String? { hasTshark ? nil : "\(tshark) is missing (apt-get install -y tshark)" }

    /// Runs `executable` with `arguments`, standard input from `stdinPath` (else /dev/null) or, with
    /// `stdinPipe`, those bytes through a pipe, which cannot seek. Output goes through files, not pipes,
    /// so a large output cannot stall the child.
    static func run(_ executable: String, _ arguments: [String], stdinPath: String? = nil, stdinPipe: [UInt8]? = nil) throws -> ProcessOutput {
        let dir = try TempDirectory()
        let outPath = dir.file("stdout"), errPath = dir.file("stderr")
        try Data().write(to: URL(fileURLWithPath: outPath))
        try Data().write(to: URL(fileURLWithPath: errPath))
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinPath ?? "/dev/null"))
        defer {
            try? out.close()
            try? err.close()
            try? input.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        let pipe = Pipe()
        process.standardInput = stdinPipe == nil ? input : pipe
        try process.run()
        if let stdinPipe {
            // Small inputs only: the whole write must fit the pipe's buffer before the child reads.
            try pipe.fileHandleForWriting.write(contentsOf: Data(stdinPipe))
            try pipe.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        let stdout = try String(contentsOfFile: outPath, encoding: .utf8)
        let stderr = try String(contentsOfFile: errPath, encoding: .utf8)
        return ProcessOutput(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// `ghostport ARGUMENTS...`.
    static func ghostport(_ arguments: [String], stdinPath: String? = nil, stdinPipe: [UInt8]? = nil) throws -> ProcessOutput {
        try run(ghostport, arguments, stdinPath: stdinPath, stdinPipe: stdinPipe)
    }
}

let csvHeader = "frame,ts,linktype,src,dst,proto,sport,dport,tcp_flags,events,tunnel"
