// Registry → Suricata rules. Deterministic: same registry, same bytes, same sids.

/// What a generated rule says about the port (its `ghostport_role` metadata).
public enum RegistryRuleRole: String, Sendable, CaseIterable {
    /// Traffic to the port: someone is looking.
    case probe
    /// The port answered: something is listening there, the real finding.
    case answered
    /// A packet from the port with no request seen: an answer to a probe the sensor missed, or
    /// backscatter (a reset to a spoofed probe); the verdict says which.
    case reply
}

/// The rules generated for one watched entry; the raw value is the sid's last digit `k`.
/// UDP and SCTP get a probe and an answer rule; TCP gets six, so that whatever the first packet
/// of a flow is, and whichever side of it the sensor sees, the flow alerts.
public enum RegistryRuleKind: Int, Sendable, CaseIterable {
    /// TCP: a SYN to the port (with any other flags).
    case tcpProbe = 0
    /// TCP: a SYN-ACK from the port.
    case tcpAnswer = 1
    case udpProbe = 2
    case udpAnswer = 3
    case sctpProbe = 4
    case sctpAnswer = 5
    /// TCP: a flow's first packet, to the port, without SYN (FIN, NULL, Xmas, ACK, Maimon scans;
    /// a session already under way when the sensor started).
    case tcpProbeWithoutSYN = 6
    /// TCP: data from the port in a flow whose handshake the sensor did not see.
    case tcpDataWithoutHandshake = 7
    /// TCP: a flow's first packet, from the port, neither SYN-ACK nor data (an ACK, FIN or RST).
    case tcpUnsolicited = 8
    /// TCP: the client completed a handshake and nothing of the server's side was seen.
    case tcpClientOnlyHandshake = 9

    public var role: RegistryRuleRole {
        switch self {
        case .tcpProbe, .udpProbe, .sctpProbe, .tcpProbeWithoutSYN: .probe
        case .tcpAnswer, .udpAnswer, .sctpAnswer, .tcpDataWithoutHandshake, .tcpClientOnlyHandshake: .answered
        case .tcpUnsolicited: .reply
        }
    }

    /// The kinds written for a protocol, in the order the rules file lists them.
    public static func kinds(for proto: RegistryProtocol) -> [RegistryRuleKind] {
        switch proto {
        case .tcp: [.tcpProbe, .tcpProbeWithoutSYN, .tcpClientOnlyHandshake, .tcpAnswer, .tcpDataWithoutHandshake, .tcpUnsolicited]
        case .udp: [.udpProbe, .udpAnswer]
        case .sctp: [.sctpProbe, .sctpAnswer]
        }
    }
}

/// Turns registry entries into Suricata rules.
public enum RuleGenerator {
    /// sid = sidBase + port*10 + k (`RegistryRuleKind`).
    public static let sidBase = 9_000_000

    /// The stable sid of a rule: derived from port and kind only, so regeneration never renumbers.
    public static func sid(for key: RegistryKey, kind: RegistryRuleKind) -> Int {
        sidBase + Int(key.port) * 10 + kind.rawValue
    }

    /// Every rule for one entry.
    public static func rules(for entry: RegistryEntry) -> [String] {
        RegistryRuleKind.kinds(for: entry.proto).map { rule(for: entry, kind: $0) }
    }

    public static func rule(for entry: RegistryEntry, kind: RegistryRuleKind) -> String {
        let proto = entry.proto.rawValue
        let status = entry.status == .lowUse ? "low-use" : "abandoned"
        let label = entry.description.isEmpty || entry.description.lowercased() == entry.service.lowercased()
            ? entry.service : "\(entry.service), \(entry.description)"
        let port = "\(status) port \(entry.key)"
        let toPort = "alert \(proto) any any -> any \(entry.port)"
        let fromPort = "alert \(proto) any \(entry.port) -> any any"
        let (header, msg, match): (String, String, [String]) = switch kind {
        case .tcpProbe:
            (toPort, "GHOSTPORT probe to \(port)", ["flow:to_server", "flags:+S"])
        case .udpProbe, .sctpProbe:
            (toPort, "GHOSTPORT probe to \(port)", ["flow:to_server"])
        case .tcpProbeWithoutSYN:
            (toPort, "GHOSTPORT probe without SYN to \(port)",
             ["flow:to_server", "flow.pkts:toserver,1", "flow.pkts:toclient,0", "flags:!S"])
        case .tcpClientOnlyHandshake:
            (toPort, "GHOSTPORT handshake with \(port), only the client's side seen",
             ["flow:to_server,established", "flow.pkts:toclient,0"])
        case .tcpAnswer:
            // After a packet of the client's: a SYN-ACK first of its flow answers no one seen (backscatter).
            (fromPort, "GHOSTPORT answer from \(port)", ["flow:to_client", "flow.pkts:toserver,>0", "flags:+SA"])
        case .udpAnswer, .sctpAnswer:
            (fromPort, "GHOSTPORT answer from \(port)", ["flow:to_client"])
        case .tcpDataWithoutHandshake:
            (fromPort, "GHOSTPORT data from \(port) with no handshake seen", ["flow:to_client,not_established", "dsize:>0"])
        case .tcpUnsolicited:
            (fromPort, "GHOSTPORT unsolicited packet from \(port)",
             ["flow:to_client", "flow.pkts:toserver,0", "flow.pkts:toclient,1", "dsize:0"])
        }
        let (classtype, priority) = switch kind.role {
        case .probe: ("attempted-recon", 3)
        case .answered: ("successful-recon-limited", 1)
        case .reply: ("misc-activity", 2)
        }
        // From rev 2 on, the SYN probe takes any packet with SYN, the answer any with SYN and ACK
        // (rev 1 said flags:S,CE and flags:SA,CE: a SYN-FIN went unseen). From rev 3 the answer
        // needs a packet of the client's before it, and from rev 2 the unsolicited packet may be a
        // SYN-ACK: a SYN-ACK nobody was seen asking for is backscatter, not a listener answering.
        let rev = switch kind {
        case .tcpProbe: 2
        case .tcpAnswer: 3
        case .tcpUnsolicited: 2
        default: 1
        }
        let options = ["msg:\"\(escapedMsg("\(msg) (\(label))"))\""] + match + [
            "classtype:\(classtype)", "priority:\(priority)",
            "metadata:ghostport_role \(kind.role.rawValue), service \(entry.service)",
            "sid:\(sid(for: entry.key, kind: kind))", "rev:\(rev)",
        ]
        return header + " (" + options.map { $0 + ";" }.joined(separator: " ") + ")"
    }

    /// Escapes what Suricata's msg parser treats specially: `\`, `"` and `;`.
    public static func escapedMsg(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\", "\"", ";": escaped += "\\" + String(character)
            case "\t", "\n", "\r": escaped += " "
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// The whole rules file for a registry; `source` names the registry in the header comment.
    public static func ruleset(for registry: Registry, source: String) -> String {
        let watched = registry.watched
        func count(_ proto: RegistryProtocol) -> Int { watched.filter { $0.proto == proto }.count }
        let ruleCount = watched.reduce(0) { $0 + RegistryRuleKind.kinds(for: $1.proto).count }
        var text = """
            # ghostport abandoned-port rules. GENERATED FILE: do not edit by hand.
            # Generated by `ghostport rules generate` from \(source); edit the registry and rerun.
            # \(watched.count) watched entries (tcp \(count(.tcp)), udp \(count(.udp)), sctp \(count(.sctp))), \(ruleCount) rules.
            # sid = \(sidBase) + port*10 + k; k: 0 tcp probe (a SYN), 1 tcp answer (a SYN-ACK after the client's packet), 2 udp probe, 3 udp answer,
            # 4 sctp probe, 5 sctp answer, 6 tcp probe without SYN (a flow's first packet: FIN, NULL, Xmas, ACK,
            # Maimon, mid-stream), 7 tcp data from the port with no handshake seen, 8 tcp unsolicited packet from
            # the port (first of its flow, no data: a SYN-ACK or RST nobody was seen asking for, as backscatter is),
            # 9 tcp handshake with only the client's side seen.

            """
        for entry in watched {
            let frequency = entry.nmapFrequency.map { "nmap_freq=\($0)" } ?? "nmap_freq=absent"
            text += "\n# \(entry.key) \(entry.service) [\(entry.status.rawValue)] \(frequency): \(oneLine(entry.note))\n"
            for rule in rules(for: entry) {
                text += rule + "\n"
            }
        }
        return text
    }

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
