import Rules
import Testing

/// A long rules file is parsed in two halves at once; what comes out (rules in file order,
/// errors and duplicate reports at their lines) must be what one pass gives.
/// (Run under ThreadSanitizer in CI.)
@Suite struct ParallelParseTests {
    @Test("a 3,000-rule file keeps its order, its errors' lines and its duplicates across the halves")
    func longFile() {
        var lines: [String] = []
        var expectedSids: [UInt32] = []
        for i in 0..<3_000 {
            switch i {
            case 100, 1_499, 1_500, 2_500:
                lines.append("alert tcp any any -> any 571 (msg:\"broken \(i)\"; sid:\(10_000 + i); rev:1")  // no ")"
            case 2_600:
                lines.append("alert tcp any any -> any 571 (msg:\"again\"; sid:10010; rev:1;)")  // repeats line 11's sid
            case 1_200:
                lines.append("alert tcp any any -> any 571 (msg:\"again\"; sid:12800; rev:1;)")  // repeated at line 2,801
            case 2_800:
                lines.append("alert tcp any any -> any 572 (msg:\"later\"; sid:12800; rev:1;)")
            default:
                lines.append("alert tcp any any -> any \(1_000 + i % 5_000) (msg:\"rule \(i)\"; sid:\(10_000 + i); rev:1;)")
            }
            if ![100, 1_499, 1_500, 2_500, 2_600, 2_800].contains(i) { expectedSids.append(i == 1_200 ? 12_800 : UInt32(10_000 + i)) }
        }
        let (set, errors) = RuleLoader.load(text: lines.joined(separator: "\n"), file: "long.rules")
        #expect(set.rules.map(\.sid) == expectedSids)
        #expect(errors.map(\.line) == [101, 1_500, 1_501, 2_501, 2_601, 2_801])
        #expect(errors.allSatisfy { $0.file == "long.rules" })
        #expect(errors[4].reason.contains("duplicate sid 10010") && errors[4].reason.contains("long.rules:11"))
        #expect(errors[5].reason.contains("duplicate sid 12800") && errors[5].reason.contains("long.rules:1201"))
    }
}
