import Capture
import Config
import Foundation
import Output
import Rules
import Testing
import Wire

/// The fuzzers' seed inputs (Tests/Fuzz/corpus) through the same checks as the fuzz targets, in a
/// plain `swift test`: the invariants hold on every seed without a sanitizer build.
@Suite struct SeedReplayTests {
    @Test func decoderSeedsKeepTheDecoderInvariants() {
        let seeds = Checkout.seeds("decoder")
        #expect(seeds.count > 20, "seeds missing under Tests/Fuzz/corpus/decoder")
        for seed in seeds {
            let broken = seed.bytes.withUnsafeBytes { DecoderInvariants.decodeInput($0) }
            #expect(broken.isEmpty, "\(seed.name): \(broken)")
        }
    }

    @Test func rulesSeedsReportErrorsInsideTheText() {
        let seeds = Checkout.seeds("rules")
        #expect(seeds.count > 10, "seeds missing under Tests/Fuzz/corpus/rules")
        for seed in seeds {
            let text = String(decoding: seed.bytes, as: UTF8.self)
            let (_, errors) = RuleLoader.load(text: text, file: "seed.rules")
            #expect(RuleErrorInvariants.violations(errors, text: text, file: "seed.rules").isEmpty, "\(seed.name)")
        }
    }

    @Test func pcapSeedsReadToTheirEnd() throws {
        let seeds = Checkout.seeds("pcap")
        #expect(seeds.count > 10, "seeds missing under Tests/Fuzz/corpus/pcap")
        let scratch = try ScratchDirectory()
        var opened = 0
        for seed in seeds {
            let path = try scratch.write(seed.name, seed.bytes)
            guard let capture = try? OfflineCapture(path: path) else { continue }
            opened += 1
            var packet = DecodedPacket()
            while let record = capture.next() {
                Decoder.decode(record.bytes, linkType: capture.linkType, into: &packet)
                let broken = DecoderInvariants.violations(packet, frame: record.bytes, capturedLength: record.bytes.count)
                #expect(broken.isEmpty, "\(seed.name) record \(capture.packetsRead): \(broken)")
            }
            #expect(capture.end != nil, "\(seed.name)")
            #expect(capture.bytesRead <= Int64(seed.bytes.count), "\(seed.name)")
        }
        #expect(opened > 10, "most pcap seeds are captures ghostport reads")
    }

    @Test func configSeedsKeepTheConfigInvariants() {
        let seeds = Checkout.seeds("config")
        #expect(seeds.count > 10, "seeds missing under Tests/Fuzz/corpus/config")
        for seed in seeds {
            #expect(ConfigInvariants.violations(seed.bytes, file: "seed.yaml").isEmpty, "\(seed.name)")
        }
        let example = Checkout.root + "/systemd/ghostport.yaml"
        #expect(seeds.contains { $0.bytes == FileManager.default.contents(atPath: example).map([UInt8].init) },
                "the shipped example is a seed: rerun make-seeds.py")
    }

    @Test func jsonSeedsRoundTrip() {
        for seed in Checkout.seeds("json") {
            let text = String(decoding: seed.bytes, as: UTF8.self)
            var buffer = OutputBuffer(fd: -1)
            buffer.append(jsonString: text)
            #expect(JSONStringLiteral.decode(buffer.bytes)?.elementsEqual(text.unicodeScalars) == true, "\(seed.name)")
        }
    }
}
