import Testing
@testable import Rules

#if canImport(Glibc)
import Glibc
#endif

/// A tiny IANA-style services list: the formats and oddities of wireshark's copy.
private let servicesFixture = """
    # IANA port numbers, services(5) format
    tcpmux\t\t1/tcp/udp\t# TCP Port Service Multiplexer
    compressnet\t3/tcp/udp\t# Compression Process
    discard\t\t9/tcp/udp/sctp/dccp\t# Discard
    vettcp\t\t78/tcp/udp
    meter\t\t571/tcp/udp\t# udemon
    meter\t\t571/tcp\t# a second line for 571/tcp: the first wins
    domain-s\t853/tcp/udp\t# DNS query-response protocol run over TLS
    ircu\t\t6665-6667/tcp\t# IRCU
    kazaa\t\t1214/tcp/udp\t# KAZAA
    """

/// A tiny nmap-services-style frequency table.
private let frequenciesFixture = """
    # Fields: service, port/proto, open-frequency, optional comments
    tcpmux\t1/tcp\t0.001995\t# TCP Port Service Multiplexer
    tcpmux\t1/udp\t0.001236
    compressnet\t3/tcp\t0.001242\t# Compression Process
    compressnet\t3/udp\t0.000000
    discard\t9/tcp\t0.003020
    discard\t9/udp\t0.015733\t# sink null
    discard\t9/sctp\t0.000000
    vettcp\t78/tcp\t0.000025
    umeter\t571/tcp\t0.000013\t# meter | udemon
    umeter\t571/udp\t0.000692\t# udemon
    domain-s\t853/tcp\t0.000025
    ircu\t6666/tcp\t0.000000
    fasttrack\t1214/tcp\t0.000050
    """

@Suite("Registry building from sources")
struct RegistryBuilderTests {
    let services: [RegistryKey: ServiceRecord]
    let frequencies: [RegistryKey: FrequencyRecord]

    init() throws {
        services = try RegistrySources.parseServices(servicesFixture, file: "services")
        frequencies = try RegistrySources.parseFrequencies(frequenciesFixture, file: "nmap-services")
    }

    private func keys(_ registry: Registry) -> [String] {
        registry.entries.map(\.key.description)
    }

    @Test("the services list: protocol lists and ranges expand, dccp is skipped, the first line wins")
    func parsesServices() {
        #expect(services[RegistryKey(port: 9, proto: .sctp)]?.name == "discard")
        #expect(services.keys.filter { $0.port == 9 }.count == 3)
        #expect(services[RegistryKey(port: 571, proto: .tcp)]?.description == "udemon")
        #expect(services[RegistryKey(port: 78, proto: .tcp)]?.description == "")
        #expect((6665...6667).allSatisfy { services[RegistryKey(port: UInt16($0), proto: .tcp)]?.name == "ircu" })
        #expect(services.count == 2 + 2 + 3 + 2 + 2 + 2 + 3 + 2)
    }

    @Test("the frequency table parses exactly")
    func parsesFrequencies() {
        #expect(frequencies[RegistryKey(port: 571, proto: .udp)]?.frequency == NmapFrequency(millionths: 692))
        #expect(frequencies[RegistryKey(port: 571, proto: .tcp)]?.name == "umeter")
        #expect(frequencies.count == 13)
    }

    static let sourceErrorCases: [(services: Bool, text: String, expected: String)] = [
        (true, "meter\n", "s:1: expected 'name port/proto # description', found 'meter'"),
        (true, "# c\nmeter 571 # udemon\n", "s:2: port field '571' is not 'port/proto' or 'first-last/proto'"),
        (true, "meter 70000/tcp\n", "s:1: port field '70000/tcp' is not 'port/proto' or 'first-last/proto'"),
        (true, "meter 9-7/tcp\n", "s:1: port field '9-7/tcp' is not 'port/proto' or 'first-last/proto'"),
        (false, "umeter 571/tcp\n", "s:1: expected 'name port/proto frequency # comment', found 2 fields"),
        (false, "ircu 6665-6669/tcp 0.0\n", "s:1: port field '6665-6669/tcp' is not 'port/proto'"),
        (false, "umeter 571/tcp 0.0x\n", "s:1: frequency '0.0x' is not a decimal from 0 to 1 like 0.000013"),
    ]

    @Test("malformed source lines are reported with file and line", arguments: sourceErrorCases)
    func sourceErrors(services: Bool, text: String, expected: String) {
        #expect {
            if services {
                _ = try RegistrySources.parseServices(text, file: "s")
            } else {
                _ = try RegistrySources.parseFrequencies(text, file: "s")
            }
        } throws: { error in
            (error as? RegistryError)?.description == expected
        }
    }

    @Test("a build selects registered ports at or below each protocol's threshold, in range, with nmap evidence")
    func selectsByCriterion() {
        let criterion = RegistryCriterion(
            maxFrequency: [.tcp: NmapFrequency(millionths: 25), .udp: NmapFrequency(millionths: 400), .sctp: NmapFrequency(millionths: 25)],
            ports: 1...1023)
        let built = RegistryBuilder.build(services: services, frequencies: frequencies, criterion: criterion, base: nil)
        // 3/udp 0, 9/sctp 0, 78/tcp 0.000025 (at the threshold), 571/tcp, 853/tcp; not 78/udp (no nmap line).
        #expect(keys(built) == ["3/udp", "9/sctp", "78/tcp", "571/tcp", "853/tcp"])
        let meter = built.entries[3]
        #expect(meter.service == "meter" && meter.description == "udemon" && meter.status == .abandoned)
        #expect(meter.nmapFrequency == NmapFrequency(millionths: 13))
        #expect(meter.note == "criterion (nmap_freq <= 0.000025); no known living implementation")
        #expect(built.entries[0].note == "criterion (nmap_freq <= 0.000400); no known living implementation")
    }

    @Test("widening the threshold, the range or narrowing the protocols changes the selection")
    func widensAndNarrows() {
        let wide = RegistryCriterion(maxFrequency: [.tcp: NmapFrequency(millionths: 100), .udp: NmapFrequency(millionths: 1000)],
                                     ports: 1...65535)
        #expect(keys(RegistryBuilder.build(services: services, frequencies: frequencies, criterion: wide, base: nil))
            == ["3/udp", "78/tcp", "571/tcp", "571/udp", "853/tcp", "1214/tcp", "6666/tcp"])
        let tcpOnly = RegistryCriterion(maxFrequency: [.tcp: NmapFrequency(millionths: 0)], ports: 500...1023)
        #expect(keys(RegistryBuilder.build(services: services, frequencies: frequencies, criterion: tcpOnly, base: nil))
            .isEmpty)
    }

    @Test("a rebuild keeps the base's hand decisions and notes, refreshes source fields, drops what no longer qualifies")
    func mergesBase() throws {
        let base = try Registry.parse("""
            port\tproto\tservice\tstatus\tnmap_freq\tdescription\tnote
            3\ttcp\tcompressnet\tcurated\t-\told\tpinned by hand
            9\tudp\tdiscard\tlow-use\t0.000001\tDiscard\tWake-on-LAN
            78\ttcp\tvettcp\tabandoned\t0.000025\t\treviewed: nothing uses vettcp
            87\ttcp\tpriv-term-l\tcurated\t0.000125\tany private terminal link\tnot in IANA's list
            571\ttcp\tmeter\tabandoned\t0.000013\tudemon\tthe emblem
            853\ttcp\tdomain-s\texcluded\t0.000025\tDNS over TLS\tDNS over TLS is live
            1214\ttcp\tkazaa\tabandoned\t0.000050\tKAZAA\toutside the rebuilt range

            """, file: "base.tsv")
        let narrow = RegistryCriterion(maxFrequency: [.tcp: NmapFrequency(millionths: 13), .udp: NmapFrequency(millionths: 0)],
                                       ports: 1...1023)
        let rebuilt = RegistryBuilder.build(services: services, frequencies: frequencies, criterion: narrow, base: base)
        // 78/tcp (0.000025) is above the narrowed threshold: dropped. 9/sctp: protocol not rebuilt, not in base.
        #expect(keys(rebuilt) == ["3/tcp", "3/udp", "9/udp", "87/tcp", "571/tcp", "853/tcp", "1214/tcp"])
        let compressnet = try #require(rebuilt[RegistryKey(port: 3, proto: .tcp)])
        #expect(compressnet.description == "Compression Process")
        #expect(compressnet.nmapFrequency == NmapFrequency(millionths: 1242))
        #expect(compressnet.note == "pinned by hand" && compressnet.status == .curated)
        #expect(rebuilt[RegistryKey(port: 9, proto: .udp)]?.nmapFrequency == NmapFrequency(millionths: 15733))
        #expect(rebuilt[RegistryKey(port: 87, proto: .tcp)]?.service == "priv-term-l")
        #expect(rebuilt[RegistryKey(port: 571, proto: .tcp)]?.note == "the emblem")
        #expect(rebuilt[RegistryKey(port: 853, proto: .tcp)]?.status == .excluded)
        // Rebuilding the result again changes nothing.
        let again = RegistryBuilder.build(services: services, frequencies: frequencies, criterion: narrow, base: rebuilt)
        #expect(again == rebuilt)
    }

    @Test("fixture files written to disk read back; a missing file says so")
    func filesRoundTrip() throws {
        var template = Array("/tmp/ghostport-registry-XXXXXX".utf8CString)
        let directory = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) })
        let root = String(cString: directory)
        defer {
            unlink(root + "/services")
            unlink(root + "/nmap-services")
            rmdir(root)
        }
        try RegistryFile.replaceContents(of: root + "/services", with: servicesFixture)
        try RegistryFile.replaceContents(of: root + "/nmap-services", with: frequenciesFixture)
        let read = try RegistrySources.parseServices(try RegistryFile.contents(of: root + "/services"), file: "services")
        #expect(read == services)
        #expect(try RegistryFile.contents(of: root + "/nmap-services") == frequenciesFixture)
        #expect(throws: RegistryFileError(path: root + "/absent.tsv", reason: "no such file or directory")) {
            _ = try RegistryFile.contents(of: root + "/absent.tsv")
        }
    }
}
