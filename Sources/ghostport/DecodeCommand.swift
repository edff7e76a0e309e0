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
            standard input). CSV columns: frame,ts,linktype,src,dst,proto,sport,dport,tcp_flags,events. \
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

    @Argument(help: "Capture files or directories; - for standard input.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one capture file, directory or -") }
    }

    func run() throws {
        var status: Int32 = 0
        let (inputs, missing) = CaptureInputs.expand(files)
        for error in missing {
            warn(error.description)
            status = 2
        }
        // Property-wrapper reads go through generic code: read the options once, not per packet.
        let quiet = self.quiet, format = self.format
        var stats = DecodeStats()
        var out = OutputBuffer(fd: STDOUT_FILENO)
        if !quiet && format == .csv { out.append("frame,ts,linktype,src,dst,proto,sport,dport,tcp_flags,events\n") }
        var packet = DecodedPacket()
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
                case .csv: RowFormat.csv(packet, frame: frame, record: record, into: &out)
                case .json: RowFormat.json(packet, frame: frame, record: record, file: input.path, into: &out)
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

/// The rows `decode` prints.
enum RowFormat {
    static func timestamp(_ record: CaptureRecord, into out: inout OutputBuffer) {
        out.append(decimal: Int(record.seconds))
        out.append(byte: 0x2E)
        out.append(decimal: UInt64(record.nanoseconds), width: 9)
    }

    static func csv(_ packet: DecodedPacket, frame: UInt64, record: CaptureRecord, into out: inout OutputBuffer) {
        out.append(decimal: frame)
        out.append(byte: 0x2C)
        timestamp(record, into: &out)
        out.append(byte: 0x2C)
        out.append(string: packet.linkType.description)
        out.append(byte: 0x2C)
        if packet.hasIP {
            out.append(address: packet.src)
            out.append(byte: 0x2C)
            out.append(address: packet.dst)
            out.append(byte: 0x2C)
            out.append(decimal: UInt64(packet.proto))
        } else {
            out.append(",,")
        }
        out.append(byte: 0x2C)
        if packet.hasPorts {
            out.append(decimal: UInt64(packet.sport))
            out.append(byte: 0x2C)
            out.append(decimal: UInt64(packet.dport))
        } else {
            out.append(byte: 0x2C)
        }
        out.append(byte: 0x2C)
        if packet.hasTCPFlags { out.append(hex: UInt64(packet.tcpFlags), width: 4) }
        out.append(byte: 0x2C)
        var first = true
        for event in packet.events {
            if !first { out.append(byte: 0x7C) }
            out.append(string: event.name)
            first = false
        }
        out.append(byte: 0x0A)
    }

    static func json(_ packet: DecodedPacket, frame: UInt64, record: CaptureRecord, file: String, into out: inout OutputBuffer) {
        out.append("{\"file\":")
        out.append(jsonString: file)
        out.append(",\"frame\":")
        out.append(decimal: frame)
        out.append(",\"ts\":\"")
        timestamp(record, into: &out)
        out.append("\",\"linktype\":\"")
        out.append(string: packet.linkType.description)
        out.append("\",\"caplen\":")
        out.append(decimal: packet.capturedLength)
        out.append(",\"len\":")
        out.append(decimal: record.originalLength)
        if packet.vlanCount > 0 {
            out.append(",\"vlan\":[")
            for i in 0..<packet.vlanCount {
                if i > 0 { out.append(byte: 0x2C) }
                out.append(decimal: UInt64(packet.vlanID(at: i)))
            }
            out.append(byte: 0x5D)
        }
        if packet.hasIP {
            out.append(",\"ip_v\":")
            out.append(decimal: UInt64(packet.ipVersion))
            out.append(",\"src\":\"")
            out.append(address: packet.src)
            out.append("\",\"dst\":\"")
            out.append(address: packet.dst)
            out.append("\",\"proto\":")
            out.append(decimal: UInt64(packet.proto))
        }
        if packet.isFragment {
            out.append(packet.isLaterFragment ? ",\"fragment\":\"later\"" : ",\"fragment\":\"first\"")
        }
        if packet.hasPorts {
            out.append(",\"sport\":")
            out.append(decimal: UInt64(packet.sport))
            out.append(",\"dport\":")
            out.append(decimal: UInt64(packet.dport))
        }
        if packet.hasTCPFlags {
            out.append(",\"tcp_flags\":\"")
            out.append(hex: UInt64(packet.tcpFlags), width: 4)
            out.append(byte: 0x22)
        }
        if packet.hasICMP {
            out.append(",\"icmp_type\":")
            out.append(decimal: UInt64(packet.icmpType))
            out.append(",\"icmp_code\":")
            out.append(decimal: UInt64(packet.icmpCode))
            if packet.quoted.isPresent {
                out.append(",\"quoted\":{\"src\":\"")
                out.append(address: packet.quoted.src)
                out.append("\",\"dst\":\"")
                out.append(address: packet.quoted.dst)
                out.append("\",\"proto\":")
                out.append(decimal: UInt64(packet.quoted.proto))
                if packet.quoted.hasPorts {
                    out.append(",\"sport\":")
                    out.append(decimal: UInt64(packet.quoted.sport))
                    out.append(",\"dport\":")
                    out.append(decimal: UInt64(packet.quoted.dport))
                }
                out.append(byte: 0x7D)
            }
        }
        out.append(",\"events\":[")
        var first = true
        for event in packet.events {
            if !first { out.append(byte: 0x2C) }
            out.append(byte: 0x22)
            out.append(string: event.name)
            out.append(byte: 0x22)
            first = false
        }
        out.append("]}\n")
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
    var events = [UInt64](repeating: 0, count: 64)

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
