// Benchmarks of the packet path with malloc counts beside the times, capture and rule
// generators for Sources/ghostport-bench/compare.sh, and the allocation check BenchTests runs.
// Run in release: swift run -c release ghostport-bench [MODE]; see `usage` below.
import Detect
import Flow
import Output
import Rules
import TrafficGen
import Wire

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: ghostport-bench MODE [OPTIONS]
      decode            decode throughput per link type (frames built in memory)
      ring              ring throughput (producer and consumer threads) and push-to-pop latency: flooded,
                        paced, and on a quiet link (the consumer's wake-up after 20 ms with nothing)
      flows             flow table insert and lookup at 10k, 100k, 1M flows
      rules             rule load and match, 10 vs 10,000 rules
      json              EVE alert records: the engine's alerting path per alert, records/s
      allocs [--packets N]
                        mallocs on decode -> prefilter -> ring -> engine (flow lookup, match) for N
                        packets that do not alert (after a warm-up), then for packets that do
      phases RULES CAPTURE [--rounds N] [--parallel-records N] [--first N]
                        read's three phases timed apart on one thread: rules and engine set-up,
                        the engine on every admitted packet (no reader thread, no ring), the shutdown
      all               every mode above but allocs
      gen-rules N OUT   N rules in the shipped style, one port each from 1000 up (ports ending in 7 skipped)
      gen-flows OUT --flows N --packets P [--syn]
                        N TCP flows open for the whole capture (to the gen-rules ports), P packets round-robin;
                        --syn starts each flow with a SYN (one alert per flow), else it is picked up mid-stream
      gen-scenario OUT.pcap [--packets N] [--seed S] [--first-address N]
                        a gateway's traffic with flows to watched ports of planned outcomes and scanners
                        (TrafficGen's Scenario), and OUT.truth.json: what a correct sensor reports
      gen-flood OUT --flows N
                        N distinct flows, one SYN each, to 571/tcp (a shipped rule's port)
      gen-flood-scenario OUT.pcap [--flows N] [--backscatter N] [--answered N] [--rejected N] [--seconds S]
                        a random-source SYN flood to 571/tcp with backscatter, answered and rejected sessions
                        and a scanner in it (TrafficGen's FloodScenario), and OUT.truth.json: what was sent
      capacity MIB      the flow table's capacity (flows) under a bound of MIB MiB, as `read --flow-memory`
    """

let arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first ?? "all"
switch mode {
case "decode":
    print(Mallocs.statusLine)
    benchDecode()
case "ring":
    print(Mallocs.statusLine)
    benchRing()
case "flows":
    print(Mallocs.statusLine)
    benchFlows()
case "rules":
    print(Mallocs.statusLine)
    benchRules()
case "json":
    print(Mallocs.statusLine)
    benchJSON()
case "phases":
    guard arguments.count >= 3 else {
        print(usage)
        exit(2)
    }
    exit(benchPhases(rulesPath: arguments[1], capturePath: arguments[2], rounds: option("--rounds", 5),
                     parallelRecords: option("--parallel-records", RecordSettings().parallelFlowRecords),
                     firstPackets: option("--first", 0)))
case "allocs":
    exit(checkAllocations(packets: option("--packets", 100_000)))
case "all":
    print(Mallocs.statusLine)
    for (index, bench) in [benchDecode, benchRing, benchFlows, benchRules, benchJSON].enumerated() {
        if index > 0 { print("") }
        bench()
    }
case "gen-rules":
    guard arguments.count >= 3, let count = Int(arguments[1].replacingUnderscores()) else {
        print(usage)
        exit(2)
    }
    exit(writeFile(arguments[2], Array(generatedRules(count: count).utf8)))
case "gen-flows":
    guard arguments.count >= 2 else {
        print(usage)
        exit(2)
    }
    exit(generateConcurrentFlows(path: arguments[1], flows: option("--flows", 100_000),
                                 packets: option("--packets", 2_000_000), syn: arguments.contains("--syn")))
case "gen-scenario":
    let (path, directory, name) = captureOutput()
    do {
        let started = ContinuousClock.now
        var configuration = Scenario.Configuration(seed: UInt64(option("--seed", 1)), packets: option("--packets", 50_000))
        configuration.firstAddress = UInt32(option("--first-address", 1))
        let truth = try Scenario(configuration).write(to: directory, name: name)
        let watched = truth.watched.values.reduce(0) { $0 + $1.flows }
        print("\(path): \(truth.packets) packets, \(truth.flows) flows, \(watched) to watched ports, "
              + "\(truth.scanners.count) scanners, in \(ContinuousClock.now - started)")
    } catch {
        print("\(error)")
        exit(1)
    }
case "gen-flood":
    guard arguments.count >= 2 else {
        print(usage)
        exit(2)
    }
    exit(generateFlood(path: arguments[1], flows: option("--flows", 1_000_000)))
case "gen-flood-scenario":
    let (path, directory, name) = captureOutput()
    var configuration = FloodScenario.Configuration()
    configuration.floodFlows = option("--flows", configuration.floodFlows)
    configuration.heavyFlows = min(configuration.heavyFlows, configuration.floodFlows)
    configuration.backscatterFlows = option("--backscatter", configuration.backscatterFlows)
    configuration.answered = option("--answered", configuration.answered)
    configuration.rejected = option("--rejected", configuration.rejected)
    configuration.seconds = option("--seconds", configuration.seconds)
    do {
        let truth = try FloodScenario(configuration).write(to: directory, name: name)
        print("\(path): \(truth.packets) packets: \(truth.flood.flows) flood flows, \(truth.backscatter.flows) backscatter, "
              + "\(truth.answered.count) answered and \(truth.rejected.count) rejected sessions, a scanner")
    } catch {
        print("\(error)")
        exit(1)
    }
case "capacity":
    guard arguments.count >= 2, let mebibytes = Int(arguments[1]) else {
        print(usage)
        exit(2)
    }
    var configuration = EngineConfiguration()
    configuration.flowMemoryBytes = mebibytes << 20
    print(configuration.flowCapacity)
default:
    print(usage)
    exit(2)
}

/// The OUT.pcap argument of the scenario generators: the path, its directory and its name
/// without `.pcap` (the truth goes beside it as NAME.truth.json). Exits with the usage without one.
@MainActor
func captureOutput() -> (path: String, directory: String, name: String) {
    guard arguments.count >= 2, arguments[1].hasSuffix(".pcap") else {
        print(usage)
        exit(2)
    }
    let path = arguments[1]
    let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
    return (path, directory, String(path.split(separator: "/").last!.dropLast(5)))
}
