import Rules
import Testing

/// A tcp rule with these options; the options start at column 31.
func options(_ text: String) -> String { "alert tcp any any -> any 571 (\(text))" }

@Suite struct MsgSidRevGidTests {
    @Test func basics() throws {
        let r = try rule(options("msg:\"udemon probe\"; sid:1000001; rev:3; gid:7;"))
        #expect(r.msg == "udemon probe")
        #expect(r.sid == 1_000_001 && r.rev == 3 && r.gid == 7)
    }

    @Test func defaults() throws {
        let r = try rule(options("sid:5;"))
        #expect(r.msg == "" && r.gid == 1 && r.rev == 0 && r.priority == 3 && r.classtype == nil)
        #expect(r.metadata.isEmpty && r.references.isEmpty)
        #expect(r.flags == nil && r.flow == nil && r.threshold == nil && r.detectionFilter == nil)
    }

    @Test func msgEscapes() throws {
        let r = try rule(options(#"msg:"a \"quoted\" word\; then a backslash \\ and \: colon"; sid:1;"#))
        #expect(r.msg == #"a "quoted" word; then a backslash \ and : colon"#)
    }

    @Test func spacesAroundKeywordsAndValues() throws {
        let r = try rule(options("  msg : \"m\" ;  sid : 9 ; rev:2  ;"))
        #expect(r.msg == "m" && r.sid == 9 && r.rev == 2)
    }

    @Test func keywordsAreCaseInsensitive() throws {
        #expect(try rule(options("MSG:\"m\"; SID:4;")).sid == 4)
    }

    @Test func msgErrors() {
        #expect(failure(options("msg:unquoted; sid:1;")) == "t.rules:1:35: msg must be a quoted string in sid 1")
        #expect(failure(options(#"msg:"ends in backslash\"; sid:1;"#))
                == "t.rules:1:35: unterminated string in msg in sid 1")
        #expect(failure(options("msg; sid:1;")) == "t.rules:1:31: option 'msg' needs a value in sid 1")
    }

    @Test func sidErrors() {
        #expect(failure(options("msg:\"m\";")) == "t.rules:1:1: missing sid")
        #expect(failure(options("sid:0;")) == "t.rules:1:35: invalid sid '0'")
        #expect(failure(options("sid:abc;")) == "t.rules:1:35: invalid sid 'abc'")
        #expect(failure(options("sid:4294967296;")) == "t.rules:1:35: invalid sid '4294967296'")
        #expect(failure(options("sid:1; sid:2;")) == "t.rules:1:38: duplicate option 'sid' in sid 1")
        #expect(failure(options("sid:1; rev:x;")) == "t.rules:1:42: invalid rev 'x' in sid 1")
        #expect(failure(options("sid:1; gid:-1;")) == "t.rules:1:42: invalid gid '-1' in sid 1")
        #expect(failure(options("sid:1; msg:\"a\"; msg:\"b\";")) == "t.rules:1:47: duplicate option 'msg' in sid 1")
    }

    @Test func duplicateSidsPerGid() {
        let text = """
            alert tcp any any -> any 1 (sid:1;)
            alert tcp any any -> any 2 (sid:1; gid:2;)
            alert tcp any any -> any 3 (gid:2; sid:1;)
            alert udp any any -> any 4 (msg:"again"; sid:1;)
            """
        let (ruleSet, errors) = load(text)
        #expect(ruleSet.rules.map(\.gid) == [1, 2])
        #expect(errors.map(\.description) == [
            "t.rules:3:40: duplicate sid 1 (gid 2), first defined at t.rules:2",
            "t.rules:4:46: duplicate sid 1 (gid 1), first defined at t.rules:1",
        ])
        #expect(ruleSet.rule(sid: 1, gid: 2)?.destinationPorts.ranges == [2...2])
        #expect(ruleSet.rule(sid: 1)?.destinationPorts.ranges == [1...1])
        #expect(ruleSet.rule(sid: 9) == nil)
    }

    @Test func unsupportedKeywords() {
        #expect(failure(options("msg:\"m\"; content:\"abc\"; sid:7;"))
                == "t.rules:1:40: unsupported keyword 'content' in sid 7")
        #expect(failure(options("pcre:\"/x/\"; sid:7;")) == "t.rules:1:31: unsupported keyword 'pcre' in sid 7")
        #expect(failure(options("sid:7; http.uri; content:\"x\";")) == "t.rules:1:38: unsupported keyword 'http.uri' in sid 7")
        #expect(failure(options("noalert; sid:7;")) == "t.rules:1:31: unsupported keyword 'noalert' in sid 7")
        #expect(failure(options("content:\"a\";")) == "t.rules:1:31: unsupported keyword 'content'")
    }
}

@Suite struct ClasstypePriorityTests {
    @Test func classtypeSetsPriority() throws {
        let r = try rule(options("classtype:attempted-recon; sid:1;"))
        #expect(r.classtype == "attempted-recon" && r.priority == 2)
        #expect(try rule(options("classtype:trojan-activity; sid:1;")).priority == 1)
        #expect(try rule(options("classtype:tcp-connection; sid:1;")).priority == 4)
        #expect(try rule(options("classtype:Attempted-Recon; sid:1;")).classtype == "attempted-recon")
    }

    @Test func priorityOverridesClasstypeInEitherOrder() throws {
        #expect(try rule(options("classtype:attempted-recon; priority:1; sid:1;")).priority == 1)
        #expect(try rule(options("priority:4; classtype:attempted-recon; sid:1;")).priority == 4)
        #expect(try rule(options("priority:255; sid:1;")).priority == 255)
    }

    @Test func errors() {
        #expect(failure(options("classtype:nope; sid:1;")) == "t.rules:1:41: unknown classtype 'nope' in sid 1")
        #expect(failure(options("priority:0; sid:1;")) == "t.rules:1:40: invalid priority '0': expected 1 to 255 in sid 1")
        #expect(failure(options("priority:high; sid:1;"))
                == "t.rules:1:40: invalid priority 'high': expected 1 to 255 in sid 1")
    }

    @Test func customClassification() throws {
        let (classification, errors) = Classification.parse(
            "# comment\nconfig classification: abandoned-port,Traffic to an abandoned port, 2\n", file: "c.config")
        #expect(errors.isEmpty)
        let (ruleSet, ruleErrors) = load(options("classtype:abandoned-port; sid:1;") + "\n"
                                         + options("classtype:attempted-recon; sid:2;"),
                                         classification: classification)
        #expect(ruleSet.rules.map(\.priority) == [2])
        #expect(ruleErrors.map(\.description) == ["t.rules:2:41: unknown classtype 'attempted-recon' in sid 2"])
    }
}

@Suite struct MetadataReferenceTests {
    @Test func metadata() throws {
        let r = try rule(options("metadata: created_at 2024_01_01, tag abandoned port, tag udemon; sid:1; metadata:policy balanced;"))
        #expect(r.metadata == [
            "created_at": ["2024_01_01"], "tag": ["abandoned port", "udemon"], "policy": ["balanced"],
        ])
    }

    @Test func references() throws {
        let r = try rule(options("reference: url, www.iana.org/assignments ; reference:cve,2024-0001; sid:1;"))
        #expect(r.references == [
            RuleReference(system: "url", id: "www.iana.org/assignments"), RuleReference(system: "cve", id: "2024-0001"),
        ])
    }

    @Test func errors() {
        #expect(failure(options("metadata: created_at 2024, lonely; sid:1;"))
                == "t.rules:1:58: invalid metadata 'lonely': expected 'key value' in sid 1")
        #expect(failure(options("reference:url; sid:1;"))
                == "t.rules:1:41: invalid reference 'url': expected 'system, id' in sid 1")
        #expect(failure(options("reference:url, ; sid:1;"))
                == "t.rules:1:41: invalid reference 'url,': expected 'system, id' in sid 1")
    }
}

@Suite struct FlagsTests {
    func flags(_ value: String) throws -> TCPFlagsMatch {
        try #require(try rule(options("flags:\(value); sid:1;")).flags)
    }

    @Test func parsing() throws {
        #expect(try flags("S") == TCPFlagsMatch(flags: TCPFlagsMatch.syn))
        #expect(try flags("SA") == TCPFlagsMatch(flags: TCPFlagsMatch.syn | TCPFlagsMatch.ack))
        #expect(try flags("FSRPAUEC") == TCPFlagsMatch(flags: 0xFF))
        #expect(try flags("0") == TCPFlagsMatch(flags: 0))
        #expect(try flags("S+") == TCPFlagsMatch(flags: TCPFlagsMatch.syn, modifier: .all))
        #expect(try flags("+S") == TCPFlagsMatch(flags: TCPFlagsMatch.syn, modifier: .all))
        #expect(try flags("*SF") == TCPFlagsMatch(flags: TCPFlagsMatch.syn | TCPFlagsMatch.fin, modifier: .any))
        #expect(try flags("!R") == TCPFlagsMatch(flags: TCPFlagsMatch.rst, modifier: .not))
        #expect(try flags("S,CE") == TCPFlagsMatch(flags: TCPFlagsMatch.syn, ignored: TCPFlagsMatch.cwr | TCPFlagsMatch.ece))
        #expect(try flags("s, 12") == TCPFlagsMatch(flags: TCPFlagsMatch.syn, ignored: TCPFlagsMatch.cwr | TCPFlagsMatch.ece))
        let alias = try #require(try rule(options("tcp.flags:SA; sid:1;")).flags)
        #expect(alias == TCPFlagsMatch(flags: TCPFlagsMatch.syn | TCPFlagsMatch.ack))
    }

    @Test func semantics() {
        let syn = TCPFlagsMatch.syn, ack = TCPFlagsMatch.ack, fin = TCPFlagsMatch.fin
        let cwr = TCPFlagsMatch.cwr, ece = TCPFlagsMatch.ece
        let exact = TCPFlagsMatch(flags: syn)
        #expect(exact.matches(syn) && !exact.matches(syn | ack) && !exact.matches(ack) && !exact.matches(0))
        let ignoring = TCPFlagsMatch(flags: syn, ignored: cwr | ece)
        #expect(ignoring.matches(syn | cwr | ece) && !ignoring.matches(syn | ack))
        let plus = TCPFlagsMatch(flags: syn | ack, modifier: .all)
        #expect(plus.matches(syn | ack) && plus.matches(syn | ack | fin) && !plus.matches(syn))
        let any = TCPFlagsMatch(flags: syn | fin, modifier: .any)
        #expect(any.matches(syn) && any.matches(fin | ack) && !any.matches(ack))
        let not = TCPFlagsMatch(flags: syn | ack, modifier: .not)
        #expect(not.matches(syn) && not.matches(0) && !not.matches(syn | ack) && !not.matches(syn | ack | fin))
        let none = TCPFlagsMatch(flags: 0)
        #expect(none.matches(0) && !none.matches(syn))
        let notNone = TCPFlagsMatch(flags: 0, modifier: .not)
        #expect(notNone.matches(syn))
    }

    @Test func errors() {
        #expect(failure(options("flags:SX; sid:1;")) == "t.rules:1:38: invalid flag 'X' in flags 'SX' in sid 1")
        #expect(failure(options("flags:+*S; sid:1;")) == "t.rules:1:38: flags take only one modifier in sid 1")
        #expect(failure(options("flags:+; sid:1;")) == "t.rules:1:37: invalid flags '+': no flag given in sid 1")
        #expect(failure(options("flags:S0; sid:1;")) == "t.rules:1:37: invalid flags 'S0': '0' means no flags in sid 1")
        #expect(failure(options("flags:S,; sid:1;")) == "t.rules:1:39: invalid flags 'S,': empty ignore mask in sid 1")
        #expect(failure(options("flags:S,Z; sid:1;")) == "t.rules:1:39: invalid flag 'Z' in flags 'S,Z' in sid 1")
        #expect(failure(options("flags:S,A,F; sid:1;")) == "t.rules:1:37: invalid flags 'S,A,F' in sid 1")
        #expect(failure("alert udp any any -> any 571 (flags:S; sid:1;)")
                == "t.rules:1:31: keyword 'flags' needs protocol tcp, not udp in sid 1")
    }
}

@Suite struct FlowTests {
    func flow(_ value: String) throws -> FlowMatch {
        try #require(try rule(options("flow:\(value); sid:1;")).flow)
    }

    @Test func parsing() throws {
        #expect(try flow("to_server") == FlowMatch(direction: .toServer))
        #expect(try flow("from_client") == FlowMatch(direction: .toServer))
        #expect(try flow("to_client") == FlowMatch(direction: .toClient))
        #expect(try flow("from_server") == FlowMatch(direction: .toClient))
        #expect(try flow("to_server, established") == FlowMatch(direction: .toServer, state: .established))
        #expect(try flow("not_established,to_client") == FlowMatch(direction: .toClient, state: .notEstablished))
        #expect(try flow("stateless") == FlowMatch(stateless: true))
        #expect(try flow("to_server,from_client") == FlowMatch(direction: .toServer))
    }

    @Test func semantics() {
        let established = FlowFacts(direction: .toServer, established: true)
        let opening = FlowFacts(direction: .toServer, established: false)
        let reply = FlowFacts(direction: .toClient, established: true)
        let toServerEstablished = FlowMatch(direction: .toServer, state: .established)
        #expect(toServerEstablished.matches(established))
        #expect(!toServerEstablished.matches(opening) && !toServerEstablished.matches(reply))
        #expect(!toServerEstablished.matches(.unknown))
        #expect(FlowMatch(state: .notEstablished).matches(opening))
        #expect(!FlowMatch(state: .notEstablished).matches(reply))
        #expect(FlowMatch(stateless: true).matches(.unknown) && FlowMatch(stateless: true).matches(reply))
    }

    @Test func errors() {
        #expect(failure(options("flow:to_server,to_client; sid:1;"))
                == "t.rules:1:46: conflicting flow options 'to_server' and 'to_client' in sid 1")
        #expect(failure(options("flow:established, not_established; sid:1;"))
                == "t.rules:1:49: conflicting flow options 'established' and 'not_established' in sid 1")
        #expect(failure(options("flow:to_srv; sid:1;")) == "t.rules:1:36: invalid flow option 'to_srv' in sid 1")
        #expect(failure(options("flow:established,only_stream; sid:1;"))
                == "t.rules:1:48: unsupported flow option 'only_stream' in sid 1")
    }
}

/// `dsize` and `flow.pkts`, with Suricata's integer syntax.
@Suite struct IntegerKeywordTests {
    func dsize(_ value: String) throws -> IntegerMatch {
        try #require(try rule(options("dsize:\(value); sid:1;")).dsize)
    }

    @Test func integerForms() throws {
        #expect(try dsize("0") == IntegerMatch(.equal, 0))
        #expect(try dsize("=7") == IntegerMatch(.equal, 7))
        #expect(try dsize("0x10") == IntegerMatch(.equal, 16))
        #expect(try dsize("!5") == IntegerMatch(.notEqual, 5))
        #expect(try dsize("!=5") == IntegerMatch(.notEqual, 5))
        #expect(try dsize(">0") == IntegerMatch(.greater, 0))
        #expect(try dsize(">=1") == IntegerMatch(.greaterOrEqual, 1))
        #expect(try dsize("<10") == IntegerMatch(.less, 10))
        #expect(try dsize("<= 10") == IntegerMatch(.lessOrEqual, 10))
        #expect(try dsize("100<>200") == IntegerMatch(.between, 100, upper: 200))
        #expect(try dsize("100 - 200") == IntegerMatch(.between, 100, upper: 200))
        #expect(try dsize("!100-200") == IntegerMatch(.notBetween, 100, upper: 200))
        #expect(try dsize("65535") == IntegerMatch(.equal, 65535))
    }

    @Test func flowPackets() throws {
        let r = try rule(options(
            "flow.pkts:toserver,1; flow.pkts: toclient , 0; flow.pkts:either,>3; flow.pkts_toclient:<2; sid:1;"))
        #expect(r.flowPackets.count == 4)
        #expect(r.flowPackets[0] == FlowPacketsMatch(side: .toServer, count: IntegerMatch(.equal, 1)))
        #expect(r.flowPackets[1] == FlowPacketsMatch(side: .toClient, count: IntegerMatch(.equal, 0)))
        #expect(r.flowPackets[2] == FlowPacketsMatch(side: .either, count: IntegerMatch(.greater, 3)))
        #expect(r.flowPackets[3] == FlowPacketsMatch(side: .toClient, count: IntegerMatch(.less, 2)))
        let old = try rule(options("flow.pkts_toserver:4294967295; sid:1;"))
        #expect(old.flowPackets[0] == FlowPacketsMatch(side: .toServer, count: IntegerMatch(.equal, .max)))
        #expect(try rule(options("sid:1;")).flowPackets.isEmpty)
    }

    @Test func errors() {
        #expect(failure(options("dsize:abc; sid:1;")) == "t.rules:1:37: invalid number 'abc' in sid 1")
        #expect(failure(options("dsize:70000; sid:1;"))
                == "t.rules:1:37: number '70000' is out of range: at most 65535 in sid 1")
        #expect(failure(options("dsize:>; sid:1;")) == "t.rules:1:38: missing number in '>' in sid 1")
        #expect(failure(options("dsize:5-3; sid:1;"))
                == "t.rules:1:37: invalid range '5-3': the first number must be smaller in sid 1")
        #expect(failure(options("dsize:1; dsize:2; sid:1;")) == "t.rules:1:40: duplicate option 'dsize' in sid 1")
        #expect(failure(options("flow.pkts:tosrv,1; sid:1;"))
                == "t.rules:1:41: invalid flow.pkts direction 'tosrv': expected toserver, toclient or either in sid 1")
        #expect(failure(options("flow.pkts:5; sid:1;"))
                == "t.rules:1:41: invalid flow.pkts '5': expected 'toserver|toclient|either, number' in sid 1")
        #expect(failure(options("flow.pkts:toserver,x1; sid:1;")) == "t.rules:1:50: invalid number 'x1' in sid 1")
        #expect(failure(options("flow.pkts_toserver:99999999999; sid:1;"))
                == "t.rules:1:50: number '99999999999' is out of range: at most 4294967295 in sid 1")
        let five = String(repeating: "flow.pkts:toserver,1; ", count: 5)
        #expect(failure(options(five + "sid:1;")) == "t.rules:1:119: at most 4 flow.pkts conditions in a rule in sid 1")
    }
}

@Suite struct ThresholdTests {
    @Test func threshold() throws {
        let r = try rule(options("threshold: type limit, track by_src, count 1, seconds 60; sid:1;"))
        #expect(r.threshold == Threshold(kind: .limit, track: .bySource, count: 1, seconds: 60))
        let other = try rule(options("threshold:seconds 5,count 10,track by_both,type both; sid:1;"))
        #expect(other.threshold == Threshold(kind: .both, track: .byBoth, count: 10, seconds: 5))
        #expect(try rule(options("threshold: type threshold, track by_rule, count 3, seconds 1; sid:1;")).threshold?.kind
                == .threshold)
    }

    @Test func detectionFilter() throws {
        let r = try rule(options("detection_filter: track by_dst, count 5, seconds 30; sid:1;"))
        #expect(r.detectionFilter == DetectionFilter(track: .byDestination, count: 5, seconds: 30))
    }

    @Test func errors() {
        #expect(failure(options("threshold: type limit, track by_src, count 1; sid:1;"))
                == "t.rules:1:42: threshold is missing 'seconds' in sid 1")
        #expect(failure(options("threshold: type sometimes, track by_src, count 1, seconds 1; sid:1;"))
                == "t.rules:1:47: invalid threshold type 'sometimes': expected limit, threshold or both in sid 1")
        #expect(failure(options("threshold: type limit, track by_flow, count 1, seconds 1; sid:1;"))
                == "t.rules:1:60: invalid track 'by_flow': expected by_src, by_dst, by_rule or by_both in sid 1")
        #expect(failure(options("threshold: type limit, track by_src, count 0, seconds 1; sid:1;"))
                == "t.rules:1:74: invalid count '0' in sid 1")
        #expect(failure(options("threshold: type limit, track by_src, count 1, seconds x; sid:1;"))
                == "t.rules:1:85: invalid seconds 'x' in sid 1")
        #expect(failure(options("threshold: type limit, type both, track by_src, count 1, seconds 1; sid:1;"))
                == "t.rules:1:54: duplicate 'type' in threshold in sid 1")
        #expect(failure(options("threshold: type limit, every 5, track by_src, count 1, seconds 1; sid:1;"))
                == "t.rules:1:54: unknown threshold option 'every' in sid 1")
        #expect(failure(options("threshold: type limit, track, count 1, seconds 1; sid:1;"))
                == "t.rules:1:54: threshold option 'track' needs a value in sid 1")
        #expect(failure(options("detection_filter: track by_src, count 2; sid:1;"))
                == "t.rules:1:49: detection_filter is missing 'seconds' in sid 1")
        #expect(failure(options("detection_filter: type limit, track by_src, count 2, seconds 1; sid:1;"))
                == "t.rules:1:49: unknown detection_filter option 'type' in sid 1")
        #expect(failure(options(
            "threshold: type limit, track by_src, count 1, seconds 1; detection_filter: track by_src, count 2, seconds 1; sid:1;"))
                == "t.rules:1:88: 'threshold' and 'detection_filter' can't be used in the same rule in sid 1")
    }
}
