/// Reads EVE inputs into a `ReportData` and makes the page: what `ghostport report` and
/// `ghostport read --report` share.
public final class ReportBuilder {
    public private(set) var data: ReportData
    public private(set) var inputs: [ReportPage.Input] = []
    /// Inputs that could not be read to their end (`FILE: reason`).
    public private(set) var failures: [String] = []
    private var pending: [UInt8] = []
    private var fedLines = 0

    public init(data: ReportData) {
        self.data = data
    }

    /// Orders the inputs by their first record's time (a day of rotated files is named newest
    /// first by a shell's glob: `eve.json eve.json.1 eve.json.2.gz`), so a sensor's stats records
    /// are met in the order they were written; standard input and files without a timestamp keep
    /// their place after the others.
    public static func ordered(_ paths: [String]) -> [String] {
        let keyed = paths.enumerated().map { index, path -> (Int64, Int, String) in
            guard path != "-" else { return (.max, index, path) }
            var first: Int64?
            try? EVELines(path: path).forEach { line, number in
                if case .text(let bytes) = line { first = ReportData.timestamp(of: bytes) }
                return first == nil && number < 16
            }
            return (first ?? .max, index, path)
        }
        return keyed.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
    }

    /// Reads one input to its end.
    public func read(_ path: String) {
        var count = 0
        do throws(EVELines.Failure) {
            try EVELines(path: path).forEach { line, number in
                count = number
                data.add(line, input: path == "-" ? "stdin" : path, number: number)
                return true
            }
        } catch {
            failures.append(path == "-" || error.description.hasPrefix(path) ? error.description : "\(path): \(error.description)")
        }
        inputs.append(ReportPage.Input(name: path == "-" ? "standard input" : path, lines: count))
    }

    /// Whole or partial lines as a writer produces them (`read --report`: the EVE output's bytes).
    public func feed(_ bytes: UnsafeRawBufferPointer, input: String) {
        var start = 0
        let all = bytes.bindMemory(to: UInt8.self)
        while let newline = all[start...].firstIndex(of: 0x0A) {
            fedLines += 1
            if pending.isEmpty {
                data.add(.text(UnsafeBufferPointer(rebasing: all[start..<newline])), input: input, number: fedLines)
            } else {
                pending.append(contentsOf: all[start..<newline])
                pending.withUnsafeBufferPointer { data.add(.text($0), input: input, number: fedLines) }
                pending.removeAll()
            }
            start = newline + 1
        }
        pending.append(contentsOf: all[start...])
    }

    /// After `feed`: names the fed records as one input.
    public func finishFeeding(name: String) {
        inputs.append(ReportPage.Input(name: name, lines: fedLines))
    }

    public func page(top: Int, generator: String, generated: Int64) -> String {
        ReportPage(data: data, inputs: inputs, top: top, generator: generator, generated: generated).render()
    }
}
