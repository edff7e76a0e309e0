import FuzzSupport
import Wire

/// The link types `ghostport decode` supports; the input's first byte picks one (modulo the count).
let linkTypes: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .ipv4, .ipv6]

/// Decodes the frame three ways and checks what the decoder promises about any input:
/// - as captured;
/// - with a `capturedLength` smaller than the frame (the decoder takes the larger, so the same result);
/// - as a ring slot would hand it over: a prefix of the frame with the full captured length.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzDriver.bytes(data, size)
    guard input.count >= 1 else { return 0 }
    let linkType = linkTypes[Int(input[0]) % linkTypes.count]
    withExactCopy(of: UnsafeRawBufferPointer(rebasing: input[1...])) { frame in
        decodeThreeWays(frame, linkType: linkType, cutAt: Int(input[input.count - 1]))
    }
    return 0
}

func decodeThreeWays(_ frame: UnsafeRawBufferPointer, linkType: LinkType, cutAt: Int) {
    var whole = DecodedPacket()
    Decoder.decode(frame, linkType: linkType, into: &whole)
    DecoderInvariants.check(whole, frame: frame, capturedLength: frame.count)

    var smaller = DecodedPacket()
    Decoder.decode(frame, linkType: linkType, capturedLength: frame.count / 2, into: &smaller)
    DecoderInvariants.check(smaller, frame: frame, capturedLength: frame.count)
    invariant(DecoderInvariants.summary(smaller) == DecoderInvariants.summary(whole),
              "a capturedLength below the frame's size changed the result")

    // A prefix cut at a length taken from the input itself (its last byte), so the fuzzer can steer it.
    if frame.count > 1 {
        withExactCopy(of: UnsafeRawBufferPointer(rebasing: frame[..<(cutAt % frame.count)])) { prefix in
            var slot = DecodedPacket()
            Decoder.decode(prefix, linkType: linkType, capturedLength: frame.count, into: &slot)
            DecoderInvariants.check(slot, frame: prefix, capturedLength: frame.count)
        }
    }
}

@main
enum FuzzDecoderMain {
    static func main() { FuzzDriver.run(fuzzDecoder) }
}
