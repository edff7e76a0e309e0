import CPcap
import Capture
import Wire

extension BPFProgram {
    /// The program that picks a packet's worker in a `PACKET_FANOUT_CBPF` group (the kernel takes
    /// its value modulo the number of sockets): the XOR of the two IP addresses, mixed, so that
    /// both directions of a flow give the same value, as the kernel's own symmetric hash does;
    /// but where that hash splits what is one flow to the sensor, this does not:
    ///
    /// - an ICMP or ICMPv6 error is judged by the packet it quotes (the flow's client and server),
    ///   whoever sent it (the server, or a router on the way), so a "rejected" verdict reaches
    ///   the worker that holds the flow;
    /// - a tunnel (GRE, IP in IP, VXLAN, GENEVE, Teredo) is judged by its outer addresses, the
    ///   same both ways, where the kernel hashes a UDP tunnel's ports too, which its two ends
    ///   choose independently; every flow inside one tunnel then goes to one worker;
    /// - fragments go with their datagram's other packets (no ports are read).
    ///
    /// The kernel runs it on the packet from its network header (the frame's link header is not
    /// in front, and a first VLAN tag is already taken off into the packet's metadata): the
    /// network protocol comes from the packet's metadata (`SKF_AD_PROTOCOL`), and up to three
    /// tags still in the data are stepped over. Anything else (ARP, a truncated header) goes to
    /// the first worker. The same program serves every link type.
    public static func fanoutByAddresses() -> BPFProgram {
        // Scratch: M[0] the running XOR, M[1] the word just loaded, M[2] the header's offset, M[3] the product.
        var a = Assembler(accept: 0)
        let ipv4 = a.label(), ipv4Addresses = a.label(), ipv6 = a.label(), ipv6Addresses = a.label(), mix = a.label()
        a.emit(BPFCode.ldwAbs, k: 0xFFFF_F000)  // SKF_AD_OFF + SKF_AD_PROTOCOL: the EtherType
        a.emit(BPFCode.ldxImm, k: 0)
        for _ in 0..<3 {
            // A tag in the data: its TCI, then the next EtherType.
            a.emit(BPFCode.jeq, k: 0x8100, jt: 2, jf: 0)
            a.emit(BPFCode.jeq, k: 0x88A8, jt: 1, jf: 0)
            a.emit(BPFCode.jeq, k: 0x9100, jt: 0, jf: 4)
            a.emit(BPFCode.ldhInd, k: 2)
            a.advanceX(by: 4)
        }
        a.jump(ifEqual: 0x0800, to: ipv4)
        a.jump(ifEqual: 0x86DD, to: ipv6)
        a.emit(BPFCode.ret, k: 0)

        // IPv4: X the header. An ICMP error (destination unreachable, source quench, redirect,
        // time exceeded, parameter problem): X the quoted header, 8 bytes into the ICMP message.
        a.place(ipv4)
        a.emit(BPFCode.ldbInd, k: 9)
        a.emit(BPFCode.jeq, k: 1, jt: 1, jf: 0)
        a.jump(to: ipv4Addresses)
        a.emit(BPFCode.txa)
        a.emit(BPFCode.st, k: 2)
        a.emit(BPFCode.ldbInd, k: 0)
        a.emit(BPFCode.andImm, k: 0x0F)
        a.emit(BPFCode.lshImm, k: 2)
        a.emit(BPFCode.addX)
        a.emit(BPFCode.tax)
        a.emit(BPFCode.ldbInd, k: 0)
        // Each test jumps over the tests after it, the restore and its jump, to `advanceX(by: 8)`.
        for (index, type) in ([3, 4, 5, 11, 12] as [UInt32]).enumerated() {
            a.emit(BPFCode.jeq, k: type, jt: UInt8(6 - index), jf: 0)
        }
        a.emit(BPFCode.ldxMem, k: 2)  // not an error: the packet's own addresses
        a.jump(to: ipv4Addresses)
        a.advanceX(by: 8)
        a.place(ipv4Addresses)
        a.emit(BPFCode.ldwInd, k: 12)
        a.emit(BPFCode.st, k: 0)
        a.emit(BPFCode.ldwInd, k: 16)
        a.emit(BPFCode.ldxMem, k: 0)
        a.emit(BPFCode.xorX)
        a.jump(to: mix)

        // IPv6: X the header. An ICMPv6 error (types 1 to 127) right after it: X the quoted header.
        a.place(ipv6)
        a.emit(BPFCode.ldbInd, k: 6)
        a.emit(BPFCode.jeq, k: 58, jt: 1, jf: 0)
        a.jump(to: ipv6Addresses)
        a.emit(BPFCode.ldbInd, k: 40)
        a.emit(BPFCode.jge, k: 128, jt: 0, jf: 1)
        a.jump(to: ipv6Addresses)
        a.advanceX(by: 48)
        a.place(ipv6Addresses)
        // The eight words of the two addresses, XORed into M[0]; X kept in M[2] between loads.
        a.emit(BPFCode.txa)
        a.emit(BPFCode.st, k: 2)
        a.emit(BPFCode.ldwInd, k: 8)
        a.emit(BPFCode.st, k: 0)
        for offset: UInt32 in stride(from: 12, through: 36, by: 4) {
            a.emit(BPFCode.ldxMem, k: 2)
            a.emit(BPFCode.ldwInd, k: offset)
            a.emit(BPFCode.st, k: 1)
            a.emit(BPFCode.ldMem, k: 0)
            a.emit(BPFCode.ldxMem, k: 1)
            a.emit(BPFCode.xorX)
            a.emit(BPFCode.st, k: 0)
        }

        // A *= 2654435761 (Knuth's multiplicative hash: every bit of A reaches the high ones),
        // then A ^= A >> 16 brings them down to the low bits the modulo keeps.
        a.place(mix)
        a.emit(BPFCode.mulImm, k: 0x9E37_79B1)
        a.emit(BPFCode.st, k: 3)
        a.emit(BPFCode.rshImm, k: 16)
        a.emit(BPFCode.ldxMem, k: 3)
        a.emit(BPFCode.xorX)
        a.emit(BPFCode.retA)
        return BPFProgram(instructions: a.resolved())
    }
}
