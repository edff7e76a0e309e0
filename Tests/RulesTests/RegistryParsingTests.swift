import Testing
@testable import Rules

private let header = "port\tproto\tservice\tstatus\tnmap_freq\tdescription\tnote"

/// A registry text: the header, then the given lines.
private func registry(_ lines: String...) -> String {
    ([header] + lines).joined(separator: "\n") + "\n"
}

@Suite("Registry parsing")
struct RegistryParsingTests {
    @Test("a good file parses, sorted by port then protocol, comments and blank lines skipped")
    func parsesGoodFile() throws {
        let text = """
            # a comment before the header

            \(header)
            571\tudp\tmeter\tcurated\t0.000692\tudemon\tabove the UDP threshold\r
            # a comment between entries
            571\ttcp\tmeter\tabandoned\t0.000013\tudemon\tno living implementation
            87\ttcp\tpriv-term-l\tcurated\t-\tany private terminal link\tno IANA name

            """
        let parsed = try Registry.parse(text, file: "r.tsv")
        #expect(parsed.entries.map(\.key.description) == ["87/tcp", "571/tcp", "571/udp"])
        let meter = try #require(parsed[RegistryKey(port: 571, proto: .tcp)])
        #expect(meter == RegistryEntry(
            port: 571, proto: .tcp, service: "meter", status: .abandoned,
            nmapFrequency: NmapFrequency(millionths: 13), description: "udemon", note: "no living implementation"))
        #expect(parsed.entries[0].nmapFrequency == nil)
        #expect(parsed.entries[2].note == "above the UDP threshold")
    }

    @Test("a header with no entries is an empty registry")
    func emptyRegistry() throws {
        #expect(try Registry.parse(registry(), file: "r.tsv").entries.isEmpty)
    }

    @Test("serializing and parsing again gives the same registry")
    func roundTrip() throws {
        let original = Registry(entries: [
            RegistryEntry(port: 9, proto: .udp, service: "discard", status: .lowUse,
                          nmapFrequency: NmapFrequency(millionths: 15733), description: "Discard", note: "Wake-on-LAN"),
            RegistryEntry(port: 22, proto: .sctp, service: "ssh", status: .abandoned,
                          nmapFrequency: NmapFrequency(millionths: 0), description: "", note: "no SCTP\tserver"),
            RegistryEntry(port: 853, proto: .udp, service: "domain-s", status: .excluded,
                          nmapFrequency: nil, description: "DNS over TLS", note: "DoQ"),
        ])
        let reparsed = try Registry.parse(original.serialized(), file: "r.tsv")
        #expect(reparsed.entries.count == 3)
        #expect(reparsed.entries[1].note == "no SCTP server")
        #expect(reparsed.serialized() == original.serialized())
    }

    @Test("watched entries leave out the excluded ones")
    func watched() throws {
        let parsed = try Registry.parse(registry(
            "1\ttcp\ta\tabandoned\t0\t\tx", "2\ttcp\tb\tcurated\t0\t\tx",
            "3\ttcp\tc\tlow-use\t0\t\tx", "4\ttcp\td\texcluded\t0\t\tx"), file: "r.tsv")
        #expect(parsed.watched.map(\.port) == [1, 2, 3])
    }

    static let errorCases: [(text: String, expected: String)] = [
        ("571\ttcp\tmeter\tabandoned\t0\tudemon\tx\n",
         "r.tsv:1: expected the column header port proto service status nmap_freq description note (tab-separated) before any entry"),
        ("# only a comment\n",
         "r.tsv:1: no column header port proto service status nmap_freq description note (tab-separated) in the file"),
        ("",
         "r.tsv:1: no column header port proto service status nmap_freq description note (tab-separated) in the file"),
        (registry("571\ttcp\tmeter\tabandoned\t0\tudemon"),
         "r.tsv:2: expected 7 tab-separated fields (port proto service status nmap_freq description note), found 6"),
        (registry("571 tcp meter abandoned 0 udemon x"),
         "r.tsv:2: expected 7 tab-separated fields (port proto service status nmap_freq description note), found 1"),
        (registry("0\ttcp\tmeter\tabandoned\t0\tudemon\tx"),
         "r.tsv:2: port '0' is not a number from 1 to 65535"),
        (registry("65536\ttcp\tmeter\tabandoned\t0\tudemon\tx"),
         "r.tsv:2: port '65536' is not a number from 1 to 65535"),
        (registry("x571\ttcp\tmeter\tabandoned\t0\tudemon\tx"),
         "r.tsv:2: port 'x571' is not a number from 1 to 65535"),
        (registry("571\ticmp\tmeter\tabandoned\t0\tudemon\tx"),
         "r.tsv:2: protocol 'icmp' is not tcp, udp or sctp"),
        (registry("571\ttcp\t\tabandoned\t0\tudemon\tx"),
         "r.tsv:2: service name '' must be non-empty, without spaces, commas, semicolons, quotes or backslashes"),
        (registry("571\ttcp\tme;ter\tabandoned\t0\tudemon\tx"),
         "r.tsv:2: service name 'me;ter' must be non-empty, without spaces, commas, semicolons, quotes or backslashes"),
        (registry("571\ttcp\tmeter\tdead\t0\tudemon\tx"),
         "r.tsv:2: status 'dead' is not abandoned, curated, low-use or excluded"),
        (registry("571\ttcp\tmeter\tabandoned\t1.5\tudemon\tx"),
         "r.tsv:2: nmap_freq '1.5' is not a frequency like 0.000013 (or '-' when nmap-services lacks the port)"),
        (registry("571\ttcp\tmeter\tabandoned\t0.0000001\tudemon\tx"),
         "r.tsv:2: nmap_freq '0.0000001' is not a frequency like 0.000013 (or '-' when nmap-services lacks the port)"),
        (registry("571\ttcp\tmeter\tabandoned\t\tudemon\tx"),
         "r.tsv:2: nmap_freq '' is not a frequency like 0.000013 (or '-' when nmap-services lacks the port)"),
        (registry("571\ttcp\tmeter\tabandoned\t0\tudemon\t "),
         "r.tsv:2: note is empty: say why 571/tcp is watched or excluded"),
        (registry("571\ttcp\tmeter\tabandoned\t0\tudemon\tx", "# comment", "571\ttcp\tmeter\tcurated\t0\tudemon\ty"),
         "r.tsv:4: duplicate entry 571/tcp (first at line 2)"),
    ]

    @Test("each malformed line is reported with file, line and reason", arguments: errorCases)
    func reportsErrors(text: String, expected: String) {
        #expect {
            _ = try Registry.parse(text, file: "r.tsv")
        } throws: { error in
            (error as? RegistryError)?.description == expected
        }
    }

    @Test("frequencies parse and print as nmap writes them, exactly")
    func frequencies() {
        #expect(NmapFrequency("0.000013")?.millionths == 13)
        #expect(NmapFrequency("0.0001")?.millionths == 100)
        #expect(NmapFrequency("0")?.millionths == 0)
        #expect(NmapFrequency("1")?.millionths == 1_000_000)
        #expect(NmapFrequency("1.000000")?.millionths == 1_000_000)
        #expect(NmapFrequency("0.5")?.description == "0.500000")
        #expect(NmapFrequency(millionths: 692).description == "0.000692")
        for bad in ["", ".5", "0.", "1.000001", "2", "-0.1", "0.1234567", "1e-5", "0,5"] {
            #expect(NmapFrequency(bad) == nil, "\(bad) should not parse")
        }
    }
}
