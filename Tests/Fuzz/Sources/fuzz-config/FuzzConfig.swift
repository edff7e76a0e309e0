import Config
import FuzzSupport

/// Checks the input as a configuration file's bytes (invalid UTF-8 included: the loader reports
/// its line) and the invariants in ConfigInvariants.swift, shared with Tests/Robustness: no
/// crash, every error at a line inside the text with a reason, errors in file order, an accepted
/// config within its ranges, the same answer twice.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = [UInt8](FuzzDriver.bytes(data, size))
    let broken = ConfigInvariants.violations(bytes, file: "fuzz.yaml")
    invariant(broken.isEmpty, broken.joined(separator: "; "))
    return 0
}

@main
enum FuzzConfigMain {
    static func main() { FuzzDriver.run(fuzzConfig) }
}
