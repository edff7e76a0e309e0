import CPcap
import Capture
import Wire

extension BPFProgram {
    /// A filter for watched ports built instruction by instruction, for Ethernet and Linux SLL.
    /// It keeps what the pcap-filter expression of the same ports keeps, but looks a port up by
    /// binary search (a few dozen instructions a packet) where libpcap's code tests every range
    /// in turn (thousands with the shipped rules), and it follows up to three in-frame VLAN tags
    /// with one copy of the tests. Kept: TCP/UDP/SCTP with a port of `tcp`/`udp`/`sctp` on
    /// either side over IPv4 or IPv6; ICMP(v6) errors (every ICMP packet with `allICMP`); later
    /// IPv4 fragments; IPv6 packets with a hop-by-hop, routing, fragment or destination options
    /// header; every frame that is not plain IPv4 or IPv6 (MPLS, PPPoE, ARP, deeper tag stacks).
    /// With `tunnels`: GRE (and ERSPAN in it) and IP in IP whole; GENEVE and Teredo on their
    /// ports; VXLAN is opened: an untagged IPv4 packet inside is kept only for a watched port
    /// (or as an ICMP error, a fragment, a tunnel again), so a sensor fed by a VXLAN mirror still
    /// gets the filter's benefit. Nil for other link types.
    public static func watchedPorts(linkType: LinkType, snaplen: Int32, tcp: [ClosedRange<UInt16>],
                                    udp: [ClosedRange<UInt16>], sctp: [ClosedRange<UInt16>],
                                    allICMP: Bool, tunnels: TunnelPorts? = nil) -> BPFProgram? {
        // Where the EtherType (or SLL protocol) field is; the network header follows it.
        let etherTypeOffset: UInt32
        switch linkType {
        case .ethernet: etherTypeOffset = 12
        case .linuxSLL: etherTypeOffset = 14
        default: return nil
        }
        var a = Assembler(accept: UInt32(bitPattern: snaplen))
        let reject = a.label(), dispatch = a.label(), ipv4 = a.label(), ipv6 = a.label()

        // X: the offset of the EtherType, moved past each tag.
        a.emit(BPFCode.ldxImm, k: etherTypeOffset)
        a.emit(BPFCode.ldhInd, k: 0)
        let tagTypes: [UInt32] = [0x8100, 0x88A8, 0x9100]
        for _ in 0..<3 {
            a.emit(BPFCode.jeq, k: tagTypes[0], jt: 2, jf: 0)
            a.emit(BPFCode.jeq, k: tagTypes[1], jt: 1, jf: 0)
            a.emit(BPFCode.jeq, k: tagTypes[2], jt: 0, jf: 4)
            a.emit(BPFCode.txa)
            a.emit(BPFCode.addImm, k: 4)
            a.emit(BPFCode.tax)
            a.emit(BPFCode.ldhInd, k: 0)
        }
        a.jump(ifEqual: 0x0800, to: ipv4)
        a.jump(ifEqual: 0x86DD, to: ipv6)
        a.acceptAlways()  // not plain IP (or a fourth tag): the decoder may still find ports

        // IPv4. X becomes the network header, then the transport header; M[0] holds the protocol.
        a.place(ipv4)
        a.advanceX(by: 2)
        a.emit(BPFCode.ldhInd, k: 6)
        a.emit(BPFCode.jset, k: 0x1FFF, jt: 0, jf: 1)
        a.acceptAlways()  // a later fragment: no ports to see
        a.emit(BPFCode.ldbInd, k: 9)
        a.emit(BPFCode.st, k: 0)
        a.emit(BPFCode.ldbInd, k: 0)
        a.emit(BPFCode.andImm, k: 0x0F)
        a.emit(BPFCode.lshImm, k: 2)
        a.emit(BPFCode.addX)
        a.emit(BPFCode.tax)
        a.emit(BPFCode.ldMem, k: 0)
        a.jump(to: dispatch)

        // IPv6: an extension header first hides the ports from a fixed offset.
        a.place(ipv6)
        a.advanceX(by: 2)
        a.emit(BPFCode.ldbInd, k: 6)
        for header: UInt32 in [0, 43, 44, 60] { a.accept(ifEqual: header) }
        a.emit(BPFCode.st, k: 0)
        a.advanceX(by: 40)
        a.emit(BPFCode.ldMem, k: 0)

        // A: the protocol; X: the transport header.
        a.place(dispatch)
        let protocols: [(UInt32, [ClosedRange<UInt16>])] = [(6, tcp), (17, udp), (132, sctp)]
        let starts = protocols.map { _ in a.label() }
        if let tunnels {
            // GRE (ERSPAN in it) and IP in IP whole; UDP to a tunnel port opened or kept; then
            // the packet judged (the outer one, or VXLAN's inner one) with the same port search.
            let judge = a.label(), udpTunnels = a.label(), vxlan = a.label()
            for number: UInt32 in [47, 4, 41] { a.accept(ifEqual: number) }
            a.jump(ifEqual: 17, to: udpTunnels)
            a.jump(to: judge)

            a.place(udpTunnels)
            a.emit(BPFCode.ldhInd, k: 2)
            for port in tunnels.vxlanPorts { a.jump(ifEqual: UInt32(port), to: vxlan) }
            if tunnels.geneve != 0 { a.accept(ifEqual: UInt32(tunnels.geneve)) }
            if tunnels.teredo != 0 {
                a.accept(ifEqual: UInt32(tunnels.teredo))
                a.emit(BPFCode.ldhInd, k: 0)
                a.accept(ifEqual: UInt32(tunnels.teredo))
            }
            a.emit(BPFCode.ldImm, k: 17)
            a.jump(to: judge)

            // VXLAN: 8 bytes of UDP, 8 of VXLAN, an Ethernet header (with at most one tag). An
            // IPv4 or IPv6 packet in it is judged as an outer one would be (X moves to its
            // transport header, A is its protocol); a tunnel in it again is kept; anything else
            // in it (ARP, deeper tags, IPv6 extension headers) is kept.
            let ethernet: UInt32 = 8 + 8 + 14
            let innerV4 = a.label(), innerV6 = a.label(), innerDispatch = a.label(), innerUDP = a.label()
            a.place(vxlan)
            a.emit(BPFCode.ldhInd, k: ethernet - 2)
            a.emit(BPFCode.jeq, k: 0x8100, jt: 0, jf: 4)
            a.advanceX(by: 4)
            a.emit(BPFCode.ldhInd, k: ethernet - 2)
            a.jump(ifEqual: 0x0800, to: innerV4)
            a.jump(ifEqual: 0x86DD, to: innerV6)
            a.acceptAlways()

            a.place(innerV4)
            a.emit(BPFCode.ldhInd, k: ethernet + 6)
            a.emit(BPFCode.jset, k: 0x1FFF, jt: 0, jf: 1)
            a.acceptAlways()  // a later fragment
            a.emit(BPFCode.ldbInd, k: ethernet + 9)
            a.emit(BPFCode.st, k: 0)
            a.emit(BPFCode.ldbInd, k: ethernet)
            a.emit(BPFCode.andImm, k: 0x0F)
            a.emit(BPFCode.lshImm, k: 2)
            a.emit(BPFCode.addX)
            a.emit(BPFCode.addImm, k: ethernet)
            a.emit(BPFCode.tax)
            a.jump(to: innerDispatch)

            a.place(innerV6)
            a.emit(BPFCode.ldbInd, k: ethernet + 6)
            for header: UInt32 in [0, 43, 44, 60] { a.accept(ifEqual: header) }
            a.emit(BPFCode.st, k: 0)
            a.advanceX(by: ethernet + 40)

            a.place(innerDispatch)
            a.emit(BPFCode.ldMem, k: 0)
            for number: UInt32 in [47, 4, 41] { a.accept(ifEqual: number) }
            a.jump(ifEqual: 17, to: innerUDP)
            a.jump(to: judge)

            a.place(innerUDP)
            a.emit(BPFCode.ldhInd, k: 2)
            for port in tunnels.vxlanPorts { a.accept(ifEqual: UInt32(port)) }
            if tunnels.geneve != 0 { a.accept(ifEqual: UInt32(tunnels.geneve)) }
            if tunnels.teredo != 0 {
                a.accept(ifEqual: UInt32(tunnels.teredo))
                a.emit(BPFCode.ldhInd, k: 0)
                a.accept(ifEqual: UInt32(tunnels.teredo))
            }
            a.emit(BPFCode.ldImm, k: 17)
            a.place(judge)
        }
        for (index, (number, ranges)) in protocols.enumerated() where !ranges.isEmpty {
            a.jump(ifEqual: number, to: starts[index])
        }
        if allICMP {
            a.accept(ifEqual: 1)
            a.accept(ifEqual: 58)
            a.jump(to: reject)
        } else {
            let icmp = a.label(), icmp6 = a.label()
            a.jump(ifEqual: 1, to: icmp)
            a.jump(ifEqual: 58, to: icmp6)
            a.jump(to: reject)
            // Errors quote a packet: unreachable, source quench, redirect, time exceeded, parameter problem.
            a.place(icmp)
            a.emit(BPFCode.ldbInd, k: 0)
            for type: UInt32 in [3, 4, 5, 11, 12] { a.accept(ifEqual: type) }
            a.jump(to: reject)
            // Unreachable, too big, time exceeded, parameter problem.
            a.place(icmp6)
            a.emit(BPFCode.ldbInd, k: 0)
            a.emit(BPFCode.jge, k: 1, jt: 0, jf: 2)
            a.emit(BPFCode.jgt, k: 4, jt: 1, jf: 0)
            a.acceptAlways()
            a.jump(to: reject)
        }
        for (index, (_, ranges)) in protocols.enumerated() where !ranges.isEmpty {
            a.place(starts[index])
            a.searchPorts(ranges, miss: reject)
        }
        a.place(reject)
        a.emit(BPFCode.ret, k: 0)
        return BPFProgram(instructions: a.resolved())
    }

    /// The program as `tcpdump -d` prints it. The corresponding C function is `bpf_image`.
    public var listing: String {
        var lines: [String] = []
        var copy = instructions
        copy.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices {
                lines.append(String(cString: bpf_image(buffer.baseAddress! + index, Int32(index))))
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension BPFProgram {
    /// Whether libpcap finds the program well formed (jumps in range, ends in a return).
    /// The corresponding C function is `bpf_validate`.
    public var isValid: Bool {
        instructions.withUnsafeBufferPointer { bpf_validate($0.baseAddress, Int32($0.count)) != 0 }
    }

    /// The program as `tcpdump -ddd` prints it: the count, then `code jt jf k` a line.
    public var bytecode: String {
        ([String(count)] + instructions.map { "\($0.code) \($0.jt) \($0.jf) \($0.k)" }).joined(separator: "\n")
    }
}

/// Classic BPF opcodes (`class | size | mode` or `class | op | source`), as in `pcap/bpf.h`.
enum BPFCode {
    static let ldhInd: UInt16 = 0x48
    static let ldbInd: UInt16 = 0x50
    static let ldMem: UInt16 = 0x60
    static let ldImm: UInt16 = 0x00
    static let ldxImm: UInt16 = 0x01
    static let st: UInt16 = 0x02
    static let addImm: UInt16 = 0x04
    static let addX: UInt16 = 0x0C
    static let andImm: UInt16 = 0x54
    static let lshImm: UInt16 = 0x64
    static let tax: UInt16 = 0x07
    static let txa: UInt16 = 0x87
    static let ja: UInt16 = 0x05
    static let jeq: UInt16 = 0x15
    static let jgt: UInt16 = 0x25
    static let jge: UInt16 = 0x35
    static let jset: UInt16 = 0x45
    static let ret: UInt16 = 0x06
    static let ldwInd: UInt16 = 0x40
    static let ldwAbs: UInt16 = 0x20
    static let mulImm: UInt16 = 0x24
    static let ldxMem: UInt16 = 0x61
    static let xorX: UInt16 = 0xAC
    static let rshImm: UInt16 = 0x74
    static let retA: UInt16 = 0x16
}

/// Emits instructions with forward jumps to labels, resolved at the end. A conditional jump
/// reaches at most 255 instructions, so every jump to a label is an unconditional `ja` (32-bit
/// offset) that a conditional one skips or not.
struct Assembler {
    struct Label { let id: Int }

    private var code: [bpf_insn] = []
    private var places: [Int?] = []
    private var fixups: [(at: Int, label: Int)] = []
    private let acceptLength: UInt32

    init(accept: UInt32) { acceptLength = accept }

    mutating func label() -> Label {
        places.append(nil)
        return Label(id: places.count - 1)
    }

    mutating func place(_ label: Label) { places[label.id] = code.count }

    mutating func emit(_ opcode: UInt16, k: UInt32 = 0, jt: UInt8 = 0, jf: UInt8 = 0) {
        code.append(bpf_insn(code: opcode, jt: jt, jf: jf, k: k))
    }

    mutating func jump(to label: Label) {
        fixups.append((code.count, label.id))
        emit(BPFCode.ja)
    }

    /// A == k: go to `label`.
    mutating func jump(ifEqual k: UInt32, to label: Label) {
        emit(BPFCode.jeq, k: k, jt: 0, jf: 1)
        jump(to: label)
    }

    mutating func acceptAlways() { emit(BPFCode.ret, k: acceptLength) }

    /// A == k: keep the packet.
    mutating func accept(ifEqual k: UInt32) {
        emit(BPFCode.jeq, k: k, jt: 0, jf: 1)
        acceptAlways()
    }

    /// X += n.
    mutating func advanceX(by n: UInt32) {
        emit(BPFCode.txa)
        emit(BPFCode.addImm, k: n)
        emit(BPFCode.tax)
    }

    /// A binary search of the sorted, disjoint `ranges` for A: keep the packet on a hit, go to `miss` otherwise.
    mutating func search(_ ranges: ArraySlice<ClosedRange<UInt16>>, miss: Label) {
        guard !ranges.isEmpty else {
            jump(to: miss)
            return
        }
        let middle = ranges.startIndex + ranges.count / 2
        let range = ranges[middle]
        let below = label()
        emit(BPFCode.jge, k: UInt32(range.lowerBound), jt: 1, jf: 0)
        jump(to: below)
        emit(BPFCode.jgt, k: UInt32(range.upperBound), jt: 1, jf: 0)
        acceptAlways()
        search(ranges[(middle + 1)...], miss: miss)
        place(below)
        search(ranges[..<middle], miss: miss)
    }

    /// X at a transport header: keep the packet when its source or destination port is in `ranges`.
    mutating func searchPorts(_ ranges: [ClosedRange<UInt16>], miss: Label) {
        let destination = label()
        emit(BPFCode.ldhInd, k: 0)
        search(ranges[...], miss: destination)
        place(destination)
        emit(BPFCode.ldhInd, k: 2)
        search(ranges[...], miss: miss)
    }

    /// The instructions with every label's jump filled in.
    func resolved() -> [bpf_insn] {
        var result = code
        for fixup in fixups {
            guard let target = places[fixup.label] else { preconditionFailure("a label was never placed") }
            precondition(target > fixup.at, "BPF jumps only forward")
            result[fixup.at].k = UInt32(target - fixup.at - 1)
        }
        return result
    }
}
