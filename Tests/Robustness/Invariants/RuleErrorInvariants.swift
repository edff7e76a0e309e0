import Rules

/// Every error `RuleLoader` reports for a text must point inside it: line 1...lines and column
/// 1...characters on that line + 1 (characters as the loader counts them: UTF-8 lead bytes).
/// Shared by fuzz-rules (Tests/Fuzz links this file) and the Robustness tests.
enum RuleErrorInvariants {
    static func violations(_ errors: [RuleError], text: String, file: String) -> [String] {
        var broken: [String] = []
        let lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for error in errors {
            if error.file != file { broken.append("error names file \(error.file): \(error)") }
            guard error.line >= 1 && error.line <= lines.count else {
                broken.append("line \(error.line) outside 1...\(lines.count): \(error)")
                continue
            }
            let characters = lines[error.line - 1].count { $0 & 0xC0 != 0x80 }
            if error.column < 1 || error.column > characters + 1 {
                broken.append("column \(error.column) outside 1...\(characters + 1) on line \(error.line): \(error)")
            }
            if error.reason.isEmpty { broken.append("no reason at \(error.line):\(error.column)") }
        }
        return broken
    }
}
