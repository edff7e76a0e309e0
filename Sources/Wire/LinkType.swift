/// A libpcap data-link type (`pcap_datalink`), as the decoder dispatches on it.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let null = LinkType(rawValue: 0)
    public static let ethernet = LinkType(rawValue: 1)
    /// DLT_RAW as most platforms number it.
    public static let raw = LinkType(rawValue: 12)
    /// DLT_RAW as OpenBSD numbers it.
    public static let rawOpenBSD = LinkType(rawValue: 14)
    /// LINKTYPE_RAW, when a file's value reaches us unmapped.
    public static let linktypeRaw = LinkType(rawValue: 101)
    public static let loop = LinkType(rawValue: 108)
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)

    /// Whether the decoder understands frames of this link type.
    public var isSupported: Bool { name != nil }

    /// libpcap's name for the link types the decoder supports.
    public var name: String? {
        switch self {
        case .null: "NULL"
        case .ethernet: "EN10MB"
        case .raw, .rawOpenBSD, .linktypeRaw: "RAW"
        case .loop: "LOOP"
        case .linuxSLL: "LINUX_SLL"
        case .linuxSLL2: "LINUX_SLL2"
        case .ipv4: "IPV4"
        case .ipv6: "IPV6"
        default: nil
        }
    }

    public var description: String { name ?? "DLT_\(rawValue)" }
}
