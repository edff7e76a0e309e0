import Platform
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The fields every EVE record starts with, in Suricata's order.
public struct EVEHeader {
    public var timestamp: Int64  // nanoseconds since the epoch
    public var flowID: UInt64 = 0
    public var inIface: String?
    /// Suricata's `host`: the sensor's name (`sensor_name`, `--sensor-name`), for a fleet's records in one place.
    public var host: String?
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
        let second = nanoseconds.floorDivided(by: 1_000_000_000)
        let micros = UInt64(nanoseconds - second * 1_000_000_000) / 1000
        // localtime_r costs more than the rest of a record: once per second is enough.
        let text: (UInt64, UInt64, UInt64)
        if second == out.timestampSeconds.0 {
            text = out.timestampTexts.0
        } else if second == out.timestampSeconds.1 {
            text = out.timestampTexts.1
        } else {
            // The newer entry stays, the older gives way.
            text = formatSecond(second)
            out.timestampSeconds = (second, out.timestampSeconds.0)
            out.timestampTexts = (text, out.timestampTexts.0)
        }
        withUnsafeBytes(of: text) { raw in
            out.append(raw: UnsafeRawBufferPointer(rebasing: raw[0..<19]))
            out.append(byte: 0x2E)
            out.append(decimal: micros, width: 6)
            out.append(raw: UnsafeRawBufferPointer(rebasing: raw[19..<24]))
        }
    }

    /// `2025-06-15T09:12:01` and `+0000` for one second, as 24 bytes.
    private static func formatSecond(_ second: Int64) -> (UInt64, UInt64, UInt64) {
        var seconds = time_t(second)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let minutes = Int(abs(parts.tm_gmtoff) / 60)
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &text) { raw in
            var at = 0
            // Int64 nanoseconds span the years 1677-2262: every field has a fixed width.
            func put(_ value: Int, width: Int) {
                var v = value
                for i in stride(from: width - 1, through: 0, by: -1) {
                    raw[at + i] = 0x30 + UInt8(v % 10)
                    v /= 10
                }
                at += width
            }
            func put(byte: UInt8) {
                raw[at] = byte
                at += 1
            }
            put(Int(parts.tm_year) + 1900, width: 4)
            put(byte: 0x2D)
            put(Int(parts.tm_mon) + 1, width: 2)
            put(byte: 0x2D)
            put(Int(parts.tm_mday), width: 2)
            put(byte: 0x54)
            put(Int(parts.tm_hour), width: 2)
            put(byte: 0x3A)
            put(Int(parts.tm_min), width: 2)
            put(byte: 0x3A)
            put(Int(parts.tm_sec), width: 2)
            put(byte: parts.tm_gmtoff < 0 ? 0x2D : 0x2B)
            put(minutes / 60, width: 2)
            put(minutes % 60, width: 2)
        }
        return text
    }

    /// EVE's `proto`, always a string as Suricata writes it: the protocol's keyword, or for
    /// the numbers that have none (144-255) the number, unpadded (`"253"`).
    public static func appendProto(_ proto: UInt8, into out: inout OutputBuffer) {
        out.append(byte: 0x22)
        if let name = IPProtocol.keyword(proto) {
            out.append(name)
        } else {
            out.append(decimal: UInt64(proto))
        }
        out.append(byte: 0x22)
    }

    /// Opens a record: `{"timestamp":...,"event_type":...,` through `pkt_src`, without the closing brace.
    public static func open(_ header: EVEHeader, eventType: StaticString, into out: inout OutputBuffer) {
        out.append("{\"timestamp\":\"")
        appendTimestamp(header.timestamp, into: &out)
        out.append(byte: 0x22)
        if let host = header.host {
            out.append(",\"host\":")
            out.append(jsonString: host)
        }
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

    /// `,"pkt_src":"..."`: `wire/pcap`, or for a packet out of a tunnel Suricata's name for it.
    static func appendPacketSource(_ tunnel: TunnelInfo, default source: String, into out: inout OutputBuffer) {
        out.append(",\"pkt_src\":")
        if tunnel.isPresent {
            out.append(byte: 0x22)
            out.append(tunnel.packetSource)
            out.append(byte: 0x22)
        } else {
            out.append(jsonString: source)
        }
    }

    /// Suricata's `tunnel` object of an alert: the outermost packet (its ports 0 when it has
    /// none), the depth, the outer packet's `pcap_cnt` and source.
    static func appendTunnel(_ tunnel: TunnelInfo, pcapCount: UInt64, into out: inout OutputBuffer) {
        out.append(",\"tunnel\":{\"src_ip\":\"")
        out.append(address: tunnel.outerSrc)
        out.append("\",\"src_port\":")
        out.append(decimal: UInt64(tunnel.outerHasPorts ? tunnel.outerSport : 0))
        out.append(",\"dest_ip\":\"")
        out.append(address: tunnel.outerDst)
        out.append("\",\"dest_port\":")
        out.append(decimal: UInt64(tunnel.outerHasPorts ? tunnel.outerDport : 0))
        out.append(",\"proto\":")
        appendProto(tunnel.outerProto, into: &out)
        out.append(",\"depth\":")
        out.append(decimal: tunnel.depth)
        if pcapCount != 0 {
            out.append(",\"pcap_cnt\":")
            out.append(decimal: pcapCount)
        }
        out.append(",\"pkt_src\":\"wire/pcap\"}")
    }

    /// ghostport's `tunnel` object (inside `ghostport`, without its leading comma): the kinds
    /// crossed, outermost first, the innermost tunnel's identifier, and with `endpoints` the
    /// outermost packet's addresses, protocol and the depth (flow and anomaly records, where
    /// Suricata writes no tunnel object).
    static func appendGhostportTunnel(_ tunnel: TunnelInfo, endpoints: Bool, into out: inout OutputBuffer) {
        out.append("\"tunnel\":{")
        if endpoints {
            out.append("\"src_ip\":\"")
            out.append(address: tunnel.outerSrc)
            out.append("\",\"dest_ip\":\"")
            out.append(address: tunnel.outerDst)
            out.append("\",\"proto\":")
            appendProto(tunnel.outerProto, into: &out)
            out.append(",\"depth\":")
            out.append(decimal: tunnel.depth)
            out.append(byte: 0x2C)
        }
        out.append("\"kinds\":[")
        for index in 0..<tunnel.depth {
            if index > 0 { out.append(byte: 0x2C) }
            out.append(byte: 0x22)
            out.append(tunnel.kind(at: index).name)
            out.append(byte: 0x22)
        }
        out.append(byte: 0x5D)
        if tunnel.hasID {
            out.append(",\"id\":")
            out.append(decimal: UInt64(tunnel.id))
        }
        out.append(byte: 0x7D)
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
