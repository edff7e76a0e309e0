import Flow
import Wire

/// Packets built field by field: the flow layer reads only what the decoder filled in.
enum Packets {
    static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> IPAddress {
        IPAddress(ipv4: UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }

    static func ipv6(_ high: UInt64, _ low: UInt64) -> IPAddress {
        IPAddress(high: high, low: low, isIPv6: true)
    }

    static func ip(src: IPAddress, dst: IPAddress, proto: UInt8, vlan: UInt16? = nil) -> DecodedPacket {
        var packet = DecodedPacket()
        packet.ipVersion = src.isIPv6 ? 6 : 4
        packet.src = src
        packet.dst = dst
        packet.proto = proto
        packet.ipLength = 60
        if let vlan {
            packet.vlanCount = 1
            packet.vlanIDs = (vlan, 0, 0)
        }
        return packet
    }

    static func tcp(_ src: IPAddress, _ sport: UInt16, _ dst: IPAddress, _ dport: UInt16, flags: UInt16,
                    vlan: UInt16? = nil) -> DecodedPacket {
        var packet = ip(src: src, dst: dst, proto: IPProtocol.tcp, vlan: vlan)
        packet.hasPorts = true
        packet.sport = sport
        packet.dport = dport
        packet.hasTCPFlags = true
        packet.tcpFlags = flags
        return packet
    }

    static func udp(_ src: IPAddress, _ sport: UInt16, _ dst: IPAddress, _ dport: UInt16) -> DecodedPacket {
        var packet = ip(src: src, dst: dst, proto: IPProtocol.udp)
        packet.hasPorts = true
        packet.sport = sport
        packet.dport = dport
        return packet
    }

    static func icmp(_ src: IPAddress, _ dst: IPAddress, type: UInt8, code: UInt8 = 0) -> DecodedPacket {
        var packet = ip(src: src, dst: dst, proto: src.isIPv6 ? IPProtocol.icmpv6 : IPProtocol.icmp)
        packet.hasICMP = true
        packet.icmpType = type
        packet.icmpCode = code
        return packet
    }
}

/// Seconds of packet time in the table's nanoseconds.
func seconds(_ s: Int64) -> Int64 { s * 1_000_000_000 }

