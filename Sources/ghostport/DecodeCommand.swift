import ArgumentParser
import Capture
import Output
import Wire

#if canImport(Glibc)
import Glibc
#endif

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode capture files and print one line per frame.",
        discussion: """
            Reads .pcap and .pcapng files (a directory: its capture files sorted by name; - reads \
            standard input). CSV columns: frame,ts,linktype,src,dst,proto,sport,dport,tcp_flags,events,tunnel. \
            A tunneled frame's fields are its innermost packet's; `tunnel` is the chain crossed \
            (gre>vxlan), and the JSON row's tunnel object has the outermost IP layer. \
            A summary goes to standard error. Exit status: 0 when every input was read whole, 1 when \
            some input was unreadable, cut off or of an unsupported link type (the rest are still \
            decoded), 2 when a named path does not exist.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    @Option(help: "Row format: csv or json (one object per line).")
    var format: Format = .csv

    @Flag(help: "Decode without printing rows; only the summary.")
    var quiet = false

    @Flag(help: "Read the capture files in sub-directories too.")
    var recursive = false

    @OptionGroup(title: "Tunnels")
    var tunnels: TunnelOptions

    @Argument(help: "Capture files or directories; - for standard input.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one capture file, directory or -") }
    }

    func run() throws {
        var status: Int32 = 0
        let inputs = CaptureInputs.expandReporting(files, recursive: recursive, status: &status)
        // Property-wrapper reads go through generic code: read the options once, not per packet.
        let quiet = self.quiet, format = self.format
        var stats = DecodeStats()
        var out = OutputBuffer(fd: STDOUT_FILENO)
        if !quiet && format == .csv { out.append("frame,ts,linktype,src,dst,proto,sport,dport,tcp_flags,events,tunnel\n") }
        var packet = DecodedPacket()
        packet.tunnelPorts = tunnels.ports
        for input in inputs {
            let capture: OfflineCapture
            do {
                capture = try OfflineCapture(path: input.path)
            } catch {
                warn(error.description)
                status = max(status, 1)
                stats.filesFailed += 1
                continue
            }
            stats.files += 1
            let linkType = capture.linkType
            var frame: UInt64 = 0
            while let record = capture.next() {
                frame += 1
                Decoder.decode(record.bytes, linkType: linkType, into: &packet)
                stats.count(packet, originalLength: record.originalLength)
                if quiet { continue }
                switch format {
                case .csv: DecodeRow.csv(packet, frame: frame, time: record.time, into: &out)
                case .json: DecodeRow.json(packet, frame: frame, time: record.time, file: input.path, into: &out)
                }
                try out.flushIfNeeded()
            }
            stats.linkTypes[capture.linkTypeName, default: 0] += UInt64(capture.packetsRead)
            switch capture.end {
            case .truncated(let offset, let reason):
                let place = offset.map { "at byte offset \($0)" } ?? "after packet \(capture.packetsRead)"
                warn("\(input.path): truncated \(place), \(capture.packetsRead) packets read before the cut (\(reason))")
                status = max(status, 1)
            case .failed(let reason):
                warn("\(input.path): read failed after packet \(capture.packetsRead): \(reason)")
                status = max(status, 1)
            case .endOfFile, nil:
                break
            }
        }
        try out.flush()
        FileHandleStderr.write(stats.summary())
        if status != 0 { throw ExitCode(status) }
    }
}

/// What `decode` counted, for the summary on standard error.
struct DecodeStats {
    var files = 0
    var filesFailed = 0
    var frames: UInt64 = 0
    var bytes: UInt64 = 0
    var nonIP: UInt64 = 0
    var fragments: UInt64 = 0
    var laterFragments: UInt64 = 0
    var linkTypes: [String: UInt64] = [:]
    var protocols = [UInt64](repeating: 0, count: 256)
    var ipVersions = (UInt64(0), UInt64(0))
    var events = [UInt64](repeating: 0, count: DecodeEvents.capacity)

    @inline(__always)
    mutating func count(_ packet: DecodedPacket, originalLength: Int) {
        frames += 1
        bytes += UInt64(originalLength)
        if packet.hasIP {
            protocols[Int(packet.proto)] += 1
            if packet.ipVersion == 4 { ipVersions.0 += 1 } else { ipVersions.1 += 1 }
        } else {
            nonIP += 1
        }
        if packet.isFragment {
            fragments += 1
            if packet.isLaterFragment { laterFragments += 1 }
        }
        packet.events.count(into: &events)
    }

    func summary() -> String {
        var lines: [String] = []
        lines.append("decoded \(frames) frames, \(bytes) bytes, from \(files) file\(files == 1 ? "" : "s")"
            + (filesFailed > 0 ? " (\(filesFailed) could not be read)" : ""))
        if !linkTypes.isEmpty {
            let parts = linkTypes.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            lines.append("link types: " + parts.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        lines.append("network: IPv4 \(ipVersions.0), IPv6 \(ipVersions.1), no IP \(nonIP); fragments \(fragments) (\(laterFragments) without ports)")
        let protos = protocols.indices.filter { protocols[$0] > 0 }
            .sorted { (protocols[$0], $1) > (protocols[$1], $0) }
        if !protos.isEmpty {
            lines.append("protocols: " + protos.map { p in
                let name = IPProtocol.name(UInt8(p)).map { "\($0)" } ?? "proto-\(p)"
                return "\(name) \(protocols[p])"
            }.joined(separator: ", "))
        }
        let named = DecodeEvent.allCases.filter { events[Int($0.rawValue)] > 0 }
        if named.isEmpty {
            lines.append("decode events: none")
        } else {
            lines.append("decode events:")
            for event in named.sorted(by: { (events[Int($0.rawValue)], $1.rawValue) > (events[Int($1.rawValue)], $0.rawValue) }) {
                lines.append("  \(event.name) \(events[Int(event.rawValue)])")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension CaptureRecord {
    /// What a decode row says of when and how long the packet was.
    var time: DecodeRow.Time { DecodeRow.Time(seconds: seconds, nanoseconds: nanoseconds, originalLength: originalLength) }
}
