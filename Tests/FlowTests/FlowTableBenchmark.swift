import Flow
import Foundation
import TestSupport
import Testing
import Wire

/// Throughput figures, printed, never asserted. Run in release:
/// `GHOSTPORT_BENCH=1 swift test -c release --filter FlowTableBenchmark`
@Suite("Flow table benchmark", .enabled(if: ProcessInfo.processInfo.environment["GHOSTPORT_BENCH"] == "1",
                                        "set GHOSTPORT_BENCH=1 (and build with -c release) to measure"))
struct FlowTableBenchmark {
    @Test("insert, hit and evict throughput at 10k, 100k and 1M flows")
    func throughput() {
        print("Flow stride \(MemoryLayout<Flow>.stride) B, key \(MemoryLayout<FlowKey>.stride) B")
        // The machine is shared: keep the best of five rounds of each phase.
        for flows in [10_000, 100_000, 1_000_000] {
            var best: [String: Duration] = [:]
            var line = ""
            for round in 0..<5 {
                let (times, summary) = measure(flows: flows, round: round)
                for (phase, time) in times { best[phase] = min(best[phase] ?? time, time) }
                line = summary
            }
            func rate(_ phase: String) -> String {
                let d = best[phase]!
                let ns = Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
                let perOp = ns / Double(flows)
                return String(format: "%@ %.1f ns (%.2f M/s)", phase, perOp, 1e3 / perOp)
            }
            print("flows \(flows): " + ["insert", "hit", "hit+relink", "track", "miss", "insert+evict", "expire"].map(rate).joined(separator: " | ")
                  + " | " + line)
        }
        print("capacity in 256 MiB: \(FlowTable.capacity(forMemoryBytes: 256 << 20)) flows")
    }

    private func measure(flows: Int, round: Int) -> ([String: Duration], String) {
        var rng = SplitMix64(seed: UInt64(flows &* 31 &+ round))
        func randomKey() -> FlowKey {
            FlowKey.make(src: IPAddress(ipv4: UInt32(truncatingIfNeeded: rng.next())),
                         dst: IPAddress(ipv4: UInt32(truncatingIfNeeded: rng.next())),
                         proto: rng.next() % 2 == 0 ? IPProtocol.tcp : IPProtocol.udp,
                         sport: UInt16(truncatingIfNeeded: rng.next()), dport: UInt16(truncatingIfNeeded: rng.next())).key
        }
        let keys = (0..<flows).map { _ in randomKey() }
        let extra = (0..<flows).map { _ in randomKey() }
        var order = Array(0..<flows)
        order.shuffle(using: &rng)

        let table = FlowTable(capacity: flows, seed: rng.next())
        let clock = ContinuousClock()
        var sink = 0

        // 10 ns of packet time per operation: a busy link, so hits within a second do not relink.
        var now: Int64 = 0
        let insert = clock.measure {
            for key in keys {
                now += 10
                sink &+= Int(table.lookupOrInsert(key, timestamp: now).handle.index)
            }
        }
        let hit = clock.measure {
            for i in order {
                now += 10
                sink &+= Int(table.lookupOrInsert(keys[i], timestamp: now).handle.index)
            }
        }
        // Two seconds later every hit also moves its flow to the front of its timeout list.
        now += 2_000_000_000
        order.shuffle(using: &rng)
        let relink = clock.measure {
            for i in order {
                now += 10
                sink &+= Int(table.lookupOrInsert(keys[i], timestamp: now).handle.index)
            }
        }
        // The whole per-packet step on UDP packets of flows already in the table.
        var packet = DecodedPacket()
        packet.ipVersion = 4
        packet.hasPorts = true
        let tracked = clock.measure {
            for i in order.prefix(flows) {
                let key = keys[i]
                packet.src = key.addressA
                packet.dst = key.addressB
                packet.sport = key.portA
                packet.dport = key.portB
                packet.proto = key.proto
                now += 10
                sink &+= table.track(packet, timestamp: now, length: 100)?.isNew == true ? 1 : 0
            }
        }
        let miss = clock.measure {
            for key in extra {
                sink &+= table.lookup(key) == nil ? 1 : 0
            }
        }
        // A full table: every new flow evicts one.
        let evict = clock.measure {
            for key in extra {
                now += 10
                sink &+= Int(table.lookupOrInsert(key, timestamp: now).handle.index)
            }
        }
        let expire = clock.measure {
            table.expire(now: now + 400_000_000_000) { sink &+= Int($0.packetsToServer) }
        }
        let times = ["insert": insert, "hit": hit, "hit+relink": relink, "track": tracked, "miss": miss,
                     "insert+evict": evict, "expire": expire]
        let summary = String(format: "%.1f B/flow, %d MiB", table.bytesPerFlow, FlowTable.memoryFootprint(capacity: flows) >> 20)
            + " | evicted \(table.counters.evicted) timed out \(table.counters.timedOut) (\(sink & 1))"
        return (times, summary)
    }
}
