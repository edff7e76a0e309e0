import CPcap
import Wire

/// A compiled classic BPF program: a capture filter the kernel (or libpcap) runs on each packet.
public struct BPFProgram: @unchecked Sendable {
    // @unchecked: bpf_insn is four integers; the array is never shared mutably.
    package let instructions: [bpf_insn]

    /// The kernel refuses longer programs (BPF_MAXINSNS).
    public static let kernelLimit = 4096

    public var count: Int { instructions.count }

    /// Whether both programs are the same instructions.
    public func isSame(as other: BPFProgram) -> Bool {
        instructions.count == other.instructions.count && zip(instructions, other.instructions).allSatisfy { a, b in
            a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k
        }
    }

    package init(instructions: [bpf_insn]) { self.instructions = instructions }

    /// Compiles `expression` for `linkType` without a capture, so the program is the same on
    /// every machine: libpcap adds no Linux VLAN-metadata tests.
    /// The corresponding C functions are `pcap_open_dead` and `pcap_compile`.
    public static func compile(_ expression: String, linkType: LinkType, snaplen: Int32 = 262_144) throws(CaptureError) -> BPFProgram {
        guard let handle = pcap_open_dead(linkType.rawValue, snaplen) else {
            throw .openFailed(path: "(filter)", reason: "pcap_open_dead failed")
        }
        defer { pcap_close(handle) }
        return try compile(expression, on: handle)
    }

    /// Compiles `expression` for an open capture. The corresponding C function is `pcap_compile`.
    static func compile(_ expression: String, on handle: OpaquePointer) throws(CaptureError) -> BPFProgram {
        var program = bpf_program()
        guard pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw .openFailed(path: "(filter)", reason: "bad filter '\(expression)': \(String(cString: pcap_geterr(handle)))")
        }
        defer { pcap_freecode(&program) }
        return BPFProgram(instructions: Array(UnsafeBufferPointer(start: program.bf_insns, count: Int(program.bf_len))))
    }

    /// Whether the program keeps this packet. The corresponding C function is `pcap_offline_filter`.
    public func accepts(_ bytes: UnsafeRawBufferPointer, originalLength: Int) -> Bool {
        var header = pcap_pkthdr()
        header.caplen = UInt32(bytes.count)
        header.len = UInt32(originalLength)
        return withProgram { program in
            pcap_offline_filter(&program, &header, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)) != 0
        }
    }

    /// This program, then `next` for what this one keeps: a packet must pass both. Nil when this
    /// program's verdict is not a constant (`ret A`), which `pcap_compile` never emits.
    public func then(_ next: BPFProgram) -> BPFProgram? {
        var combined = instructions
        for (index, instruction) in combined.enumerated() where instruction.code & 0x07 == UInt16(BPF_RET) {
            guard instruction.code & 0x18 == UInt16(BPF_K) else { return nil }
            if instruction.k != 0 {
                // Jump to the first instruction of `next`, just past this program.
                combined[index] = bpf_insn(code: UInt16(BPF_JMP | BPF_JA), jt: 0, jf: 0,
                                           k: UInt32(instructions.count - index - 1))
            }
        }
        return BPFProgram(instructions: combined + next.instructions)
    }

    package func withProgram<Result>(_ body: (inout bpf_program) -> Result) -> Result {
        var copy = instructions
        return copy.withUnsafeMutableBufferPointer { buffer in
            var program = bpf_program(bf_len: UInt32(buffer.count), bf_insns: buffer.baseAddress)
            return body(&program)
        }
    }
}
