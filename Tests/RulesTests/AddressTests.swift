import Rules
import Testing

@Suite struct IPAddressTextTests {
    @Test func ipv4() {
        #expect(IPAddressText.parseIPv4("192.168.1.2") == 0xC0A8_0102)
        #expect(IPAddressText.parseIPv4("0.0.0.0") == 0)
        #expect(IPAddressText.parseIPv4("255.255.255.255") == UInt32.max)
        for bad in ["256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", "a.b.c.d", "", "1.2.3.0004"] {
            #expect(IPAddressText.parseIPv4(bad) == nil, "\(bad)")
        }
    }

    @Test func ipv6() {
        #expect(IPAddressText.parseIPv6("::") == 0)
        #expect(IPAddressText.parseIPv6("::1") == 1)
        #expect(IPAddressText.parseIPv6("2001:db8::1") == (UInt128(0x2001_0db8) << 96) | 1)
        #expect(IPAddressText.parseIPv6("fe80::") == UInt128(0xfe80) << 112)
        #expect(IPAddressText.parseIPv6("1:2:3:4:5:6:7:8") == UInt128(0x0001_0002_0003_0004_0005_0006_0007_0008))
        #expect(IPAddressText.parseIPv6("::ffff:10.0.0.1") == (UInt128(0xffff) << 32) | 0x0A00_0001)
        for bad in ["1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::", "12345::", "g::1", "1:2:3:4:5:6:7:8::", "::1.2.3"] {
            #expect(IPAddressText.parseIPv6(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct AddressTests {
    @Test func anyMatchesEverything() throws {
        let r = try rule(header("alert ip any any -> any any"))
        #expect(r.source.isAny && r.destination.isAny)
    }

    @Test func singleAndCIDR() throws {
        let r = try rule(header("alert ip 10.1.2.3 any -> 192.168.0.0/16 any"))
        #expect(r.source == AddressSet.ipv4(0x0A01_0203))
        #expect(r.destination.contains(ipVersion: 4, address: v4("192.168.255.255")))
        #expect(!r.destination.contains(ipVersion: 4, address: v4("192.169.0.0")))
        #expect(!r.destination.contains(ipVersion: 6, address: v6("::1")))
    }

    @Test func hostBitsAreMaskedAndDottedNetmasksWork() throws {
        let r = try rule(header("alert ip 10.0.0.77/24 any -> 10.1.0.0/255.255.0.0 any"))
        #expect(r.source == AddressSet.ipv4(0x0A00_0000, prefix: 24))
        #expect(r.destination == AddressSet.ipv4(0x0A01_0000, prefix: 16))
    }

    @Test func ipv6CIDR() throws {
        let r = try rule(header("alert ip 2001:db8::/32 any -> any any"))
        #expect(r.source.contains(ipVersion: 6, address: v6("2001:db8:ffff::1")))
        #expect(!r.source.contains(ipVersion: 6, address: v6("2001:db9::1")))
        #expect(r.source.v4.isEmpty)
    }

    @Test func negationCoversBothFamilies() throws {
        let r = try rule(header("alert ip !1.1.1.1 any -> any any"))
        #expect(!r.source.contains(ipVersion: 4, address: v4("1.1.1.1")))
        #expect(r.source.contains(ipVersion: 4, address: v4("1.1.1.2")))
        #expect(r.source.contains(ipVersion: 6, address: v6("::1")))
    }

    @Test func listWithNegationSubtracts() throws {
        let r = try rule(header("alert ip [10.0.0.0/24, !10.0.0.5] any -> any any"))
        #expect(r.source.contains(ipVersion: 4, address: v4("10.0.0.4")))
        #expect(!r.source.contains(ipVersion: 4, address: v4("10.0.0.5")))
        #expect(r.source.contains(ipVersion: 4, address: v4("10.0.0.6")))
        #expect(!r.source.contains(ipVersion: 4, address: v4("10.0.1.0")))
        #expect(r.source.v4.ranges.count == 2)
    }

    @Test func listOfOnlyNegationsMeansAllBut() throws {
        let r = try rule(header("alert ip [!1.1.1.1, !2.2.2.2] any -> any any"))
        #expect(!r.source.contains(ipVersion: 4, address: v4("1.1.1.1")))
        #expect(!r.source.contains(ipVersion: 4, address: v4("2.2.2.2")))
        #expect(r.source.contains(ipVersion: 4, address: v4("3.3.3.3")))
    }

    @Test func nestedAndNegatedLists() throws {
        let r = try rule(header("alert ip [10.0.0.0/8, ![10.1.0.0/16, [10.2.0.0/16]]] any -> ![1.0.0.0/8, 2.0.0.0/8] any"))
        #expect(r.source.contains(ipVersion: 4, address: v4("10.3.0.1")))
        #expect(!r.source.contains(ipVersion: 4, address: v4("10.1.0.1")))
        #expect(!r.source.contains(ipVersion: 4, address: v4("10.2.9.9")))
        #expect(!r.destination.contains(ipVersion: 4, address: v4("2.3.4.5")))
        #expect(r.destination.contains(ipVersion: 4, address: v4("3.3.4.5")))
    }

    @Test func spacesInsideLists() throws {
        let r = try rule(header("alert ip [ 10.0.0.1 ,  10.0.0.2 ] any -> any any"))
        #expect(r.source.v4.ranges == [0x0A00_0001...0x0A00_0002])
    }

    @Test func ranges() throws {
        let r = try rule(header("alert ip 10.0.0.1-10.0.0.9 any -> any any"))
        #expect(r.source.v4.ranges == [0x0A00_0001...0x0A00_0009])
    }

    @Test func defaultHomeAndExternalNet() throws {
        let r = try rule(header("alert ip $EXTERNAL_NET any -> $HOME_NET any"))
        for home in ["192.168.1.1", "10.9.9.9", "172.16.0.1", "172.31.255.255"] {
            #expect(r.destination.contains(ipVersion: 4, address: v4(home)), "\(home)")
            #expect(!r.source.contains(ipVersion: 4, address: v4(home)), "\(home)")
        }
        #expect(r.source.contains(ipVersion: 4, address: v4("8.8.8.8")))
        #expect(r.source.contains(ipVersion: 4, address: v4("172.32.0.0")))
        #expect(r.source.contains(ipVersion: 6, address: v6("2001:db8::1")))
        #expect(!r.destination.contains(ipVersion: 4, address: v4("8.8.8.8")))
    }

    @Test func listOfVariablesWithNegation() throws {
        let r = try rule(header("alert ip [$EXTERNAL_NET, !$HOME_NET] any -> any any"),
                         variables: ["HOME_NET": "10.0.0.0/8"])
        #expect(!r.source.contains(ipVersion: 4, address: v4("10.0.0.1")))
        #expect(r.source.contains(ipVersion: 4, address: v4("192.168.0.1")))
    }

    @Test func callerVariablesOverrideDefaultsAndNest() throws {
        let r = try rule(header("alert ip $DMZ any -> $HOME_NET any"),
                         variables: ["HOME_NET": "[$DMZ, 10.0.0.0/8]", "DMZ": "192.0.2.0/24"])
        #expect(r.source == AddressSet.ipv4(0xC000_0200, prefix: 24))
        #expect(r.destination.contains(ipVersion: 4, address: v4("192.0.2.9")))
        #expect(!r.destination.contains(ipVersion: 4, address: v4("192.168.0.1")))
    }

    @Test func errors() {
        #expect(failure(header("alert ip 1.2.3.256 any -> any any"))
                == "t.rules:1:10: invalid address '1.2.3.256' in sid 1")
        #expect(failure(header("alert ip [1.1.1.1, bogus] any -> any any"))
                == "t.rules:1:20: invalid address 'bogus' in sid 1")
        #expect(failure(header("alert ip 10.0.0.0/33 any -> any any"))
                == "t.rules:1:10: invalid netmask in address '10.0.0.0/33' in sid 1")
        #expect(failure(header("alert ip 10.0.0.9-10.0.0.1 any -> any any"))
                == "t.rules:1:10: invalid address range '10.0.0.9-10.0.0.1' in sid 1")
        #expect(failure(header("alert ip !any any -> any any"))
                == "t.rules:1:10: address '!any' matches nothing in sid 1")
        #expect(failure(header("alert ip [1.1.1.1, !1.1.1.1] any -> any any"))
                == "t.rules:1:10: address '[1.1.1.1, !1.1.1.1]' matches nothing in sid 1")
        #expect(failure(header("alert ip [] any -> any any"))
                == "t.rules:1:10: empty address list in sid 1")
        #expect(failure(header("alert ip [1.1.1.1 2.2.2.2] any -> any any"))
                == "t.rules:1:19: expected ',' or ']' in address list in sid 1")
        #expect(failure(header("alert ip [1.1.1.1,,2.2.2.2] any -> any any"))
                == "t.rules:1:19: missing address before ',' in sid 1")
    }

    @Test func bracketErrors() {
        #expect(failure(header("alert ip [1.1.1.1 any -> any any"))
                == "t.rules:1:10: unbalanced brackets: missing ']' in sid 1")
        #expect(failure(header("alert ip 1.1.1.1] any -> any any"))
                == "t.rules:1:17: unbalanced brackets: unexpected ']' in sid 1")
        #expect(failure(header("alert ip [[1.1.1.1] any -> any any"))
                == "t.rules:1:10: unbalanced brackets: missing ']' in sid 1")
    }

    @Test func variableErrors() {
        #expect(failure(header("alert ip any any -> $NOPE any"))
                == "t.rules:1:21: undefined variable '$NOPE' in sid 1")
        #expect(failure(header("alert ip [10.0.0.1, $NOPE] any -> any any"))
                == "t.rules:1:21: undefined variable '$NOPE' in sid 1")
        #expect(failure(header("alert ip $A any -> any any"), variables: ["A": "$B", "B": "[1.1.1.1, $A]"])
                == "t.rules:1:10: variable cycle $A -> $B -> $A in sid 1")
        #expect(failure(header("alert ip $SELF any -> any any"), variables: ["SELF": "!$SELF"])
                == "t.rules:1:10: variable cycle $SELF -> $SELF in sid 1")
        #expect(failure(header("alert ip $BAD any -> any any"), variables: ["BAD": "[10.0.0.1, nope]"])
                == "t.rules:1:10: invalid address 'nope' in variable $BAD in sid 1")
        #expect(failure(header("alert ip $OUTER any -> any any"), variables: ["OUTER": "$INNER", "INNER": "x"])
                == "t.rules:1:10: invalid address 'x' in variable $INNER in sid 1")
        #expect(failure(header("alert ip $V any -> any any"), variables: ["V": "variable"])
                == "t.rules:1:10: invalid address 'variable' in variable $V in sid 1")
        #expect(failure(header("alert ip $V any -> any any"), variables: ["V": "[1.1.1.1, $W]"])
                == "t.rules:1:10: undefined variable '$W' in sid 1")
    }

    @Test func badVariableDoesNotPoisonOtherRules() {
        let text = """
            alert ip $BAD any -> any any (sid:1;)
            alert ip $HOME_NET any -> any any (sid:2;)
            alert ip $BAD any -> any any (sid:3;)
            """
        let (ruleSet, errors) = load(text, variables: ["BAD": "nope"])
        #expect(ruleSet.rules.map(\.sid) == [2])
        #expect(errors.map(\.description) == [
            "t.rules:1:10: invalid address 'nope' in variable $BAD in sid 1",
            "t.rules:3:10: invalid address 'nope' in variable $BAD in sid 3",
        ])
    }
}

@Suite struct IntervalSetTests {
    @Test func normalisesAndMerges() {
        let set = IntervalSet<UInt16>([5...9, 1...2, 3...4, 20...30, 25...40])
        #expect(set.ranges == [1...9, 20...40])
    }

    @Test func complementAtTheEdges() {
        #expect(IntervalSet<UInt16>(0...10).complement().ranges == [11...65535])
        #expect(IntervalSet<UInt16>(65000...65535).complement().ranges == [0...64999])
        #expect(IntervalSet<UInt16>.all.complement().isEmpty)
        #expect(IntervalSet<UInt16>().complement().isFull)
        #expect(IntervalSet<UInt16>([1...2, 5...6]).complement().ranges == [0...0, 3...4, 7...65535])
    }

    @Test func subtractAndContains() {
        let set = IntervalSet<UInt32>(0...100).subtracting(IntervalSet([10...20, 50...50]))
        #expect(set.ranges == [0...9, 21...49, 51...100])
        #expect(set.contains(9) && !set.contains(10) && !set.contains(50) && set.contains(100) && !set.contains(101))
        #expect(set.count == 10 + 29 + 50)
    }
}
