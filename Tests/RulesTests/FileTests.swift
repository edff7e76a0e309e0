import Foundation
import Rules
import Testing

@Suite struct RulesFileTests {
    @Test func commentsAndBlankLines() {
        let text = """
            # a comment
               # an indented comment
            #alert tcp any any -> any 1 (sid:99;)

            alert tcp any any -> any 571 (sid:1;)
            \t
            alert udp any any -> any 571 (sid:2;)
            """
        let (ruleSet, errors) = load(text)
        #expect(errors.isEmpty)
        #expect(ruleSet.rules.map(\.sid) == [1, 2])
        #expect(ruleSet.rules.map(\.location.line) == [5, 7])
    }

    @Test func continuationLines() throws {
        let text = """
            alert tcp $EXTERNAL_NET any -> $HOME_NET 571 \\
                (msg:"continued"; \\
                 classtype:attempted-recon; sid:10; rev:1;)
            alert udp any any -> any 9 (sid:11;)
            """
        let (ruleSet, errors) = load(text)
        #expect(errors.isEmpty)
        #expect(ruleSet.rules.map(\.sid) == [10, 11])
        let first = try #require(ruleSet.rules.first)
        #expect(first.msg == "continued" && first.priority == 2)
        #expect(first.location.line == 1)
        #expect(ruleSet.rules[1].location.line == 4)
    }

    @Test func errorOnAContinuedLinePointsAtTheToken() {
        let text = """
            alert tcp any any -> any 571 \\
                (msg:"x"; \\
                 classtype:nope; sid:12;)
            """
        #expect(failure(text) == "t.rules:3:16: unknown classtype 'nope' in sid 12")
        let header = """
            alert tcp any any \\
              -> 10.0.0.300 571 (sid:13;)
            """
        #expect(failure(header) == "t.rules:2:6: invalid address '10.0.0.300' in sid 13")
    }

    @Test func columnsCountCharactersNotBytes() {
        #expect(failure(#"alert tcp any any -> any 571 (msg:"é ü"; classtype:nope; sid:1;)"#)
                == "t.rules:1:52: unknown classtype 'nope' in sid 1")
    }

    @Test func windowsLineEndings() {
        let (ruleSet, errors) = load("alert tcp any any -> any 1 (sid:1;)\r\nalert tcp any any -> any 2 (sid:2;)\r\n")
        #expect(errors.isEmpty && ruleSet.count == 2)
    }

    /// Good rules load; each bad one is reported by its own line, and the rest still load.
    @Test func mixedFile() {
        let text = """
            # ghostport abandoned-port rules
            alert udp $EXTERNAL_NET any -> $HOME_NET 571 (msg:"udemon probe"; classtype:attempted-recon; sid:1000001; rev:1;)
            alert tcp any any -> $HOME_NET 80 (msg:"web"; content:"GET"; sid:1000002;)
            alert tcp any any -> any [1:80 (msg:"broken list"; sid:1000003;)
            pass tcp 10.0.0.5 any -> any any (msg:"scanner we own"; sid:1000004;)
            alert tcp any any -> any 6000 (msg:"no sid";)
            alert tcp any any -> any 7000 (msg:"bad flow"; flow:sideways; sid:1000005;)
            alert icmp any any -> $HOME_NET any (msg:"ping"; sid:1000006;)
            alert tcp any any -> any 571 (msg:"dup"; sid:1000001;)
            alert tcp any any -> any any (msg:"unterminated"; sid:1000007;
            alert sctp any any <> any 571 (msg:"sctp"; sid:1000008;)
            """
        let (ruleSet, errors) = load(text)
        #expect(ruleSet.rules.map(\.sid) == [1_000_001, 1_000_004, 1_000_006, 1_000_008])
        #expect(errors.map(\.description) == [
            "t.rules:3:47: unsupported keyword 'content' in sid 1000002",
            "t.rules:4:26: unbalanced brackets: missing ']' in sid 1000003",
            "t.rules:6:1: missing sid",
            "t.rules:7:53: invalid flow option 'sideways' in sid 1000005",
            "t.rules:9:46: duplicate sid 1000001 (gid 1), first defined at t.rules:2",
            "t.rules:10:30: unbalanced parentheses: missing ')' in sid 1000007",
        ])
        #expect(errors.map(\.line) == [3, 4, 6, 7, 9, 10])
    }

    @Test func sidsAreUniqueAcrossFiles() {
        let (ruleSet, errors) = RuleLoader.load(sources: [
            RuleSource(file: "a.rules", text: "alert tcp any any -> any 1 (sid:1;)"),
            RuleSource(file: "b.rules", text: "\nalert tcp any any -> any 2 (sid:1;)"),
        ])
        #expect(ruleSet.count == 1)
        #expect(errors.map(\.description) == ["b.rules:2:33: duplicate sid 1 (gid 1), first defined at a.rules:1"])
    }

    @Test func strictLoadsNothingOnAnyError() {
        let text = "alert tcp any any -> any 1 (sid:1;)\nalert tcp any any -> any 2 (content:\"x\"; sid:2;)"
        let (lenient, lenientErrors) = RuleLoader.load(text: text, file: "t.rules")
        #expect(lenient.count == 1 && lenientErrors.count == 1)
        let (strict, strictErrors) = RuleLoader.load(text: text, file: "t.rules", strict: true)
        #expect(strict.count == 0)
        #expect(strictErrors == lenientErrors)
        let (clean, cleanErrors) = RuleLoader.load(text: "alert tcp any any -> any 1 (sid:1;)", strict: true)
        #expect(clean.count == 1 && cleanErrors.isEmpty)
    }

    @Test func errorDescription() {
        #expect(RuleError(file: "a.rules", line: 3, column: 7, reason: "why").description == "a.rules:3:7: why")
        #expect(RuleError(file: "a.rules", line: 0, column: 0, reason: "no such file or directory").description
                == "a.rules: no such file or directory")
    }
}

@Suite struct RulesOnDiskTests {
    /// A fresh directory under the system temporary directory.
    func makeDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ghostport-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func directoryLoadsItsRulesFilesSortedByName() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "alert tcp any any -> any 2 (sid:2;)\n".write(to: directory.appendingPathComponent("b.rules"), atomically: true, encoding: .utf8)
        try "alert tcp any any -> any 1 (sid:1;)\n".write(to: directory.appendingPathComponent("a.rules"), atomically: true, encoding: .utf8)
        try "alert tcp any any -> any 3 (sid:3;)\n".write(to: directory.appendingPathComponent("c.txt"), atomically: true, encoding: .utf8)
        try "alert tcp any any -> any 4 (sid:4; content:\"x\";)\n".write(
            to: directory.appendingPathComponent("d.rules"), atomically: true, encoding: .utf8)

        let (ruleSet, errors) = RuleLoader.load(paths: [directory.path])
        #expect(ruleSet.rules.map(\.sid) == [1, 2])
        #expect(ruleSet.rules.map(\.location.file) == [directory.path + "/a.rules", directory.path + "/b.rules"])
        #expect(errors.map(\.description) == ["\(directory.path)/d.rules:1:36: unsupported keyword 'content' in sid 4"])
    }

    @Test func missingPathIsReported() {
        let (ruleSet, errors) = RuleLoader.load(paths: ["/nonexistent/ghostport.rules"])
        #expect(ruleSet.count == 0)
        #expect(errors.map(\.description) == ["/nonexistent/ghostport.rules: no such file or directory"])
    }

    @Test func classificationFoundBesideRules() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = directory.appendingPathComponent("x.rules")
        try "alert tcp any any -> any 2 (sid:2; classtype:ours;)\n".write(to: rules, atomically: true, encoding: .utf8)
        #expect(RuleLoader.classificationPath(for: rules.path) == nil)
        try "config classification: ours,Our Own,1\n".write(
            to: directory.appendingPathComponent("classification.config"), atomically: true, encoding: .utf8)
        #expect(RuleLoader.classificationPath(for: rules.path) == directory.path + "/classification.config")
        #expect(RuleLoader.classificationPath(for: directory.path) == directory.path + "/classification.config")
        let (classification, errors) = Classification.load(path: directory.path + "/classification.config")
        #expect(errors.isEmpty)
        let (ruleSet, ruleErrors) = RuleLoader.load(paths: [rules.path], classification: classification)
        #expect(ruleErrors.isEmpty)
        #expect(ruleSet.rules.first?.priority == 1)
    }
}

@Suite struct ClassificationTests {
    @Test func builtInMatchesTheShippedFile() throws {
        let shipped = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("rules/classification.config")
        let (fromFile, errors) = Classification.load(path: shipped.path)
        #expect(errors.isEmpty)
        #expect(fromFile == Classification.suricataDefault)
        #expect(fromFile.classtypes.count == 43)
        #expect(fromFile["attempted-recon"] == .init(name: "attempted-recon", description: "Attempted Information Leak", priority: 2))
    }

    @Test func toleratesSpacesAndCommasInDescriptions() {
        let (classification, errors) = Classification.parse(
            "config classification:  odd , Odd, with a comma ,  4  \nconfig reference: url http://\n", file: "c")
        #expect(errors.isEmpty)
        #expect(classification["odd"] == .init(name: "odd", description: "Odd, with a comma", priority: 4))
    }

    @Test func errorsSayWhere() {
        let (classification, errors) = Classification.parse("""
            config classification: fine,Fine,1
            config classification: broken
            config classification: bad name,Bad,1
              config classification: x,X,high
            nonsense
            """, file: "c.config")
        #expect(classification.classtypes.count == 1)
        #expect(errors.map(\.description) == [
            "c.config:2:1: expected 'config classification: name,description,priority'",
            "c.config:3:24: invalid classtype name 'bad name'",
            "c.config:4:30: invalid priority 'high'",
            "c.config:5:1: expected 'config classification: name,description,priority'",
        ])
    }
}
