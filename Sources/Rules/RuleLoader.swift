import Platform

/// Rules text from somewhere other than a file on disk (tests, generated rules).
public struct RuleSource: Sendable {
    public var file: String
    public var text: String

    public init(file: String, text: String) {
        self.file = file
        self.text = text
    }
}

/// Loads rules files into a compiled `RuleSet`, reporting every rule it had to skip.
///
/// As in Suricata, a bad rule is reported and the rest load; with `strict`, any
/// error leaves the ruleset empty so a sensor never runs on a partial ruleset.
public enum RuleLoader {
    /// From this many rules, work over them is worth a second thread: a file this long is
    /// parsed in two halves, and the engine builds its port tables at once (the shipped 2,676
    /// rules are past it; a test's handful are not, and start no thread).
    public static let parallelRules = 500

    /// Suricata's defaults; caller variables override them.
    public static let defaultVariables: [String: String] = [
        "HOME_NET": "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]",
        "EXTERNAL_NET": "!$HOME_NET",
    ]

    /// Loads files and directories (a directory's `*.rules`, sorted by name).
    public static func load(
        paths: [String], variables: [String: String] = [:],
        classification: Classification = .suricataDefault, strict: Bool = false
    ) -> (RuleSet, [RuleError]) {
        let (files, fileErrors) = rulesFiles(in: paths)
        var loader = Loader(variables: variables, classification: classification)
        loader.errors = fileErrors
        for file in files {
            switch FileSystem.contents(of: file) {
            case .success(let bytes): loader.add(bytes, file: file)
            case .failure(let error): loader.errors.append(RuleError(error))
            }
        }
        return loader.finish(strict: strict)
    }

    /// Loads rules held in memory, in order, as if each were a file.
    public static func load(
        sources: [RuleSource], variables: [String: String] = [:],
        classification: Classification = .suricataDefault, strict: Bool = false
    ) -> (RuleSet, [RuleError]) {
        var loader = Loader(variables: variables, classification: classification)
        for source in sources { loader.add(Array(source.text.utf8), file: source.file) }
        return loader.finish(strict: strict)
    }

    /// Loads one text, for tests and one-off rules.
    public static func load(
        text: String, file: String = "<text>", variables: [String: String] = [:],
        classification: Classification = .suricataDefault, strict: Bool = false
    ) -> (RuleSet, [RuleError]) {
        load(sources: [RuleSource(file: file, text: text)], variables: variables,
             classification: classification, strict: strict)
    }

    /// Expands paths: files as given, directories to their `*.rules` files sorted by name.
    public static func rulesFiles(in paths: [String]) -> (files: [String], errors: [RuleError]) {
        var files: [String] = []
        var errors: [RuleError] = []
        for path in paths {
            switch FileSystem.kind(of: path) {
            case .file:
                files.append(path)
            case .directory:
                switch FileSystem.list(directory: path) {
                case .success(let names):
                    for name in names where name.hasSuffix(".rules")
                        && FileSystem.kind(of: FileSystem.join(path, name)) == .file {
                        files.append(FileSystem.join(path, name))
                    }
                case .failure(let error):
                    errors.append(RuleError(error))
                }
            case .missing:
                errors.append(RuleError(file: path, line: 0, column: 0, reason: "no such file or directory"))
            }
        }
        return (files, errors)
    }

    /// Where `rules check` looks for classification.config: inside a directory path,
    /// else beside the file.
    public static func classificationPath(for rulesPath: String) -> String? {
        let directory = FileSystem.kind(of: rulesPath) == .directory
            ? rulesPath : FileSystem.directory(of: rulesPath)
        let candidate = FileSystem.join(directory, "classification.config")
        return FileSystem.kind(of: candidate) == .file ? candidate : nil
    }
}

private struct SidKey: Hashable {
    var gid: UInt32
    var sid: UInt32
}

/// Accumulates rules across files so sids are unique per gid over the whole ruleset.
private struct Loader {
    /// Two parsers, as each keeps caches: the second parses the back half of a long file on
    /// another thread.
    let parser: RuleParser
    let helperParser: RuleParser
    var rules: [Rule] = []
    var errors: [RuleError] = []
    var firstSeen: [SidKey: RuleLocation] = [:]

    init(variables: [String: String], classification: Classification) {
        let variables = RuleLoader.defaultVariables.merging(variables) { _, caller in caller }
        parser = RuleParser(variables: variables, classification: classification)
        helperParser = RuleParser(variables: variables, classification: classification)
    }

    mutating func add(_ bytes: [UInt8], file: String) {
        let logicals = LogicalRule.split(bytes)
        // Parsed in two halves at once for a long file; then taken in file order, so sids,
        // duplicates and errors come out exactly as from one pass.
        var results = [Result<RuleParser.Parsed, SyntaxError>?](repeating: nil, count: logicals.count)
        let (parser, helperParser) = (parser, helperParser)
        results.withUnsafeMutableBufferPointer { results in
            func parse(_ range: Range<Int>, with parser: RuleParser) {
                for i in range { results[i] = Result { () throws(SyntaxError) in try parser.parse(logicals[i], file: file) } }
            }
            if logicals.count >= RuleLoader.parallelRules {
                let half = logicals.count / 2
                Concurrently.run({ parse(0..<half, with: parser) }, alongside: { parse(half..<logicals.count, with: helperParser) })
            } else {
                parse(0..<logicals.count, with: parser)
            }
        }
        rules.reserveCapacity(rules.count + logicals.count)
        firstSeen.reserveCapacity(firstSeen.count + logicals.count)
        for (index, logical) in logicals.enumerated() {
            do {
                // Taken out of the array, not copied: a rule holds a dozen references.
                let parsed = try results[index].take()!.get()
                let key = SidKey(gid: parsed.rule.gid, sid: parsed.rule.sid)
                if let first = firstSeen[key] {
                    let (line, column) = logical.position(of: parsed.sidOffset, in: bytes)
                    errors.append(RuleError(
                        file: file, line: line, column: column,
                        reason: "duplicate sid \(key.sid) (gid \(key.gid)), first defined at \(first.file):\(first.line)"))
                    continue
                }
                firstSeen[key] = parsed.rule.location
                rules.append(parsed.rule)
            } catch {
                let (line, column) = logical.position(of: error.offset, in: bytes)
                errors.append(RuleError(file: file, line: line, column: column, reason: error.reason))
            }
        }
    }

    func finish(strict: Bool) -> (RuleSet, [RuleError]) {
        if strict && !errors.isEmpty { return (.empty, errors) }
        return (RuleSet(rules: rules), errors)
    }
}
