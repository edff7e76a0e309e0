import FuzzSupport
import Wire

/// What a `DecodedPacket` must satisfy whatever the bytes were.
enum DecoderInvariants {
    static func check(_ p: DecodedPacket, frame: UnsafeRawBufferPointer, capturedLength: Int) {
        let available = frame.count
        invariant(p.capturedLength == capturedLength, "capturedLength \(p.capturedLength), expected \(capturedLength)")
        invariant((0...3).contains(p.vlanCount), "vlanCount \(p.vlanCount)")
        invariant([0, 4, 6].contains(p.ipVersion), "ipVersion \(p.ipVersion)")
        if p.hasIP {
            // The IP header was read, so it lies inside the bytes handed over.
            let header = p.ipVersion == 4 ? 20 : 40
            invariant(p.l3Offset >= 0 && p.l3Offset + header <= available,
                      "l3Offset \(p.l3Offset) + \(header) past \(available) bytes")
            invariant(p.src.isIPv6 == (p.ipVersion == 6) && p.dst.isIPv6 == (p.ipVersion == 6),
                      "address family differs from ipVersion \(p.ipVersion)")
            if p.l4Offset != 0 || p.l4Length != 0 {
                invariant(p.l4Offset >= p.l3Offset + header, "l4Offset \(p.l4Offset) inside the IP header at \(p.l3Offset)")
                invariant(p.l4Offset <= available, "l4Offset \(p.l4Offset) past \(available) bytes")
                invariant(p.l4Length >= 0 && p.l4Offset + p.l4Length <= available,
                          "l4 range \(p.l4Offset)+\(p.l4Length) past \(available) bytes")
                invariant(p.l4Offset <= capturedLength, "l4Offset \(p.l4Offset) past capturedLength \(capturedLength)")
            }
        } else {
            invariant(p.l3Offset == 0 && p.l4Offset == 0 && p.l4Length == 0 && p.ipLength == 0,
                      "offsets set without an IP layer")
            invariant(p.src == .zero && p.dst == .zero, "addresses set without an IP layer")
        }
        invariant(!p.hasPorts || p.hasIP, "hasPorts without an IP layer")
        invariant(!p.hasPorts || [6, 17, 132].contains(p.proto), "hasPorts with proto \(p.proto)")
        invariant(!p.hasPorts || !p.isLaterFragment, "ports on a later fragment")
        invariant(p.hasPorts || (p.sport == 0 && p.dport == 0), "ports set without hasPorts")
        invariant(!p.hasTCPFlags || (p.hasPorts && p.proto == 6), "TCP flags without TCP ports")
        invariant(p.tcpFlags & 0xF000 == 0, "tcpFlags \(p.tcpFlags) beyond 12 bits")
        invariant(p.payloadLength >= 0 && p.payloadLength <= p.l4Length,
                  "payloadLength \(p.payloadLength) beyond l4Length \(p.l4Length)")
        invariant(!p.isLaterFragment || p.isFragment, "later fragment that is not a fragment")
        invariant(!p.hasICMP || (p.hasIP && (p.proto == 1 || p.proto == 58)), "ICMP with proto \(p.proto)")
        invariant(!p.quoted.isPresent || p.hasICMP, "a quoted packet outside ICMP")
        invariant(!p.quoted.hasPorts || p.quoted.isPresent, "quoted ports without a quoted packet")
        invariant(!p.isSnapped || p.hasIP, "snapped without an IP layer")
        // Every event has a name: the counters and EVE records index by it.
        for event in p.events { invariant(!event.name.isEmpty, "event \(event.rawValue) has no name") }
    }

    /// Every field, for comparing two decodes of the same bytes.
    static func summary(_ p: DecodedPacket) -> Summary {
        Summary(
            link: [Int(p.linkType.rawValue), p.capturedLength, p.vlanCount, Int(p.vlanIDs.0), Int(p.vlanIDs.1),
                   Int(p.vlanIDs.2), p.insideFabricPath ? 1 : 0, Int(p.etherType)],
            addresses: [p.src, p.dst, p.quoted.src, p.quoted.dst],
            layers: [Int(p.ipVersion), p.ipLength, p.l3Offset, Int(p.proto), p.l4Offset, p.l4Length,
                     p.isFragment ? 1 : 0, p.isLaterFragment ? 1 : 0, p.hasPorts ? 1 : 0, Int(p.sport), Int(p.dport),
                     p.hasTCPFlags ? 1 : 0, Int(p.tcpFlags), p.payloadLength, p.hasICMP ? 1 : 0,
                     Int(p.icmpType), Int(p.icmpCode), Int(p.quoted.ipVersion), Int(p.quoted.proto),
                     p.quoted.hasPorts ? 1 : 0, Int(p.quoted.sport), Int(p.quoted.dport)],
            events: p.events.bits)
    }

    struct Summary: Equatable {
        var link: [Int]
        var addresses: [IPAddress]
        var layers: [Int]
        var events: UInt64
    }
}
