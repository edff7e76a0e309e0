// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for ghostport. They live apart from the main package because an executable
// built with -sanitize=fuzzer cannot link without the fuzzer runtime: build them with
// `swift build -Xswiftc -sanitize=fuzzer,address` (run.sh does), never as part of the root build.
let package = Package(
    name: "ghostport-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ghostport", path: "../.."),
    ],
    targets: [
        // The libFuzzer driver glue and the invariant checks shared by the targets.
        .target(name: "FuzzSupport"),
        // First byte picks a link type, the rest is the frame.
        .executableTarget(name: "fuzz-decoder", dependencies: [
            "FuzzSupport", .product(name: "Wire", package: "ghostport"),
        ]),
        // The input as rules text.
        .executableTarget(name: "fuzz-rules", dependencies: [
            "FuzzSupport", .product(name: "Rules", package: "ghostport"),
        ]),
        // The input as a capture file, read through libpcap, decoded record by record, and written
        // out through every row format and record kind.
        .executableTarget(name: "fuzz-pcap", dependencies: [
            "FuzzSupport", .product(name: "Capture", package: "ghostport"), .product(name: "Wire", package: "ghostport"),
            .product(name: "Detect", package: "ghostport"), .product(name: "Output", package: "ghostport"),
            .product(name: "Rules", package: "ghostport"), .product(name: "Baseline", package: "ghostport"),
        ]),
        // The input as a string through the EVE JSON string writer, parsed back by Foundation.
        .executableTarget(name: "fuzz-json", dependencies: [
            "FuzzSupport", .product(name: "Output", package: "ghostport"),
        ]),
        // The input as EVE lines through ghostport report's reader, aggregation and page.
        .executableTarget(name: "fuzz-report", dependencies: [
            "FuzzSupport", .product(name: "Report", package: "ghostport"),
        ]),
        // The input as the sensor's YAML configuration file.
        .executableTarget(name: "fuzz-config", dependencies: [
            "FuzzSupport", .product(name: "Config", package: "ghostport"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
