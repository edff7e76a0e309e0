import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The fields every EVE record starts with, in Suricata's order.
public struct EVEHeader {
    public var timestamp: Int64  // nanoseconds since the epoch
    public var flowID: UInt64 = 0
    public var inIface: String?
    public var pcapCount: UInt64 = 0
    public var vlanCount = 0
    public var vlanIDs: (UInt16, UInt16, UInt16) = (0, 0, 0)
    public var ipVersion: UInt8 = 0
    public var src = IPAddress.zero
    public var dst = IPAddress.zero
    public var hasPorts = false
    public var sport: UInt16 = 0
    public var dport: UInt16 = 0
    public var proto: UInt8 = 0
    public var hasICMP = false
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0

    public init(timestamp: Int64) { self.timestamp = timestamp }

    /// The header of a record about `packet`, in the packet's own direction.
    public init(packet: DecodedPacket, timestamp: Int64) {
        self.timestamp = timestamp
        vlanCount = packet.vlanCount
        vlanIDs = packet.vlanIDs
        ipVersion = packet.ipVersion
        src = packet.src
        dst = packet.dst
        hasPorts = packet.hasPorts
        sport = packet.sport
        dport = packet.dport
        proto = packet.proto
        hasICMP = packet.hasICMP
        icmpType = packet.icmpType
        icmpCode = packet.icmpCode
    }
}

/// Writes Suricata EVE records as single lines.
public enum EVE {
    /// `2025-06-15T09:12:01.123456+0000`: local time, microseconds, numeric zone, as Suricata writes it.
    public static func appendTimestamp(_ nanoseconds: Int64, into out: inout OutputBuffer) {
        var seconds = time_t(nanoseconds.floorDivided(by: 1_000_000_000))
        let micros = UInt64(nanoseconds - Int64(seconds) * 1_000_000_000) / 1000
        var parts = tm()
        localtime_r(&seconds, &parts)
        out.append(decimal: UInt64(parts.tm_year + 1900), width: 4)
        out.append(byte: 0x2D)
        out.append(decimal: UInt64(parts.tm_mon + 1), width: 2)
        out.append(byte: 0x2D)
        out.append(decimal: UInt64(parts.tm_mday), width: 2)
        out.append(byte: 0x54)
        out.append(decimal: UInt64(parts.tm_hour), width: 2)
        out.append(byte: 0x3A)
        out.append(decimal: UInt64(parts.tm_min), width: 2)
        out.append(byte: 0x3A)
        out.append(decimal: UInt64(parts.tm_sec), width: 2)
        out.append(byte: 0x2E)
        out.append(decimal: micros, width: 6)
        let offset = parts.tm_gmtoff
        out.append(byte: offset < 0 ? 0x2D : 0x2B)
        let minutes = UInt64(abs(offset) / 60)
        out.append(decimal: minutes / 60, width: 2)
        out.append(decimal: minutes % 60, width: 2)
    }

    /// EVE's `proto`: the IANA keyword for common protocols, the number otherwise.
    public static func appendProto(_ proto: UInt8, into out: inout OutputBuffer) {
        if let name = IPProtocol.name(proto) {
            out.append(byte: 0x22)
            out.append(name)
            out.append(byte: 0x22)
        } else {
            out.append(decimal: UInt64(proto))
        }
    }

    /// Opens a record: `{"timestamp":...,"event_type":...,` through `pkt_src`, without the closing brace.
    public static func open(_ header: EVEHeader, eventType: StaticString, into out: inout OutputBuffer) {
        out.append("{\"timestamp\":\"")
        appendTimestamp(header.timestamp, into: &out)
        out.append(byte: 0x22)
        if header.flowID != 0 {
            out.append(",\"flow_id\":")
            out.append(decimal: header.flowID)
        }
        if let iface = header.inIface {
            out.append(",\"in_iface\":")
            out.append(jsonString: iface)
        }
        if header.pcapCount != 0 {
            out.append(",\"pcap_cnt\":")
            out.append(decimal: header.pcapCount)
        }
        out.append(",\"event_type\":\"")
        out.append(eventType)
        out.append(byte: 0x22)
        if header.vlanCount > 0 {
            out.append(",\"vlan\":[")
            out.append(decimal: UInt64(header.vlanIDs.0))
            if header.vlanCount > 1 {
                out.append(byte: 0x2C)
                out.append(decimal: UInt64(header.vlanIDs.1))
            }
            if header.vlanCount > 2 {
                out.append(byte: 0x2C)
                out.append(decimal: UInt64(header.vlanIDs.2))
            }
            out.append(byte: 0x5D)
        }
        guard header.ipVersion != 0 else { return }
        out.append(",\"src_ip\":\"")
        out.append(address: header.src)
        out.append(byte: 0x22)
        if header.hasPorts {
            out.append(",\"src_port\":")
            out.append(decimal: UInt64(header.sport))
        }
        out.append(",\"dest_ip\":\"")
        out.append(address: header.dst)
        out.append(byte: 0x22)
        if header.hasPorts {
            out.append(",\"dest_port\":")
            out.append(decimal: UInt64(header.dport))
        }
        out.append(",\"proto\":")
        appendProto(header.proto, into: &out)
        out.append(",\"ip_v\":")
        out.append(decimal: UInt64(header.ipVersion))
        if header.hasICMP {
            out.append(",\"icmp_type\":")
            out.append(decimal: UInt64(header.icmpType))
            out.append(",\"icmp_code\":")
            out.append(decimal: UInt64(header.icmpCode))
        }
    }

    /// `"key":"value"` with the value escaped.
    public static func appendField(_ key: StaticString, string value: String, into out: inout OutputBuffer) {
        out.append(",\"")
        out.append(key)
        out.append("\":")
        out.append(jsonString: value)
    }

    public static func appendField(_ key: StaticString, number value: UInt64, into out: inout OutputBuffer) {
        out.append(",\"")
        out.append(key)
        out.append("\":")
        out.append(decimal: value)
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
