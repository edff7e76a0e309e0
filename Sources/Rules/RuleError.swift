import Platform

/// A rule (or file) that could not be loaded, and exactly where.
///
/// `line` and `column` are 1-based; both are 0 when the problem is the file itself.
public struct RuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var reason: String

    public init(file: String, line: Int, column: Int, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        line == 0 ? "\(file): \(reason)" : column == 0 ? "\(file):\(line): \(reason)" : "\(file):\(line):\(column): \(reason)"
    }
}

extension RuleError {
    /// A file or directory that could not be read: the file itself, so line and column 0.
    init(_ error: FileError) {
        self.init(file: error.path, line: 0, column: 0, reason: error.reason)
    }
}
