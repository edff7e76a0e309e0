import FuzzSupport
import Wire

/// The first byte picks a link type, the rest is the frame; the frame is decoded as captured, with
/// a smaller capturedLength, and cut to a prefix, and every decode must keep the decoder's promises
/// (DecoderInvariants.swift, shared with Tests/Robustness).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let broken = DecoderInvariants.decodeInput(FuzzDriver.bytes(data, size))
    invariant(broken.isEmpty, broken.joined(separator: "; "))
    return 0
}

@main
enum FuzzDecoderMain {
    static func main() { FuzzDriver.run(fuzzDecoder) }
}
