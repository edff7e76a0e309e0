import Foundation

/// A fresh directory under the system's temporary directory, removed when the test lets it go.
public final class TempDirectory {
    public let path: String

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ghostport-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` as `name` and returns its path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Writes `capture` as `name` and returns its path.
    @discardableResult
    public func write(_ name: String, _ capture: CaptureFile) throws -> String {
        let target = file(name)
        try capture.write(to: target)
        return target
    }
}
