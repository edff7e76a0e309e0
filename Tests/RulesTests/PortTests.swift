import Rules
import Testing

@Suite struct PortTests {
    func destinationPorts(_ ports: String, variables: [String: String] = [:]) throws -> PortSet {
        try rule(header("alert tcp any any -> any \(ports)"), variables: variables).destinationPorts
    }

    @Test func anyAndSingle() throws {
        #expect(try destinationPorts("any").isFull)
        #expect(try destinationPorts("571").ranges == [571...571])
        #expect(try destinationPorts("0").ranges == [0...0])
        #expect(try destinationPorts("65535").ranges == [65535...65535])
    }

    @Test func rangesAndOpenRanges() throws {
        #expect(try destinationPorts("1:1023").ranges == [1...1023])
        #expect(try destinationPorts("1024:").ranges == [1024...65535])
        #expect(try destinationPorts(":1023").ranges == [0...1023])
        #expect(try destinationPorts("[1024:]").ranges == [1024...65535])
    }

    @Test func listsAndNegation() throws {
        #expect(try destinationPorts("[80, 81]").ranges == [80...81])
        #expect(try destinationPorts("[80:82]").ranges == [80...82])
        #expect(try destinationPorts("!80").ranges == [0...79, 81...65535])
        #expect(try destinationPorts("[80:100,!99]").ranges == [80...98, 100...100])
        #expect(try destinationPorts("[1:80,![2,4]]").ranges == [1...1, 3...3, 5...80])
        #expect(try destinationPorts("![1:1023, 8080]").ranges == [0...0, 1024...8079, 8081...65535])
        #expect(try destinationPorts("[!80]").ranges == [0...79, 81...65535])
    }

    @Test func portVariables() throws {
        let vars = ["WATCHED_PORTS": "[571, 1:3]", "ALL_WATCHED": "[$WATCHED_PORTS, 9]"]
        #expect(try destinationPorts("$WATCHED_PORTS", variables: vars).ranges == [1...3, 571...571])
        #expect(try destinationPorts("[$ALL_WATCHED, !2]", variables: vars).ranges == [1...1, 3...3, 9...9, 571...571])
    }

    @Test func sourcePorts() throws {
        let r = try rule(header("alert udp any 1024: -> any 571"))
        #expect(r.sourcePorts.ranges == [1024...65535])
        #expect(r.destinationPorts.ranges == [571...571])
    }

    @Test func errors() {
        // 'alert tcp any any -> any ' is 25 characters: the port starts at column 26.
        #expect(failure(header("alert tcp any any -> any 65536")) == "t.rules:1:26: invalid port '65536' in sid 1")
        #expect(failure(header("alert tcp any any -> any http")) == "t.rules:1:26: invalid port 'http' in sid 1")
        #expect(failure(header("alert tcp any any -> any 100:80"))
                == "t.rules:1:26: invalid port range '100:80': 100 > 80 in sid 1")
        #expect(failure(header("alert tcp any any -> any :")) == "t.rules:1:26: invalid port range ':' in sid 1")
        #expect(failure(header("alert tcp any any -> any [80,x]")) == "t.rules:1:30: invalid port 'x' in sid 1")
        #expect(failure(header("alert tcp any any -> any !any")) == "t.rules:1:26: port '!any' matches nothing in sid 1")
        #expect(failure(header("alert tcp any any -> any [80,!80]"))
                == "t.rules:1:26: port '[80,!80]' matches nothing in sid 1")
        #expect(failure(header("alert tcp any any -> any $PORTS"), variables: ["PORTS": "10.0.0.1"])
                == "t.rules:1:26: invalid port '10.0.0.1' in variable $PORTS in sid 1")
        #expect(failure(header("alert tcp any any -> any $NOPORTS"))
                == "t.rules:1:26: undefined variable '$NOPORTS' in sid 1")
        #expect(failure(header("alert tcp any any -> any [80"))
                == "t.rules:1:26: unbalanced brackets: missing ']' in sid 1")
    }

    @Test func portlessProtocolsTakeOnlyAny() throws {
        #expect(failure(header("alert icmp any any -> any 80"))
                == "t.rules:1:27: ports must be 'any' for protocol icmp in sid 1")
        #expect(failure(header("alert ip any 53 -> any any"))
                == "t.rules:1:14: ports must be 'any' for protocol ip in sid 1")
        #expect(try rule(header("alert icmp any any -> any [0:]")).destinationPorts.isFull)
    }
}
