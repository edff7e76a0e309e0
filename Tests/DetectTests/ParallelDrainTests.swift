import Detect
import Testing
import TestSupport

/// At shutdown the flow records are written on two threads and appended in order: the bytes
/// must be exactly those one thread writes. (Run under ThreadSanitizer in CI.)
@Suite struct ParallelDrainTests {
    /// The same traffic through two engines, one writing every record on one thread, one
    /// splitting every batch; returns both outputs.
    private func outputs(flows: Int) throws -> (serial: [String], parallel: [String]) {
        let serial = try EngineHarness(rules: TestRules.udemon, records: { $0.parallelFlowRecords = .max })
        let parallel = try EngineHarness(rules: TestRules.udemon, records: { $0.parallelFlowRecords = 2 })
        for harness in [serial, parallel] {
            for i in 0..<flows {
                // Distinct clients; every third answered, every fifth IPv6, some UDP with replies.
                let seconds = Double(i) / 1_000
                if i % 5 == 0 {
                    var probe = Probe6()
                    probe.client = "2001:db8::\(String(i, radix: 16))"
                    probe.sport = UInt16(1_024 + i % 60_000)
                    harness.feed(probe.syn, at: seconds)
                    if i % 3 == 0 { harness.feed(probe.synAck, at: seconds + 0.0005) }
                } else {
                    var probe = Probe()
                    probe.client = "45.\(i / 65_536 % 256).\(i / 256 % 256).\(i % 256)"
                    probe.sport = UInt16(1_024 + i % 60_000)
                    if i % 7 == 0 {
                        harness.feed(probe.udpRequest, at: seconds)
                        harness.feed(probe.udpReply, at: seconds + 0.0005)
                    } else {
                        harness.feed(probe.syn, at: seconds)
                        if i % 3 == 0 { harness.feed(probe.rst, at: seconds + 0.0005) }
                    }
                }
            }
            harness.engine.finish()
        }
        return (try serial.lines(), try parallel.lines())
    }

    @Test("records written on two threads are the bytes one thread writes, batch after batch", arguments: [3, 600, 5_000])
    func sameBytes(flows: Int) throws {
        let (serial, parallel) = try outputs(flows: flows)
        let flowRecords = serial.filter { $0.contains("\"event_type\":\"flow\"") }
        #expect(flowRecords.count == flows)
        #expect(serial.count == parallel.count)
        // Stats records carry run-time counters; everything else must match byte for byte.
        let strip = { (lines: [String]) in lines.filter { !$0.contains("\"event_type\":\"stats\"") } }
        #expect(strip(serial) == strip(parallel))
    }
}
