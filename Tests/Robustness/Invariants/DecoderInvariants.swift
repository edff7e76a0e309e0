import Wire

/// What a `DecodedPacket` must satisfy whatever the bytes were. Shared by the fuzz-decoder and
/// fuzz-pcap targets (Tests/Fuzz links this file) and the Robustness tests: a broken promise is
/// returned as a message, so each caller reports it its own way.
enum DecoderInvariants {
    /// `frame` is what the decoder read; `capturedLength` what it was told was captured.
    static func violations(_ p: DecodedPacket, frame: UnsafeRawBufferPointer, capturedLength: Int) -> [String] {
        var broken: [String] = []
        func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { broken.append(message()) }
        }
        let available = frame.count
        expect(p.capturedLength == capturedLength, "capturedLength \(p.capturedLength), expected \(capturedLength)")
        expect((0...3).contains(p.vlanCount), "vlanCount \(p.vlanCount)")
        expect([0, 4, 6].contains(p.ipVersion), "ipVersion \(p.ipVersion)")
        if p.hasIP {
            // The IP header was read, so it lies inside the bytes handed over.
            let header = p.ipVersion == 4 ? 20 : 40
            expect(p.l3Offset >= 0 && p.l3Offset + header <= available,
                   "l3Offset \(p.l3Offset) + \(header) past \(available) bytes")
            expect(p.src.isIPv6 == (p.ipVersion == 6) && p.dst.isIPv6 == (p.ipVersion == 6),
                   "address family differs from ipVersion \(p.ipVersion)")
            if p.l4Offset != 0 || p.l4Length != 0 {
                expect(p.l4Offset >= p.l3Offset + header, "l4Offset \(p.l4Offset) inside the IP header at \(p.l3Offset)")
                expect(p.l4Offset <= available && p.l4Offset <= capturedLength,
                       "l4Offset \(p.l4Offset) past \(available) bytes (captured \(capturedLength))")
                expect(p.l4Length >= 0 && p.l4Offset + p.l4Length <= available,
                       "l4 range \(p.l4Offset)+\(p.l4Length) past \(available) bytes")
            }
        } else {
            expect(p.l3Offset == 0 && p.l4Offset == 0 && p.l4Length == 0 && p.ipLength == 0,
                   "offsets set without an IP layer")
            expect(p.src == .zero && p.dst == .zero, "addresses set without an IP layer")
        }
        expect(!p.hasPorts || p.hasIP, "hasPorts without an IP layer")
        expect(!p.hasPorts || [6, 17, 132].contains(p.proto), "hasPorts with proto \(p.proto)")
        expect(!p.hasPorts || !p.isLaterFragment, "ports on a later fragment")
        expect(p.hasPorts || (p.sport == 0 && p.dport == 0), "ports set without hasPorts")
        expect(!p.hasTCPFlags || (p.hasPorts && p.proto == 6), "TCP flags without TCP ports")
        expect(p.tcpFlags & 0xF000 == 0, "tcpFlags \(p.tcpFlags) beyond 12 bits")
        expect(p.payloadLength >= 0 && p.payloadLength <= p.l4Length,
               "payloadLength \(p.payloadLength) beyond l4Length \(p.l4Length)")
        expect(!p.isLaterFragment || p.isFragment, "later fragment that is not a fragment")
        expect(!p.hasICMP || (p.hasIP && (p.proto == 1 || p.proto == 58)), "ICMP with proto \(p.proto)")
        expect(!p.quoted.isPresent || p.hasICMP, "a quoted packet outside ICMP")
        expect(!p.quoted.hasPorts || p.quoted.isPresent, "quoted ports without a quoted packet")
        expect(!p.isSnapped || p.hasIP, "snapped without an IP layer")
        // Every event has a name: counters and EVE records index by it.
        for event in p.events where event.name.isEmpty { broken.append("event \(event.rawValue) has no name") }
        return broken
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
        var events: UInt128
    }

    /// The link types the decoder supports, as fuzz-decoder's first input byte selects them.
    static let linkTypes: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .ipv4, .ipv6]

    /// fuzz-decoder's three decodes of one input: the frame as captured, with a smaller
    /// `capturedLength` (which must change nothing), and a prefix cut where the input's last byte
    /// says, with the full captured length (a ring slot's view). Each buffer is handed over in an
    /// allocation of its exact size, so under AddressSanitizer a read one byte past it is caught.
    static func decodeInput(_ input: UnsafeRawBufferPointer) -> [String] {
        guard input.count >= 1 else { return [] }
        let linkType = linkTypes[Int(input[0]) % linkTypes.count]
        let cutAt = Int(input[input.count - 1])
        var broken: [String] = []
        exactCopy(of: UnsafeRawBufferPointer(rebasing: input[1...])) { frame in
            var whole = DecodedPacket()
            Decoder.decode(frame, linkType: linkType, into: &whole)
            broken += violations(whole, frame: frame, capturedLength: frame.count).map { "whole: " + $0 }

            var smaller = DecodedPacket()
            Decoder.decode(frame, linkType: linkType, capturedLength: frame.count / 2, into: &smaller)
            broken += violations(smaller, frame: frame, capturedLength: frame.count).map { "smaller: " + $0 }
            if summary(smaller) != summary(whole) {
                broken.append("a capturedLength below the frame's size changed the result")
            }

            guard frame.count > 1 else { return }
            exactCopy(of: UnsafeRawBufferPointer(rebasing: frame[..<(cutAt % frame.count)])) { prefix in
                var slot = DecodedPacket()
                Decoder.decode(prefix, linkType: linkType, capturedLength: frame.count, into: &slot)
                broken += violations(slot, frame: prefix, capturedLength: frame.count).map { "prefix \(prefix.count): " + $0 }
            }
        }
        return broken
    }

    /// Runs `body` on a copy of `bytes` in an allocation of exactly their size.
    static func exactCopy<R>(of bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        if bytes.count > 0 { copy.copyMemory(from: bytes) }
        return body(UnsafeRawBufferPointer(copy))
    }
}
