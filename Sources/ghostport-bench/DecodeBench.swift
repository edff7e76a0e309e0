import TrafficGen
import Wire

// MARK: decode

/// One link type's frames for the decode benchmark: `count` TCP or UDP packets with varied
/// addresses and ports, as a capture of that link type would hold them.
struct LinkCase {
    var name: String
    var linkType: LinkType
    var frames: [[UInt8]]
}

/// A TCP segment (or every eighth a UDP datagram) with a payload of 0-512 bytes.
func benchSegment(_ i: Int) -> Segment {
    let payload = [UInt8](repeating: 0x17, count: (i * 37) % 4 == 0 ? 0 : (i * 61) % 512)
    if i % 8 == 7 { return .udp(sport: UInt16(1024 + i % 60_000), dport: 53, payload: payload) }
    return .tcp(sport: UInt16(1024 + i % 60_000), dport: 443, flags: [.ack, .psh], seq: UInt32(i), ack: 1, payload: payload)
}

func benchIPv4(_ i: Int) -> Network {
    .ipv4(src: "198.51.\(i % 256).\(1 + i % 250)", dst: "192.168.\(i / 256 % 256).\(1 + i % 200)", benchSegment(i))
}

func benchIPv6(_ i: Int, extensionHeaders: [IPv6ExtensionHeader] = []) -> Network {
    .ipv6(src: "2001:db8::\(String(i, radix: 16))", dst: "2001:db8:1::\(String(i % 300 + 1, radix: 16))",
          extensionHeaders: extensionHeaders, benchSegment(i))
}

func linkCases(count: Int = 256) -> [LinkCase] {
    let range = 0..<count
    return [
        LinkCase(name: "Ethernet IPv4", linkType: .ethernet, frames: range.map { Packet.ethernet(benchIPv4($0)) }),
        LinkCase(name: "Ethernet VLAN IPv4", linkType: .ethernet,
                 frames: range.map { Packet.ethernet(vlans: [VLANTag(id: UInt16(1 + $0 % 4000))], benchIPv4($0)) }),
        LinkCase(name: "Ethernet QinQ IPv4", linkType: .ethernet,
                 frames: range.map { Packet.ethernet(vlans: [.dot1ad(100), .dot1q(UInt16(1 + $0 % 4000))], benchIPv4($0)) }),
        LinkCase(name: "Ethernet IPv6", linkType: .ethernet, frames: range.map { Packet.ethernet(benchIPv6($0)) }),
        LinkCase(name: "Ethernet IPv6+hop-by-hop", linkType: .ethernet,
                 frames: range.map { Packet.ethernet(benchIPv6($0, extensionHeaders: [.hopByHop()])) }),
        LinkCase(name: "SLL IPv4", linkType: .linuxSLL, frames: range.map { Packet.sll(benchIPv4($0)) }),
        LinkCase(name: "SLL2 IPv4", linkType: .linuxSLL2, frames: range.map { Packet.sll2(benchIPv4($0)) }),
        LinkCase(name: "RAW IPv4", linkType: .raw, frames: range.map { Packet.raw(benchIPv4($0)) }),
        LinkCase(name: "RAW IPv6 (229)", linkType: .ipv6, frames: range.map { Packet.raw(benchIPv6($0)) }),
        LinkCase(name: "NULL IPv4", linkType: .null, frames: range.map { Packet.null(benchIPv4($0)) }),
        LinkCase(name: "LOOP IPv6", linkType: .loop, frames: range.map { Packet.loop(benchIPv6($0)) }),
    ]
}

/// The frames of one case laid out back to back in one buffer, as a capture buffer holds them.
struct FrameBuffer {
    let storage: UnsafeMutableRawBufferPointer
    let frames: [UnsafeRawBufferPointer]

    init(_ frames: [[UInt8]]) {
        storage = .allocate(byteCount: frames.reduce(0) { $0 + $1.count }, alignment: 16)
        var offset = 0
        var views: [UnsafeRawBufferPointer] = []
        for frame in frames {
            let slice = UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + frame.count)])
            frame.withUnsafeBytes { slice.copyMemory(from: $0) }
            views.append(UnsafeRawBufferPointer(slice))
            offset += frame.count
        }
        self.frames = views
    }

    func deallocate() { storage.deallocate() }
}

func benchDecode() {
    let packets = option("--packets", 2_000_000)
    print("decode: \(packets) frames per link type (256 distinct, TCP and UDP, 0-512 byte payloads), best of 5")
    let widths = [26, 11, 12, 15, 8]
    row(["link", "ns/packet", "M packets/s", "mallocs/packet", "check"], widths)
    for linkCase in linkCases() {
        let buffer = FrameBuffer(linkCase.frames)
        defer { buffer.deallocate() }
        var packet = DecodedPacket()
        var check = 0
        let result = sample {
            check = 0
            var index = 0
            for _ in 0..<packets {
                Decoder.decode(buffer.frames[index], linkType: linkCase.linkType, into: &packet)
                check &+= Int(packet.dport) &+ Int(packet.proto)
                index = index == buffer.frames.count - 1 ? 0 : index + 1
            }
        }
        blackHole(check)
        let nanoseconds = result.seconds * 1e9 / Double(packets)
        row([linkCase.name, format(nanoseconds), format(1e3 / nanoseconds, 2), perOperation(result.mallocs.mallocs, packets),
             "\(check % 100_000)"], widths)
    }
}
