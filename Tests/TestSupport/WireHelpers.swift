@_exported import TrafficGen
import Wire

extension IPAddress {
    /// The address `text` names, as the decoder would report it.
    public init(parsing text: String) {
        let bytes = AddressText.bytes(text)
        func word(_ slice: ArraySlice<UInt8>) -> UInt64 { slice.reduce(0) { $0 << 8 | UInt64($1) } }
        if bytes.count == 4 {
            self.init(ipv4: UInt32(word(bytes[0..<4])))
        } else {
            self.init(high: word(bytes[0..<8]), low: word(bytes[8..<16]), isIPv6: true)
        }
    }
}

extension Decoder {
    /// Decodes `frame` into a fresh packet: the one-line form tests want.
    public static func decode(_ frame: [UInt8], linkType: LinkType) -> DecodedPacket {
        var packet = DecodedPacket()
        frame.withUnsafeBytes { decode($0, linkType: linkType, into: &packet) }
        return packet
    }
}

extension DataLinkType {
    /// The capture header's value for the decoder's link type.
    public init(_ linkType: LinkType) { self.init(rawValue: linkType.rawValue) }
}
