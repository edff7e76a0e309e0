// swift-tools-version:6.1
import PackageDescription

// The per-packet path runs on classes owned by one thread each; release builds skip the
// dynamic exclusivity checks on their properties (debug builds and tests keep them).
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "ghostport",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ghostport", targets: ["ghostport"]),
        // For the fuzz package (Tests/Fuzz), which depends on this one by path.
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "Rules", targets: ["Rules"]),
        .library(name: "Capture", targets: ["Capture"]),
        .library(name: "Baseline", targets: ["Baseline"]),
        .library(name: "Detect", targets: ["Detect"]),
        .library(name: "Output", targets: ["Output"]),
        .library(name: "Config", targets: ["Config"]),
        .library(name: "Report", targets: ["Report"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // Counts mallocs in ghostport-bench only: linked, it replaces malloc for the whole process.
        .package(url: "https://github.com/ordo-one/malloc-interposer.git", from: "1.6.1"),
    ],
    targets: [
        // libpcap, nothing else.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // hiredis, the Redis client (Debian's libhiredis), for the Redis output. Not through
        // pkg-config: its cflags carry -D_FILE_OFFSET_BITS=64, which SwiftPM warns about; the
        // header is in /usr/include/hiredis, the library in the default path.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        // The few Linux calls Swift cannot make directly: capabilities, prctl.
        .target(name: "CSensor"),
        // A prefetch hint for the flow table, which Swift cannot spell.
        .target(name: "CPrefetch"),
        // eventfd(2), on which the ring's idle consumer sleeps until the producer publishes.
        .target(name: "CEventFD"),
        // SHA-1's compression on the x86 SHA extensions, for Community ID.
        .target(name: "CHash"),
        // General utilities of no one stage: threads, files, file trust. libc only.
        .target(name: "Platform"),
        // Zero-copy decoders: the standard library only, so they stay testable and fuzzable alone.
        .target(name: "Wire", swiftSettings: hotPath),
        // Offline (and later live) libpcap sources.
        .target(name: "Capture", dependencies: ["CPcap", "Wire"]),
        // The rule language, the abandoned-port registry and compiled port tables.
        .target(name: "Rules", dependencies: ["Platform"], swiftSettings: hotPath),
        // The lock-free single-producer/single-consumer packet ring.
        .target(name: "Ring", dependencies: ["CEventFD"], swiftSettings: hotPath),
        // Flow keys, the bounded flow table, TCP state, Community ID.
        .target(name: "Flow", dependencies: ["Wire", "CPrefetch", "CHash"], swiftSettings: hotPath),
        // The kernel filter: the rules' ports as a capture filter, fitted to the kernel's limit and installed.
        .target(name: "KernelFilter", dependencies: ["CPcap", "Capture", "Rules", "Wire"]),
        // The listeners seen answering on watched ports (learned, kept in a text file), and its file.
        .target(name: "Baseline", dependencies: ["Platform", "Wire", "Rules"]),
        // The engine, which decides: prefilter, flows to verdicts, rule matching, thresholds, alert limits, scans.
        .target(name: "Detect", dependencies: ["Platform", "Wire", "Flow", "Rules", "Baseline", "CPrefetch"], swiftSettings: hotPath),
        // Records: what the engine decided as EVE lines (alert, flow, scan, anomaly, stats), syslog
        // messages, evidence pcaps, the Prometheus textfile and read's summary; buffered writers.
        .target(name: "Output", dependencies: ["Platform", "Wire", "Flow", "Rules", "Detect"], swiftSettings: hotPath),
        // `ghostport report`: EVE records read back (a strict JSON reader of our own) and aggregated
        // in bounded memory into one self-contained HTML page.
        .target(name: "Report", dependencies: ["Baseline", "Detect"]),
        // EVE records into Redis (list, channel or stream) off the detection thread: a bounded
        // queue, a writer thread pipelining through hiredis, reconnection, loss counted.
        .target(name: "Redis", dependencies: ["CHiredis", "Platform"]),
        // The sensor's YAML configuration file, checked with line numbers; the EngineConfiguration it makes.
        .target(name: "Config", dependencies: ["Platform", "KernelFilter", "Rules", "Flow", "Baseline", "Detect", "Output", "Redis", "Wire",
                                               .product(name: "Yams", package: "Yams")]),
        // The pipelines: capture thread, ring, detection thread.
        .target(name: "Sensor", dependencies: ["Platform", "KernelFilter", "Capture", "Ring", "Detect", "Output", "Rules", "Wire", "CSensor"], swiftSettings: hotPath),
        .executableTarget(
            name: "ghostport",
            dependencies: [
                "Platform", "KernelFilter", "Wire", "Capture", "Rules", "Baseline", "Output", "Detect", "Sensor", "CSensor", "Config",
                "Report", "Redis", "CPcap", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmarks of the packet path (release builds) with malloc counts, capture generators, and
        // the allocation check the BenchTests run.
        .executableTarget(name: "ghostport-bench",
                          dependencies: ["Platform", "Wire", "Flow", "Rules", "Detect", "Output", "Ring", "TrafficGen",
                                         .product(name: "MallocInterposerSwift", package: "malloc-interposer")],
                          exclude: ["compare.sh", "flood.sh", "idle.sh", "soak.sh", "wrap_tunnels.py"], swiftSettings: hotPath),
        // Packets, capture files and scenarios with their truth, for the tests and the benchmarks:
        // built from what it generates, depending on nothing of the sensor's.
        .target(name: "TrafficGen"),
        // What the tests share beyond TrafficGen: temporary directories, rsyslogd, Wire helpers.
        .target(name: "TestSupport", dependencies: ["TrafficGen", "Wire"], path: "Tests/TestSupport"),
        .testTarget(name: "PlatformTests", dependencies: ["Platform", "TestSupport"]),
        .testTarget(name: "TrafficGenTests", dependencies: ["TrafficGen", "TestSupport"]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "TestSupport"]),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "TestSupport"]),
        .testTarget(name: "RulesTests", dependencies: ["Rules", "TestSupport"]),
        .testTarget(name: "RingTests", dependencies: ["Ring", "Platform", "TestSupport"]),
        .testTarget(name: "KernelFilterTests", dependencies: ["KernelFilter", "Capture", "Detect", "Rules", "Wire", "TestSupport"]),
        .testTarget(name: "FlowTests", dependencies: ["Flow", "Wire", "Capture", "TestSupport"]),
        .testTarget(name: "RobustnessTests", dependencies: ["Wire", "Rules", "Capture", "Output", "Config", "ghostport", "TestSupport"],
                    path: "Tests/Robustness"),
        .testTarget(name: "SensorTests", dependencies: ["Sensor", "TestSupport"]),
        .testTarget(name: "GhostportTests", dependencies: ["ghostport", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Detect", "Flow", "Output", "Wire", "TestSupport"]),
        .testTarget(name: "OutputTests", dependencies: ["Output", "Detect", "Flow", "Wire", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "TrafficGen", "TestSupport"]),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "TestSupport"]),
        .testTarget(name: "BaselineTests", dependencies: ["Baseline", "Wire", "TestSupport"]),
        .testTarget(name: "DetectTests", dependencies: ["Detect", "Baseline", "Flow", "Rules", "Output", "Wire", "TestSupport"]),
        // Runs the built ghostport-bench as a process, so the interposer never enters a test process.
        .testTarget(name: "BenchTests", dependencies: ["TestSupport"]),
        .testTarget(name: "LiveTests", dependencies: ["TestSupport"], exclude: ["replay-rates.sh"]),
    ],
    swiftLanguageModes: [.v6]
)
