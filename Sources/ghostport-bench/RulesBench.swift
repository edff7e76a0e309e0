import Flow
import Rules
import TrafficGen
import Wire

// MARK: rules

/// 1M packets: 99% to ports no rule names (ending in 7), 1% to 571, which both sets watch.
func generatedPackets(_ count: Int) -> [PacketFacts] {
    var rng = SplitMix64(seed: 571)
    return (0..<count).map { i in
        let dport: UInt16 = i % 100 == 0 ? 571 : UInt16(1007 + 10 * Int(rng.next() % 6000))
        return PacketFacts.ipv4(src: UInt32(truncatingIfNeeded: rng.next()), dst: UInt32(truncatingIfNeeded: rng.next()),
                                proto: 6, sport: UInt16(truncatingIfNeeded: rng.next() | 1024), dport: dport, tcpFlags: 0x02)
    }
}

func benchRules() {
    print("rules: load + compile, and match 1,000,000 packets (99% to unwatched ports, 1% to 571), best of 5")
    let widths = [8, 17, 16, 10, 11, 16, 7]
    row(["rules", "load+compile ms", "load mallocs", "match ms", "ns/packet", "mallocs/packet", "alerts"], widths)
    let packets = generatedPackets(1_000_000)
    for count in [10, 10_000] {
        let text = generatedRules(count: count)
        var ruleSet = RuleSet.empty
        let load = sample(rounds: 3) {
            let (loaded, errors) = RuleLoader.load(text: text)
            precondition(errors.isEmpty, "\(errors.first!)")
            ruleSet = loaded
        }
        var matches = RuleMatches()
        var alerts = 0
        let flow = FlowFacts(direction: .toServer, established: false)
        let match = sample {
            alerts = 0
            for packet in packets {
                ruleSet.match(packet, flow: flow, into: &matches)
                alerts &+= matches.alerts.count
            }
        }
        row(["\(ruleSet.count)", format(load.seconds * 1000, 2), "\(load.mallocs.mallocs)", format(match.seconds * 1000),
             format(match.seconds * 1e9 / Double(packets.count)), perOperation(match.mallocs.mallocs, packets.count), "\(alerts)"],
            widths)
    }
}

// MARK: flows

func benchFlows() {
    print("flow table: insert then look up N distinct flows, best of 5")
    let widths = [10, 11, 16, 11, 16, 10]
    row(["flows", "insert ns", "insert mallocs", "lookup ns", "lookup mallocs", "bytes/flow"], widths)
    for count in [10_000, 100_000, 1_000_000] {
        var rng = SplitMix64(seed: UInt64(count))
        let keys = (0..<count).map { _ in
            FlowKey.make(src: IPAddress(ipv4: UInt32(truncatingIfNeeded: rng.next())),
                         dst: IPAddress(ipv4: UInt32(truncatingIfNeeded: rng.next())), proto: 6,
                         sport: UInt16(truncatingIfNeeded: rng.next()), dport: 571).key
        }
        var table = FlowTable(capacity: count, seed: 1)
        // The table is made outside the counted region: its arrays are the bound, not per-flow costs.
        var insertTime = Double.infinity
        var insertMallocs = Mallocs.Count(mallocs: 0, bytes: 0, frees: 0)
        for round in 0..<6 {
            table = FlowTable(capacity: count, seed: 1)
            let body = {
                for (i, key) in keys.enumerated() { _ = table.lookupOrInsert(key, timestamp: Int64(i)) }
            }
            if round == 5 {
                insertMallocs = Mallocs.count(body)
            } else {
                insertTime = min(insertTime, measure(body))
            }
        }
        var found = 0
        let lookup = sample {
            found = 0
            for key in keys where table.lookup(key) != nil { found &+= 1 }
        }
        precondition(found == count)
        row(["\(count)", format(insertTime * 1e9 / Double(count)), perOperation(insertMallocs.mallocs, count),
             format(lookup.seconds * 1e9 / Double(count)), perOperation(lookup.mallocs.mallocs, count),
             format(table.bytesPerFlow, 0)], widths)
    }
    print("(insert mallocs: the index grows with the flows, in doublings, not per flow)")
}
