/// One 802.1Q (TPID 0x8100) or 802.1ad (0x88a8) tag. An integer literal is an 802.1Q VLAN id.
public struct VLANTag: Sendable, ExpressibleByIntegerLiteral {
    public var id: UInt16
    public var priority: UInt8
    public var tpid: UInt16

    public init(id: UInt16, priority: UInt8 = 0, tpid: UInt16 = 0x8100) {
        self.id = id
        self.priority = priority
        self.tpid = tpid
    }

    public init(integerLiteral id: UInt16) { self.init(id: id) }

    public static func dot1q(_ id: UInt16) -> VLANTag { VLANTag(id: id) }
    public static func dot1ad(_ id: UInt16) -> VLANTag { VLANTag(id: id, tpid: 0x88A8) }
}

/// Whole frames, one builder per link type: each returns the bytes a capture would hold.
public enum Packet {
    public static let defaultSourceMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]
    public static let defaultDestinationMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02]

    /// EN10MB: MACs, up to any number of VLAN tags (outermost first), the EtherType, the payload,
    /// then zero padding up to `minimumLength` (60 is what a NIC puts on the wire without the FCS).
    public static func ethernet(src: [UInt8] = defaultSourceMAC, dst: [UInt8] = defaultDestinationMAC,
                                vlans: [VLANTag] = [], minimumLength: Int = 0, _ network: Network) -> [UInt8] {
        var frame = dst + src
        for tag in vlans {
            frame.append16(tag.tpid)
            frame.append16(UInt16(tag.priority & 0x7) << 13 | (tag.id & 0x0FFF))
        }
        frame.append16(network.etherType)
        frame += network.bytes
        if frame.count < minimumLength { frame += [UInt8](repeating: 0, count: minimumLength - frame.count) }
        return frame
    }

    /// LINUX_SLL (16-byte cooked header). `hatype` 1 is Ethernet; 778 (GRE) and 824 (netlink) carry no EtherType.
    public static func sll(packetType: UInt16 = 0, hatype: UInt16 = 1, address: [UInt8] = defaultSourceMAC,
                           _ network: Network) -> [UInt8] {
        var frame: [UInt8] = []
        frame.append16(packetType)
        frame.append16(hatype)
        frame.append16(UInt16(address.count))
        frame += (address + [UInt8](repeating: 0, count: 8)).prefix(8)
        frame.append16(network.etherType)
        return frame + network.bytes
    }

    /// LINUX_SLL2 (20-byte cooked header with the interface index).
    public static func sll2(interfaceIndex: UInt32 = 1, hatype: UInt16 = 1, packetType: UInt8 = 0,
                            address: [UInt8] = defaultSourceMAC, _ network: Network) -> [UInt8] {
        var frame: [UInt8] = []
        frame.append16(network.etherType)
        frame.append16(0)  // reserved
        frame.append32(interfaceIndex)
        frame.append16(hatype)
        frame += [packetType, UInt8(address.count)]
        frame += (address + [UInt8](repeating: 0, count: 8)).prefix(8)
        return frame + network.bytes
    }

    /// BSD address families as NULL/LOOP headers carry them.
    public enum AddressFamily {
        public static let inet: UInt32 = 2
        /// Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30.
        public static let inet6BSD: UInt32 = 24
        public static let inet6FreeBSD: UInt32 = 28
        public static let inet6Darwin: UInt32 = 30
    }

    /// NULL: a 4-byte family in the capturing host's byte order (`bigEndian` false is the usual
    /// little-endian host). The family defaults from the EtherType.
    public static func null(family: UInt32? = nil, bigEndian: Bool = false, _ network: Network) -> [UInt8] {
        let value = family ?? (network.etherType == 0x86DD ? AddressFamily.inet6Darwin : AddressFamily.inet)
        var frame: [UInt8] = []
        if bigEndian { frame.append32(value) } else { frame.appendLE32(value) }
        return frame + network.bytes
    }

    /// LOOP: like NULL, the family always in network byte order.
    public static func loop(family: UInt32? = nil, _ network: Network) -> [UInt8] {
        null(family: family, bigEndian: true, network)
    }

    /// RAW, IPV4, IPV6: the IP packet itself.
    public static func raw(_ network: Network) -> [UInt8] { network.bytes }
}
