// Micro-benchmarks for the parts of the packet path, printed as a table. Run in release:
//   swift run -c release ghostport-bench [rules|flows|all]
// Figures go to the README's performance section with the machine they came from.
import Flow
import Rules
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// A tiny deterministic generator, so runs compare.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func measure(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    body()
    let elapsed = clock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Best of `rounds`: the least disturbed by whatever else the machine runs.
func best(_ rounds: Int = 5, _ body: () -> Void) -> Double {
    (0..<rounds).map { _ in measure(body) }.min()!
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func format(_ value: Double, _ digits: Int = 1) -> String {
    let scale = pow(10.0, Double(digits))
    return String((value * scale).rounded() / scale)
}

// MARK: rules

/// Rules in the shipped style, one per port: `count` distinct ports from 1,000 up, skipping
/// the ports the packets use.
func generatedRules(count: Int) -> String {
    var text = ""
    var port = 1000
    for i in 0..<count {
        while port % 10 == 7 { port += 1 }  // ports ending in 7 stay free for the packets
        text += "alert tcp any any -> any \(port) (msg:\"bench \(i)\"; flow:to_server; flags:S,CE; classtype:attempted-recon; sid:\(1_000_000 + i); rev:1;)\n"
        port += 1
    }
    text += "alert tcp any any -> any 571 (msg:\"571\"; flow:to_server; flags:S,CE; sid:999; rev:1;)\n"
    return text
}

/// 1M packets: 99% to ports no rule names (ending in 7), 1% to 571, which both sets watch.
func generatedPackets(_ count: Int) -> [PacketFacts] {
    var rng = SplitMix64(state: 571)
    return (0..<count).map { i in
        let dport: UInt16 = i % 100 == 0 ? 571 : UInt16(1007 + 10 * Int(rng.next() % 6000))
        return PacketFacts.ipv4(src: UInt32(truncatingIfNeeded: rng.next()), dst: UInt32(truncatingIfNeeded: rng.next()),
                                proto: 6, sport: UInt16(truncatingIfNeeded: rng.next() | 1024), dport: dport, tcpFlags: 0x02)
    }
}

func benchRules() {
    print("rules: load + compile, and match 1,000,000 packets (99% to unwatched ports, 1% to 571)")
    print(pad("rules", 10) + pad("load+compile ms", 18) + pad("match ms", 12) + pad("ns/packet", 12) + "alerts")
    let packets = generatedPackets(1_000_000)
    var baseline = 0.0
    for count in [10, 10_000] {
        let text = generatedRules(count: count - 1)
        var ruleSet = RuleSet.empty
        let load = best(3) {
            let (loaded, errors) = RuleLoader.load(text: text)
            precondition(errors.isEmpty, "\(errors.first!)")
            ruleSet = loaded
        }
        var matches = RuleMatches()
        var alerts = 0
        let flow = FlowFacts(direction: .toServer, established: false)
        let match = best {
            alerts = 0
            for packet in packets {
                ruleSet.match(packet, flow: flow, into: &matches)
                alerts &+= matches.alerts.count
            }
        }
        if count == 10 { baseline = match }
        print(pad("\(ruleSet.count)", 10) + pad(format(load * 1000, 2), 18) + pad(format(match * 1000), 12)
              + pad(format(match * 1e9 / Double(packets.count)), 12) + "\(alerts)")
    }
    _ = baseline
}

// MARK: flows

func benchFlows() {
    print("flow table: insert then look up N distinct flows (release, best of 5)")
    print(pad("flows", 10) + pad("insert ns", 12) + pad("lookup ns", 12) + "bytes/flow")
    for count in [10_000, 100_000, 1_000_000] {
        var rng = SplitMix64(state: UInt64(count))
        let keys = (0..<count).map { _ in
            FlowKey.make(src: IPAddress(ipv4: UInt32(truncatingIfNeeded: rng.next())),
                         dst: IPAddress(ipv4: UInt32(truncatingIfNeeded: rng.next())), proto: 6,
                         sport: UInt16(truncatingIfNeeded: rng.next()), dport: 571).key
        }
        var table = FlowTable(capacity: count, seed: 1)
        let insert = best {
            table = FlowTable(capacity: count, seed: 1)
            for (i, key) in keys.enumerated() { _ = table.lookupOrInsert(key, timestamp: Int64(i)) }
        }
        var found = 0
        let lookup = best {
            found = 0
            for key in keys where table.lookup(key) != nil { found &+= 1 }
        }
        precondition(found == count)
        print(pad("\(count)", 10) + pad(format(insert * 1e9 / Double(count)), 12) + pad(format(lookup * 1e9 / Double(count)), 12)
              + format(table.bytesPerFlow, 0))
    }
}

let which = CommandLine.arguments.dropFirst().first ?? "all"
switch which {
case "rules": benchRules()
case "flows": benchFlows()
case "all":
    benchRules()
    print("")
    benchFlows()
default:
    print("usage: ghostport-bench [rules|flows|all]")
    exit(2)
}
