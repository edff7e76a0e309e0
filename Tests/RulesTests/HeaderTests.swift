import Rules
import Testing

@Suite struct HeaderTests {
    @Test func actionsProtocolsDirections() throws {
        let alert = try rule(header("alert tcp any any -> any 571"))
        #expect(alert.action == .alert && alert.proto == .tcp && alert.direction == .toDestination)
        let pass = try rule(header("pass udp any any <> any 571"))
        #expect(pass.action == .pass && pass.proto == .udp && pass.direction == .both)
        #expect(try rule(header("alert sctp any any -> any any")).proto == .sctp)
        #expect(try rule(header("alert icmp any any -> any any")).proto == .icmp)
        #expect(try rule(header("alert ip any any -> any any")).proto == .ip)
        #expect(try rule(header("alert TCP any any -> any any")).proto == .tcp)
    }

    /// IPS rule sets load: drop and reject rules alert (as Suricata's in IDS mode), keeping their
    /// action's name for the load report.
    @Test(arguments: [("drop", RuleAction.drop), ("reject", .reject), ("rejectsrc", .rejectsrc),
                      ("rejectdst", .rejectdst), ("rejectboth", .rejectboth)])
    func ipsActionsAlert(text: String, action: RuleAction) throws {
        let r = try rule(header("\(text) tcp any any -> any 571"))
        #expect(r.action == action && r.action.alerts)
        #expect(!RuleAction.pass.alerts && RuleAction.alert.alerts)
    }

    @Test func ruleKeepsItsTextAndLocation() throws {
        let text = header("alert tcp any any -> any 571")
        let r = try rule("\n\n  " + text)
        #expect(r.text == text)
        #expect(r.location == RuleLocation(file: "t.rules", line: 3))
    }

    @Test func badActionProtocolDirection() {
        #expect(failure(header("config tcp any any -> any 571")) == "t.rules:1:1: unsupported action 'config' in sid 1")
        #expect(failure(header("alrt tcp any any -> any 571")) == "t.rules:1:1: unknown action 'alrt' in sid 1")
        #expect(failure(header("alert http any any -> any 571")) == "t.rules:1:7: unsupported protocol 'http' in sid 1")
        #expect(failure(header("alert tcp any any <- any 571"))
                == "t.rules:1:19: invalid direction '<-': expected '->' or '<>' in sid 1")
        #expect(failure(header("alert tcp any any => any 571"))
                == "t.rules:1:19: invalid direction '=>': expected '->' or '<>' in sid 1")
    }

    @Test func wrongShape() {
        #expect(failure(header("alert tcp any -> any 571")) == "t.rules:1:15: missing source port before '->' in sid 1")
        #expect(failure(header("alert tcp any any 1 -> any 571")) == "t.rules:1:19: unexpected '1' before '->' in sid 1")
        #expect(failure(header("alert tcp any any -> any")) == "t.rules:1:26: missing destination port in rule header in sid 1")
        #expect(failure(header("alert tcp any any -> any 571 572"))
                == "t.rules:1:30: unexpected '572' after destination port in sid 1")
        #expect(failure("alert tcp any any -> any 571") == "t.rules:1:29: expected '(' to open rule options")
        #expect(failure("alert tcp any any -> any 571 msg:\"x\"; sid:1;")
                == "t.rules:1:30: expected '(' to open rule options, found 'msg:\"x\";'")
    }

    @Test func parenthesesAndSemicolons() {
        #expect(failure("alert tcp any any -> any 571 (msg:\"x\"; sid:1;")
                == "t.rules:1:30: unbalanced parentheses: missing ')' in sid 1")
        #expect(failure("alert tcp any any -> any 571 (msg:\"x\"; sid:1)")
                == "t.rules:1:45: missing ';' after option 'sid' in sid 1")
        #expect(failure("alert tcp any any -> any 571 (msg:\"x\"; sid:1;) extra")
                == "t.rules:1:48: unexpected 'extra' after ')' in sid 1")
        #expect(failure("alert tcp any any -> any 571 (msg:\"x\";; sid:1;)")
                == "t.rules:1:39: missing option keyword before ';' in sid 1")
    }
}
