import Capture
import Detect
import Foundation
import KernelFilter
import Rules
import Testing
import TestSupport
import Wire

/// The rules' kernel filter compiled by the real libpcap: it fits the kernel, and it keeps every
/// packet the prefilter keeps (nothing watched is missed).
@Suite struct KernelFilterProgramTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let shippedRules = repository + "/rules/abandoned-ports.rules"

    private func rules(_ text: String) -> RuleSet {
        let (rules, errors) = RuleLoader.load(text: text)
        #expect(errors.isEmpty)
        return rules
    }

    private func shipped() -> RuleSet {
        let (rules, errors) = RuleLoader.load(paths: [Self.shippedRules])
        #expect(errors.isEmpty)
        #expect(rules.count == 2676)
        return rules
    }

    private func fitted(_ rules: RuleSet, linkType: LinkType = .ethernet) throws -> FittedKernelFilter {
        guard case .success(let fitted?) = FittedKernelFilter.plan(.auto, rules: rules, anomalies: false, linkType: linkType,
                                                                   snaplen: 262_144) else {
            throw CaptureError.openFailed(path: "(filter)", reason: "no kernel filter for these rules")
        }
        return fitted
    }

    @Test func shippedRulesFitTheKernelLimit() throws {
        let ethernet = try fitted(shipped())
        print("shipped rules, Ethernet: \(ethernet.summary)")
        #expect(ethernet.program.count < BPFProgram.kernelLimit)
        #expect(ethernet.program.count > 1000)  // it really tests the ports
        #expect(ethernet.handBuilt && ethernet.gap == 0)  // the exact port sets
        #expect(ethernet.filter.tunnels != nil)
        let plain = try #require(try FittedKernelFilter.fit(
            try KernelFilter.make(rules: shipped(), anomalies: false, tunnels: { var off = TunnelPorts(); off.enabled = false; return off }()).get(),
            linkType: .ethernet, snaplen: 262_144))
        print("shipped rules, Ethernet, tunnels off: \(plain.summary)")
        #expect(plain.filter.tunnels == nil && plain.gap == 0 && plain.program.count < ethernet.program.count)
        #expect(ethernet.program.isValid)
        #expect(ethernet.filter.tcp.count == 382 && ethernet.filter.udp.count == 185 && ethernet.filter.sctp.count == 7)
        let cooked = try fitted(shipped(), linkType: .linuxSLL)
        print("shipped rules, Linux SLL: \(cooked.summary)")
        #expect(cooked.program.count < BPFProgram.kernelLimit && cooked.handBuilt && cooked.program.isValid)
        // What `rules filter` prints, compiled by libpcap: it fits too (with gaps merged behind a tag).
        let expression = try #require(try FittedKernelFilter.fitExpression(ethernet.filter, linkType: .ethernet, snaplen: 262_144))
        print("shipped rules, Ethernet, as a pcap-filter expression: \(expression.summary)")
        #expect(expression.program.count < BPFProgram.kernelLimit && expression.gap == 0)
        #expect(try BPFProgram.compile(expression.expression, linkType: .ethernet).count == expression.program.count)
        // Other link types get libpcap's code for the expression.
        let raw = try fitted(shipped(), linkType: .raw)
        print("shipped rules, raw IP: \(raw.summary)")
        #expect(!raw.handBuilt && raw.program.count < BPFProgram.kernelLimit && !raw.expression.contains("vlan"))
    }

    @Test func tooSmallABudgetMergesGapsThenGivesUp() throws {
        let filter = try KernelFilter.make(rules: shipped(), anomalies: false).get()
        let merged = try #require(try FittedKernelFilter.fit(filter, linkType: .ethernet, snaplen: 262_144, budget: 1500))
        #expect(merged.gap > 0)
        #expect(merged.program.count <= 1500 && merged.handBuilt && merged.program.isValid)
        #expect(try FittedKernelFilter.fit(filter, linkType: .ethernet, snaplen: 262_144, budget: 20) == nil)
    }

    @Test func userFilterRunsFirst() throws {
        let ruleFilter = try fitted(rules("alert tcp any any -> any 571 (msg:\"t\"; sid:1;)"))
        let user = try BPFProgram.compile("host 10.0.0.2", linkType: .ethernet)
        let both = try #require(user.then(ruleFilter.program))
        func accepts(_ program: BPFProgram, _ network: Network) -> Bool {
            let frame = Packet.ethernet(network)
            return frame.withUnsafeBytes { program.accepts($0, originalLength: frame.count) }
        }
        let watchedToHost = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 40000, dport: 571))
        let watchedElsewhere = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.3", .tcp(sport: 40000, dport: 571))
        let unwatchedToHost = Network.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 40000, dport: 80))
        #expect(accepts(both, watchedToHost))
        #expect(!accepts(both, watchedElsewhere))
        #expect(!accepts(both, unwatchedToHost))
        #expect(accepts(ruleFilter.program, watchedElsewhere))
        #expect(!accepts(ruleFilter.program, unwatchedToHost))
    }

    /// Frames of every shape the decoder knows, to and from watched and unwatched ports.
    static func builtFrames() -> [[UInt8]] {
        var networks: [Network] = []
        for port: UInt16 in [2, 3, 571, 572, 80, 443, 22, 53, 9, 17007, 17008, 40000] {
            networks.append(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 40000, dport: port)))
            networks.append(.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .tcp(sport: port, dport: 40000, flags: .synAck)))
            networks.append(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", options: [1, 1, 1, 1, 1, 1, 1, 0], .udp(sport: 40000, dport: port)))
            networks.append(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .sctp(sport: 40000, dport: port)))
            networks.append(.ipv6(src: "fd00::1", dst: "fd00::2", .tcp(sport: 40000, dport: port)))
            networks.append(.ipv6(src: "fd00::1", dst: "fd00::2", .udp(sport: port, dport: 40000)))
            networks.append(.ipv6(src: "fd00::1", dst: "fd00::2", extensionHeaders: [.hopByHop()], .tcp(sport: 40000, dport: port)))
            networks.append(.ipv6(src: "fd00::1", dst: "fd00::2", extensionHeaders: [.destinationOptions(), .routing()],
                                  .udp(sport: 40000, dport: port)))
            networks.append(.ipv6(src: "fd00::1", dst: "fd00::2", extensionHeaders: [.fragment(offset: 0, more: true)],
                                  .tcp(sport: 40000, dport: port)))
            let quoted = Network.ipv4(src: "10.0.0.2", dst: "10.0.0.1", .udp(sport: 40000, dport: port))
            networks.append(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmpError(type: 3, code: 3, quoting: quoted)))
            networks.append(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmpError(type: 11, code: 0, quoting: quoted)))
            let quoted6 = Network.ipv6(src: "fd00::2", dst: "fd00::1", .tcp(sport: 40000, dport: port))
            networks.append(.ipv6(src: "fd00::1", dst: "fd00::2", .icmpv6Error(type: 1, code: 4, quoting: quoted6)))
            networks.append(.ipv6(src: "fd00::1", dst: "fd00::2", .icmpv6Error(type: 2, code: 0, quoting: quoted6)))
            networks.append(.pppoe(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .tcp(sport: 40000, dport: port))))
            networks.append(.mpls(labels: [100, 200], .ipv6(src: "fd00::1", dst: "fd00::2", .udp(sport: 40000, dport: port))))
        }
        // Tunnels around a packet to (or, for the UDP ones, from) the same port.
        for port: UInt16 in [571, 572, 80, 9, 3] {
            let inner = Network.ipv4(src: "10.9.0.1", dst: "10.9.0.2", .tcp(sport: 40000, dport: port))
            let innerUDP = Network.ipv4(src: "10.9.0.1", dst: "10.9.0.2", .udp(sport: port, dport: 40000))
            let inner6 = Network.ipv6(src: "fd09::1", dst: "fd09::2", .tcp(sport: 40000, dport: port))
            for outer in [{ Network.ipv4(src: "192.0.2.1", dst: "192.0.2.2", $0) },
                          { Network.ipv6(src: "2001:db8::1", dst: "2001:db8::2", $0) }] as [(Segment) -> Network] {
                networks.append(outer(.vxlan(vni: 5, Packet.ethernet(inner))))
                networks.append(outer(.vxlan(vni: 5, Packet.ethernet(innerUDP))))
                networks.append(outer(.vxlan(vni: 5, Packet.ethernet(inner6))))
                networks.append(outer(.vxlan(vni: 5, Packet.ethernet(vlans: [.dot1q(7)], inner))))
                networks.append(outer(.vxlan(vni: 5, Packet.ethernet(.ipv4(src: "10.9.0.1", dst: "10.9.0.2",
                                                                           fragmentOffset: 2, .raw(proto: 6, [1, 2, 3, 4]))))))
                networks.append(outer(.vxlan(vni: 5, Packet.ethernet(.ipv4(src: "10.9.0.1", dst: "10.9.0.2",
                                                                           .vxlan(vni: 6, Packet.ethernet(inner)))))))
                networks.append(outer(.gre(inner)))
                networks.append(outer(.gre(key: 9, inner6)))
                networks.append(outer(.erspan2(session: 3, Packet.ethernet(inner))))
                networks.append(outer(.geneve(vni: 5, Packet.ethernet(inner))))
                networks.append(outer(.teredo(inner6)))
                networks.append(outer(.teredo(sport: 3544, dport: 50000, inner6)))
                networks.append(outer(.ipInIP(inner)))
                networks.append(outer(.ipInIP(inner6)))
            }
        }
        // Fragments: the first has the ports, the later ones none.
        networks.append(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", moreFragments: true, .udp(sport: 40000, dport: 572)))
        networks.append(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", fragmentOffset: 3, .raw(proto: 17, [1, 2, 3, 4, 5, 6, 7, 8])))
        networks.append(.ipv6(src: "fd00::1", dst: "fd00::2", extensionHeaders: [.fragment(offset: 3, more: false)],
                              .raw(proto: 17, [1, 2, 3, 4, 5, 6, 7, 8])))
        networks.append(.ipv4(src: "10.0.0.1", dst: "10.0.0.2", .icmpEcho()))
        networks.append(.ipv6(src: "fd00::1", dst: "fd00::2", .icmpv6Echo()))
        var frames: [[UInt8]] = []
        for network in networks {
            frames.append(Packet.ethernet(network))
            frames.append(Packet.ethernet(vlans: [.dot1q(10)], network))
            frames.append(Packet.ethernet(vlans: [.dot1ad(20), .dot1q(10)], network))
            frames.append(Packet.ethernet(vlans: [.dot1ad(30), .dot1ad(20), .dot1q(10)], network))
        }
        return frames
    }

    /// For every frame the prefilter admits, the compiled program must accept it too.
    private func checkSoundness(_ ruleSet: RuleSet, frames: [[UInt8]], linkType: LinkType = .ethernet,
                                expression: Bool = false) throws -> (admitted: Int, accepted: Int, total: Int) {
        let filter = try KernelFilter.make(rules: ruleSet, anomalies: false).get()
        let fitted = try #require(expression
            ? try FittedKernelFilter.fitExpression(filter, linkType: linkType, snaplen: 262_144)
            : try FittedKernelFilter.fit(filter, linkType: linkType, snaplen: 262_144))
        #expect(fitted.handBuilt == !expression)
        var prefilter = Prefilter(interest: Interest(rules: ruleSet), keepsAnomalies: false, flowSeed: 0)
        var admitted = 0, accepted = 0, missed = 0
        for frame in frames {
            let (admits, accepts) = frame.withUnsafeBytes { bytes in
                (prefilter.admits(bytes, linkType: linkType, originalLength: frame.count),
                 fitted.program.accepts(bytes, originalLength: frame.count))
            }
            if admits { admitted += 1 }
            if accepts { accepted += 1 }
            if admits && !accepts {
                missed += 1
                if missed <= 5 { Issue.record("admitted but filtered out: \(frame.map { String($0, radix: 16) }.joined(separator: " "))") }
            }
        }
        #expect(missed == 0)
        return (admitted, accepted, frames.count)
    }

    @Test func keepsEverythingThePrefilterKeepsOnBuiltFrames() throws {
        let frames = Self.builtFrames()
        let counts = try checkSoundness(shipped(), frames: frames)
        print("built frames, shipped rules: prefilter admits \(counts.admitted), kernel filter accepts \(counts.accepted) of \(counts.total)")
        #expect(counts.admitted > 100)
        #expect(counts.accepted < counts.total)  // and it does turn some away
        let viaLibpcap = try checkSoundness(shipped(), frames: frames, expression: true)
        print("built frames, shipped rules, the expression: accepts \(viaLibpcap.accepted) of \(viaLibpcap.total)")
        #expect(viaLibpcap.accepted < viaLibpcap.total)
        let small = try checkSoundness(rules("""
            alert tcp any any -> any 571 (msg:"t"; sid:1;)
            alert udp any 572 -> any any (msg:"u"; sid:2;)
            alert sctp any any -> any 9 (msg:"s"; sid:3;)
            """), frames: frames)
        #expect(small.admitted > 50)
        #expect(small.accepted < small.total)
        // Cooked captures: no VLAN in the expression, frames rebuilt as SLL.
        let cooked = Self.builtFrames().filter { $0[12] == 0x08 || $0[12] == 0x86 }.map { frame in
            Packet.sll(Network(etherType: UInt16(frame[12]) << 8 | UInt16(frame[13]), bytes: Array(frame[14...])))
        }
        _ = try checkSoundness(shipped(), frames: cooked, linkType: .linuxSLL)
        _ = try checkSoundness(shipped(), frames: cooked, linkType: .linuxSLL, expression: true)
    }

    /// A VXLAN mirror feed: the filter opens VXLAN and keeps only what carries a watched port;
    /// without tunnels, nothing of the feed is a candidate.
    @Test func aVXLANFeedIsFilteredOnItsInnerPorts() throws {
        let work = try TempDirectory()
        try Scenario(Scenario.Configuration(seed: 12, packets: 20_000)).write(to: work.path, name: "traffic")
        let capture = try OfflineCapture(path: work.file("traffic.pcap"))
        var frames: [[UInt8]] = []
        while let record = capture.next() {
            let frame = Array(record.bytes)
            frames.append(Packet.ethernet(.ipv4(src: "192.0.2.1", dst: "192.0.2.2", .vxlan(vni: 100, frame))))
        }
        let counts = try checkSoundness(shipped(), frames: frames)
        print("VXLAN feed of scenario 20000, shipped rules: prefilter admits \(counts.admitted), kernel filter accepts \(counts.accepted) of \(counts.total)")
        #expect(counts.admitted > 0)
        #expect(counts.accepted * 4 < counts.total, "the filter should keep a small share of a VXLAN feed")
    }

    @Test func keepsEverythingThePrefilterKeepsOnScenarioTraffic() throws {
        let work = try TempDirectory()
        try Scenario(Scenario.Configuration(seed: 11, packets: 20_000)).write(to: work.path, name: "traffic")
        let capture = try OfflineCapture(path: work.file("traffic.pcap"))
        var frames: [[UInt8]] = []
        while let record = capture.next() { frames.append(Array(record.bytes)) }
        #expect(frames.count >= 20_000)
        let counts = try checkSoundness(shipped(), frames: frames, linkType: capture.linkType)
        print("scenario 20000, shipped rules: prefilter admits \(counts.admitted), kernel filter accepts \(counts.accepted) of \(counts.total)")
        let viaLibpcap = try checkSoundness(shipped(), frames: frames, linkType: capture.linkType, expression: true)
        print("scenario 20000, shipped rules, the expression: accepts \(viaLibpcap.accepted) of \(viaLibpcap.total)")
        #expect(counts.admitted > 0)
        #expect(counts.accepted < counts.total)
    }
}
