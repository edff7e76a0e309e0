import Wire

/// The rows `decode` prints, one per frame: CSV, or a JSON object per line.
public enum DecodeRow {
    /// A frame's capture time, as the file holds it, and its length on the wire.
    public struct Time: Sendable {
        public var seconds: Int64
        /// The file's sub-second field in nanoseconds, possibly a billion or more in a crafted file.
        public var nanoseconds: UInt32
        public var originalLength: Int

        public init(seconds: Int64, nanoseconds: UInt32, originalLength: Int) {
            self.seconds = seconds
            self.nanoseconds = nanoseconds
            self.originalLength = originalLength
        }
    }

    /// `seconds.nanoseconds`, at least nine digits after the point (tshark's `frame.time_epoch`).
    static func timestamp(_ time: Time, into out: inout OutputBuffer) {
        out.append(decimal: Int(time.seconds))
        out.append(byte: 0x2E)
        out.append(decimal: UInt64(time.nanoseconds), width: 9)
    }

    public static func csv(_ packet: DecodedPacket, frame: UInt64, time: Time, into out: inout OutputBuffer) {
        out.append(decimal: frame)
        out.append(byte: 0x2C)
        timestamp(time, into: &out)
        out.append(byte: 0x2C)
        out.append(string: packet.linkType.description)
        out.append(byte: 0x2C)
        if packet.hasIP {
            out.append(address: packet.src)
            out.append(byte: 0x2C)
            out.append(address: packet.dst)
            out.append(byte: 0x2C)
            out.append(decimal: UInt64(packet.proto))
        } else {
            out.append(",,")
        }
        out.append(byte: 0x2C)
        if packet.hasPorts {
            out.append(decimal: UInt64(packet.sport))
            out.append(byte: 0x2C)
            out.append(decimal: UInt64(packet.dport))
        } else {
            out.append(byte: 0x2C)
        }
        out.append(byte: 0x2C)
        if packet.hasTCPFlags { out.append(hex: UInt64(packet.tcpFlags), width: 4) }
        out.append(byte: 0x2C)
        var first = true
        for event in packet.events {
            if !first { out.append(byte: 0x7C) }
            out.append(string: event.name)
            first = false
        }
        out.append(byte: 0x2C)
        let tunnel = packet.tunnel
        for index in 0..<tunnel.depth {
            if index > 0 { out.append(byte: 0x3E) }
            out.append(tunnel.kind(at: index).name)
        }
        out.append(byte: 0x0A)
    }

    /// The tunnel a frame came through: the outermost IP layer, the kinds crossed, the innermost id.
    static func jsonTunnel(_ tunnel: TunnelInfo, into out: inout OutputBuffer) {
        out.append(",\"tunnel\":{\"src\":\"")
        out.append(address: tunnel.outerSrc)
        out.append("\",\"dst\":\"")
        out.append(address: tunnel.outerDst)
        out.append("\",\"proto\":")
        out.append(decimal: UInt64(tunnel.outerProto))
        if tunnel.outerHasPorts {
            out.append(",\"sport\":")
            out.append(decimal: UInt64(tunnel.outerSport))
            out.append(",\"dport\":")
            out.append(decimal: UInt64(tunnel.outerDport))
        }
        out.append(",\"depth\":")
        out.append(decimal: tunnel.depth)
        out.append(",\"kinds\":[")
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

    public static func json(_ packet: DecodedPacket, frame: UInt64, time: Time, file: String, into out: inout OutputBuffer) {
        out.append("{\"file\":")
        out.append(jsonString: file)
        out.append(",\"frame\":")
        out.append(decimal: frame)
        out.append(",\"ts\":\"")
        timestamp(time, into: &out)
        out.append("\",\"linktype\":\"")
        out.append(string: packet.linkType.description)
        out.append("\",\"caplen\":")
        out.append(decimal: packet.capturedLength)
        out.append(",\"len\":")
        out.append(decimal: time.originalLength)
        if packet.vlanCount > 0 {
            out.append(",\"vlan\":[")
            for i in 0..<packet.vlanCount {
                if i > 0 { out.append(byte: 0x2C) }
                out.append(decimal: UInt64(packet.vlanID(at: i)))
            }
            out.append(byte: 0x5D)
        }
        if packet.tunnel.isPresent { jsonTunnel(packet.tunnel, into: &out) }
        if packet.hasIP {
            out.append(",\"ip_v\":")
            out.append(decimal: UInt64(packet.ipVersion))
            out.append(",\"src\":\"")
            out.append(address: packet.src)
            out.append("\",\"dst\":\"")
            out.append(address: packet.dst)
            out.append("\",\"proto\":")
            out.append(decimal: UInt64(packet.proto))
        }
        if packet.isFragment {
            out.append(packet.isLaterFragment ? ",\"fragment\":\"later\"" : ",\"fragment\":\"first\"")
        }
        if packet.hasPorts {
            out.append(",\"sport\":")
            out.append(decimal: UInt64(packet.sport))
            out.append(",\"dport\":")
            out.append(decimal: UInt64(packet.dport))
        }
        if packet.hasTCPFlags {
            out.append(",\"tcp_flags\":\"")
            out.append(hex: UInt64(packet.tcpFlags), width: 4)
            out.append(byte: 0x22)
        }
        if packet.hasICMP {
            out.append(",\"icmp_type\":")
            out.append(decimal: UInt64(packet.icmpType))
            out.append(",\"icmp_code\":")
            out.append(decimal: UInt64(packet.icmpCode))
            if packet.quoted.isPresent {
                out.append(",\"quoted\":{\"src\":\"")
                out.append(address: packet.quoted.src)
                out.append("\",\"dst\":\"")
                out.append(address: packet.quoted.dst)
                out.append("\",\"proto\":")
                out.append(decimal: UInt64(packet.quoted.proto))
                if packet.quoted.hasPorts {
                    out.append(",\"sport\":")
                    out.append(decimal: UInt64(packet.quoted.sport))
                    out.append(",\"dport\":")
                    out.append(decimal: UInt64(packet.quoted.dport))
                }
                out.append(byte: 0x7D)
            }
        }
        out.append(",\"events\":[")
        var first = true
        for event in packet.events {
            if !first { out.append(byte: 0x2C) }
            out.append(byte: 0x22)
            out.append(string: event.name)
            out.append(byte: 0x22)
            first = false
        }
        out.append("]}\n")
    }
}
