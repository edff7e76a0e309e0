import Testing

@Suite("decode: usage errors")
struct UsageTests {
    /// The README promises exit status 2 when the command line is wrong.
    @Test("a wrong command line exits 2 with a message on standard error", arguments: [
        ["decode"], ["decode", "--format", "xml", "x.pcap"], ["decode", "--no-such-option", "x.pcap"],
    ])
    func usageError(arguments: [String]) throws {
        let result = try Tool.ghostport(arguments)
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(!result.stderr.isEmpty)
    }
}
