import Config

/// What `SensorConfig.check` must hold to for any bytes: every error names the file, a line
/// inside the text (lines broken as YAML breaks them: LF, CR, CRLF, NEL, LS, PS) and a reason;
/// errors come in the order of the file; a config without errors has every value in its range,
/// and checking again gives the same answer. Shared by fuzz-config (Tests/Fuzz links this file)
/// and the Robustness tests.
enum ConfigInvariants {
    static func violations(_ bytes: [UInt8], file: String) -> [String] {
        let (config, errors) = SensorConfig.check(bytes: bytes, file: file)
        var broken: [String] = []
        let lines = lineCount(bytes)
        var previous = 0
        for error in errors {
            if error.file != file { broken.append("error names file \(error.file): \(error)") }
            if let line = error.line {
                if line < 1 || line > lines { broken.append("line \(line) outside 1...\(lines): \(error)") }
                if line < previous { broken.append("line \(line) after line \(previous): \(error)") }
                previous = line
            }
            if error.reason.isEmpty { broken.append("no reason: \(error)") }
            if error.key?.isEmpty == true { broken.append("an empty key: \(error)") }
        }
        for (key, line) in config.lines where line < 1 || line > lines {
            broken.append("key \(key) at line \(line), outside 1...\(lines)")
        }
        if errors.isEmpty { broken += ranges(config) }
        let (again, errorsAgain) = SensorConfig.check(bytes: bytes, file: file)
        if again != config || errorsAgain != errors { broken.append("a second check gave another answer") }
        return broken
    }

    /// Lines as YAML counts them; a break at the very end opens one more (where an error at the
    /// end of input is reported).
    static func lineCount(_ bytes: [UInt8]) -> Int {
        var lines = 1
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case 0x0A: lines += 1
            case 0x0D:
                lines += 1
                if i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 }
            case 0xC2 where i + 1 < bytes.count && bytes[i + 1] == 0x85:  // NEL
                lines += 1
                i += 1
            case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                lines += 1  // LS, PS
                i += 2
            default: break
            }
            i += 1
        }
        return lines
    }

    /// The loader's promises about a configuration it accepted.
    static func ranges(_ config: SensorConfig) -> [String] {
        var broken: [String] = []
        func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) { broken.append("\(name) \(value) outside \(range)") }
        }
        check("capture.snaplen", config.capture.snaplen, 64...262_144)
        check("capture.buffer_mib", config.capture.bufferMiB, 1...4096)
        check("stats.interval", config.stats.intervalSeconds, 0...86_400)
        check("flow.memory_mib", config.flow.memoryMiB, 1...65_536)
        check("scan.ports", config.scan.ports, 1...65_535)
        check("scan.hosts", config.scan.hosts, 1...65_535)
        check("scan.seconds", config.scan.seconds, 1...86_400)
        check("alerts.per_source", config.alerts.perSource, 0...1_000_000_000)
        check("alerts.per_sid", config.alerts.perSid, 0...1_000_000_000)
        check("alerts.window_seconds", config.alerts.windowSeconds, 1...86_400)
        check("alerts.max_sources", config.alerts.maxSources, 1_024...16_777_216)
        for (name, timeouts) in [("tcp", config.flow.timeouts.tcp), ("udp", config.flow.timeouts.udp),
                                 ("icmp", config.flow.timeouts.icmp), ("other", config.flow.timeouts.other)] {
            check("flow.timeouts.\(name).new", Int(timeouts.new), 1...86_400)
            check("flow.timeouts.\(name).established", Int(timeouts.established), 1...86_400)
            check("flow.timeouts.\(name).closed", Int(timeouts.closed), 0...86_400)
        }
        // No paths is the default (the shipped rules); a path written as nothing never loads.
        if config.rules.paths.contains(where: \.isEmpty) {
            broken.append("rules.paths \(config.rules.paths)")
        }
        if config.outputs.eve.path.isEmpty { broken.append("an empty outputs.eve.path") }
        if let interface = config.interface, interface.isEmpty || interface.utf8.count > 15 {
            broken.append("interface '\(interface)'")
        }
        if let textfile = config.stats.prometheusTextfile, !textfile.hasSuffix(".prom") {
            broken.append("stats.prometheus_textfile '\(textfile)'")
        }
        return broken
    }
}
