import Foundation
import Output
import Testing
import TestSupport
import Wire

private let v4Client = IPAddress(ipv4: 0xC633_6407)  // 198.51.100.7
private let v4Server = IPAddress(ipv4: 0xC0A8_0414)  // 192.168.4.20
private let v6Client = IPAddress(high: 0x2001_0DB8_0000_0000, low: 0x0000_0000_0000_0007, isIPv6: true)
private let v6Server = IPAddress(high: 0x2001_0DB8_0000_0001, low: 0x0000_0000_0000_0020, isIPv6: true)

private func alert(msg: String = "GHOSTPORT probe to abandoned port 571/tcp (udemon)",
                   category: String = "Attempted Information Leak", priority: Int = 2, proto: String = "TCP",
                   src: IPAddress = v4Client, sport: UInt16? = 40001, dst: IPAddress = v4Server,
                   dport: UInt16? = 571, sid: UInt32 = 9_005_710) -> AlertSummary {
    AlertSummary(gid: 1, sid: sid, rev: 1, msg: msg, category: category, priority: priority, proto: proto,
                 src: src, sport: sport, dst: dst, dport: dport,
                 eveJSON: "{\"event_type\":\"alert\",\"alert\":{\"signature_id\":\(sid),\"signature\":\"x\\ty\"}}\n")
}

@Suite struct SyslogTextTests {
    @Test func ipv4() {
        #expect(alert().text == "[1:9005710:1] GHOSTPORT probe to abandoned port 571/tcp (udemon) "
            + "[Classification: Attempted Information Leak] [Priority: 2] {TCP} 198.51.100.7:40001 -> 192.168.4.20:571")
    }

    @Test func ipv6AddressesAsTheyAre() {
        #expect(alert(proto: "UDP", src: v6Client, sport: 5353, dst: v6Server, dport: 571).text
            == "[1:9005710:1] GHOSTPORT probe to abandoned port 571/tcp (udemon) "
            + "[Classification: Attempted Information Leak] [Priority: 2] {UDP} 2001:db8::7:5353 -> 2001:db8:0:1::20:571")
    }

    @Test func icmpHasNoPorts() {
        #expect(alert(msg: "ping", category: "", priority: 3, proto: "ICMP", sport: nil, dport: nil).text
            == "[1:9005710:1] ping [Priority: 3] {ICMP} 198.51.100.7 -> 192.168.4.20")
        #expect(alert(msg: "ping6", category: "", priority: 3, proto: "IPv6-ICMP", src: v6Client, sport: nil,
                      dst: v6Server, dport: nil).text
            == "[1:9005710:1] ping6 [Priority: 3] {IPV6-ICMP} 2001:db8::7 -> 2001:db8:0:1::20")
    }

    @Test func controlCharactersAreEscaped() {
        let text = alert(msg: "evil\nFAKE: line\u{1B}[31m\ttab\u{0}nul\u{7F}del\u{85}nel\u{2028}sep\\back",
                         category: "bad\rcat").text
        #expect(text == "[1:9005710:1] evil\\x0AFAKE: line\\x1B[31m\\x09tab\\x00nul\\x7Fdel\\x85nel\\u2028sep\\\\back "
            + "[Classification: bad\\x0Dcat] [Priority: 2] {TCP} 198.51.100.7:40001 -> 192.168.4.20:571")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        #expect(SyslogOutput.escape("plain text, ünïcödé") == "plain text, ünïcödé")
    }

    @Test func percentSignsStayText() {
        #expect(alert(msg: "100% %s %n %x%%").text.hasPrefix("[1:9005710:1] 100% %s %n %x%% [Classification:"))
    }

    @Test func facilityNames() {
        #expect(SyslogFacility(name: "local5")?.code == 21 << 3)
        #expect(SyslogFacility(name: "LOCAL0")?.code == 16 << 3)
        #expect(SyslogFacility(name: "local7")?.code == 23 << 3)
        #expect(SyslogFacility(name: "auth")?.code == 4 << 3)
        #expect(SyslogFacility(name: "security")?.code == 4 << 3)
        #expect(SyslogFacility(name: "authpriv")?.code == 10 << 3)
        #expect(SyslogFacility(name: "daemon")?.code == 3 << 3)
        #expect(SyslogFacility(name: "user")?.code == 1 << 3)
        #expect(SyslogFacility(name: "syslog")?.code == 5 << 3)
        #expect(SyslogFacility(name: "kern") == nil)  // user space cannot log as the kernel
        #expect(SyslogFacility(name: "local8") == nil)
        #expect(SyslogFacility(name: "") == nil)
        #expect(SyslogFacility.local5.name == "local5")
        #expect(SyslogFacility.names.count == 20)
    }

    @Test func levels() {
        #expect(SyslogLevel(name: "crit") == .critical && SyslogLevel(name: "warn") == .warning)
        #expect(SyslogLevel(name: "loud") == nil)
        #expect(SyslogLevel.alert.rawValue == 1 && SyslogLevel.warning.rawValue == 4 && SyslogLevel.info.rawValue == 6)
        let levels = SyslogLevels.standard
        #expect(levels.level(forPriority: 1) == .alert)
        #expect(levels.level(forPriority: 2) == .critical)
        #expect(levels.level(forPriority: 3) == .error)
        #expect(levels.level(forPriority: 4) == .warning)
        #expect(levels.level(forPriority: 255) == .warning)
        #expect(levels.level(forPriority: 0) == .alert)
    }
}

/// Sends alerts as syslog(3) would to a real rsyslogd listening on /dev/log, and reads what
/// it wrote. Needs root (only root may create /dev/log) and /usr/sbin/rsyslogd
/// (`apt-get install -y rsyslog`); refuses to touch a /dev/log a running logger serves.
@Suite(.serialized) struct SyslogEndToEndTests {
    @Test(Prerequisite.trait(RsyslogDaemon.unavailableReason))
    func alertsReachRsyslogInBothFormats() throws {
        try Prerequisite.require(RsyslogDaemon.unavailableReason)
        let daemon = try RsyslogDaemon(facility: "local5")
        defer { daemon.stop() }

        let json = SyslogOutput(ident: "ghostport-test", facility: .local5, format: .json)
        json.send(alert(priority: 1))
        let text = SyslogOutput(ident: "ghostport-test", facility: .local5, format: .text)
        text.send(alert(msg: "odd\nmsg 100% %s", priority: 2, sid: 9_005_711))
        text.send(alert(msg: "ping", category: "", priority: 4, proto: "ICMP", src: v6Client, sport: nil,
                        dst: v6Server, dport: nil, sid: 9_005_712))
        text.send(record: "{\"event_type\":\"stats\"}\n")
        // Another facility is not in the file: the configured one is used.
        SyslogOutput(ident: "ghostport-test", facility: SyslogFacility(name: "local4")!, format: .text)
            .send(alert(sid: 1))
        text.close()
        #expect(json.sent == 1 && text.sent == 3)

        let expected = [
            "alert|local5|ghostport-test|{\"event_type\":\"alert\",\"alert\":{\"signature_id\":9005710,\"signature\":\"x\\ty\"}}",
            "crit|local5|ghostport-test|[1:9005711:1] odd\\x0Amsg 100% %s [Classification: Attempted Information Leak] [Priority: 2] {TCP} 198.51.100.7:40001 -> 192.168.4.20:571",
            "warning|local5|ghostport-test|[1:9005712:1] ping [Priority: 4] {ICMP} 2001:db8::7 -> 2001:db8:0:1::20",
            "info|local5|ghostport-test|{\"event_type\":\"stats\"}",
        ]
        #expect(daemon.waitForLines(expected.count) == expected)
    }
}

/// The logger's socket as a plain datagram socket the test binds, removes and binds again: no
/// root, no daemon.
@Suite struct SyslogSocketTests {
    @Test func missingThenServedThenGoneThenServed() throws {
        let directory = try TempDirectory()
        let path = directory.file("log.sock")
        let output = SyslogOutput(ident: "gp-test", facility: .local5, format: .text, socket: path)
        #expect(output.isFailing, "a missing socket is known before the first message")
        #expect(output.takeTransition() == .failing(path: path, errno: ENOENT))
        output.send(alert())
        output.send(alert())
        #expect(output.dropped == 2 && output.sent == 0)
        #expect(output.takeTransition() == nil, "said once per outage")

        var listener = try #require(DatagramListener(path))
        output.send(alert(priority: 1))
        #expect(output.sent == 1 && !output.isFailing)
        #expect(output.takeTransition() == .recovered(path: path, dropped: 2))
        let received = listener.messages()
        #expect(received.count == 1)
        // <PRI> is local5 (21) * 8 + alert (1); then the time, and ident[pid].
        #expect(received.first?.hasPrefix("<169>") == true, "\(received)")
        #expect(received.first?.contains(" gp-test[\(getpid())]: [1:9005710:1] GHOSTPORT probe") == true, "\(received)")

        listener.close()  // its socket file left behind, nobody serving it: refused
        output.send(alert())
        #expect(output.takeTransition() == .failing(path: path, errno: ECONNREFUSED))
        unlink(path)
        output.send(alert())
        #expect(output.takeTransition() == nil)
        listener = try #require(DatagramListener(path))
        output.send(alert())
        #expect(output.takeTransition() == .recovered(path: path, dropped: 2))
        #expect(output.dropped == 4 && output.sent == 2)
        #expect(listener.messages().count == 1)

        #expect(SyslogOutput.Transition.failing(path: "/dev/log", errno: ENOENT).description
            == "syslog: /dev/log: No such file or directory; alerts to syslog are dropped and counted "
            + "(stats output.syslog_dropped) until it is back; the EVE file keeps them")
        #expect(SyslogOutput.Transition.recovered(path: "/dev/log", dropped: 1).description
            == "syslog: /dev/log: delivering again; 1 message was dropped meanwhile")
    }

    /// A logger that does not read: its queue fills, and the sender drops instead of waiting.
    @Test func aFullQueueDropsWithoutBlocking() throws {
        let directory = try TempDirectory()
        let path = directory.file("log.sock")
        let listener = try #require(DatagramListener(path))
        let output = SyslogOutput(ident: "gp-test", socket: path)
        for _ in 0..<2000 { output.send(alert()) }
        #expect(output.sent > 0 && output.dropped > 0 && output.sent + output.dropped == 2000)
        #expect(output.lastError == EAGAIN)
        _ = listener
    }
}
