import Config
import Detect
import Flow
import Foundation
import Output
import Testing

/// The name the messages carry; the text is checked in memory unless a test needs a file.
private let file = "/etc/ghostport/ghostport.yaml"

private func errors(_ text: String) -> [String] {
    SensorConfig.check(text: text, file: file).1.map(\.description)
}

private func config(_ text: String) throws -> SensorConfig {
    let (config, errors) = SensorConfig.check(text: text, file: file)
    if let first = errors.first { throw first }
    return config
}

private func temporaryFile(_ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "ghostport-config-\(UUID().uuidString).yaml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite struct SensorConfigTests {
    @Test func defaultsFromAnEmptyFile() throws {
        let path = try temporaryFile("")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try SensorConfig.load(path: path)
        #expect(config.interface == nil)
        #expect(config.capture == SensorConfig.CaptureSettings())
        #expect(config.capture.snaplen == 262_144)
        #expect(config.capture.promiscuous && !config.capture.immediate)
        #expect(config.capture.bufferMiB == 64 && config.capture.bufferBytes == 64 << 20)
        #expect(config.capture.bpf == nil)
        #expect(config.rules.paths == [] && !config.rules.strict && config.rules.variables.isEmpty)
        #expect(config.outputs.eve.enabled && config.outputs.eve.path == "/var/log/ghostport/eve.json")
        #expect(!config.outputs.eve.anomalies)
        #expect(!config.outputs.syslog.enabled && config.outputs.syslog.ident == "ghostport")
        #expect(config.outputs.syslog.facility == .local5 && config.outputs.syslog.format == .json)
        #expect(config.outputs.syslog.levels == .standard)
        #expect(config.outputs.evidence.directory == nil)
        #expect(config.stats.intervalSeconds == 30 && config.stats.prometheusTextfile == nil)
        #expect(config.statsInterval == .seconds(30))
        #expect(config.user == "ghostport" && !config.allowRoot)
        #expect(config.flow.memoryMiB == 256 && config.flow.timeouts == .suricata)
        #expect(!config.flow.perPacket && config.flow.communityIDSeed == 0)
        #expect(config.scan == SensorConfig.ScanSettings())
        #expect(config.alerts.limits == AlertLimits(perSource: 100, perSid: 1_000, seconds: 60, sourceCapacity: 65_536))
        #expect(config.file == path)

        let engine = config.engineConfiguration()
        #expect(engine.flowMemoryBytes == 256 << 20 && engine.timeouts == .suricata)
        #expect(engine.scan == ScanDetector.Configuration(ports: 5, hosts: 5, seconds: 60))
        #expect(!engine.perPacket && !engine.anomalies && engine.flowHashSeed == nil)
        #expect(config.recordSettings().interface == nil && config.recordSettings().communityIDSeed == 0)
        #expect(engine.alertLimits == .live, "live, alerts are limited unless the file says otherwise")
        #expect(EngineConfiguration().alertLimits == .unlimited, "offline (no config file), nothing is shed")
    }

    @Test func alertLimits() throws {
        let limited = try config("alerts:\n  per_source: 10\n  per_sid: 0\n  window_seconds: 300\n  max_sources: 4096\n")
        #expect(limited.alerts.limits == AlertLimits(perSource: 10, perSid: 0, seconds: 300, sourceCapacity: 4_096))
        #expect(limited.engineConfiguration().alertLimits == limited.alerts.limits)
        #expect(try config("alerts:\n  per_source: 0\n  per_sid: 0\n").engineConfiguration().alertLimits.isUnlimited)
        #expect(errors("alerts:\n  per_source: -1\n")
            == ["\(file):2: alerts.per_source: must be between 0 and 1000000000, got -1"])
        #expect(errors("alerts:\n  window_seconds: 0\n")
            == ["\(file):2: alerts.window_seconds: must be between 1 and 86400, got 0"])
        #expect(errors("alerts:\n  max_sources: 10\n")
            == ["\(file):2: alerts.max_sources: must be between 1024 and 16777216, got 10"])
        #expect(errors("alerts:\n  per_src: 5\n") == ["\(file):2: alerts.per_src: unknown key (did you mean 'per_sid'?)"])
    }

    @Test func decoderSettings() throws {
        let defaults = try config("").engineConfiguration().tunnelPorts
        #expect(defaults.enabled && defaults.vxlanPorts == [4789] && defaults.geneve == 6081 && defaults.teredo == 3544)
        let set = try config("decoder:\n  tunnels: false\n  vxlan_ports: [4789, 8472]\n  geneve_port: 0\n  teredo_port: 3545\n")
        let ports = set.engineConfiguration().tunnelPorts
        #expect(!ports.enabled && ports.vxlanPorts == [4789, 8472] && ports.geneve == 0 && ports.teredo == 3545)
        #expect(try config("decoder:\n  vxlan_ports: 8472\n").decoder.vxlanPorts == [8472])
        #expect(errors("decoder:\n  vxlan_ports: [1, 2, 3, 4, 5]\n") == ["\(file):2: decoder.vxlan_ports: at most 4 ports, got 5"])
        #expect(errors("decoder:\n  vxlan_ports: [4789, 0]\n")
            == ["\(file):2: decoder.vxlan_ports[1]: must be between 1 and 65535, got 0"])
        #expect(errors("decoder:\n  geneve_port: 70000\n") == ["\(file):2: decoder.geneve_port: must be between 0 and 65535, got 70000"])
        #expect(errors("decoder:\n  tunnels: maybe\n") == ["\(file):2: decoder.tunnels: expected true or false, got 'maybe'"])
        #expect(errors("decoder:\n  vxlan: 4789\n").first?.hasPrefix("\(file):2: decoder.vxlan: unknown key") == true)
    }

    @Test func commentsAndEmptySectionsAreDefaults() throws {
        let config = try config("""
            # nothing but comments
            capture:
            rules:
            outputs:
              evidence:
            stats:
              interval:
            """)
        #expect(config.capture == SensorConfig.CaptureSettings())
        #expect(config.stats.intervalSeconds == 30)
    }

    @Test func aFullValidConfig() throws {
        let config = try config("""
            interface: enp3s0
            capture:
              snaplen: 1514
              promiscuous: false
              immediate: no
              buffer_mib: 128
              bpf: "not host 192.0.2.10"
              kernel_filter: off
              workers: 4
            rules:
              paths: [/etc/ghostport/rules, /etc/ghostport/local.rules]
              strict: true
              vars:
                HOME_NET: [10.0.0.0/8, 192.168.0.0/16]
                EXTERNAL_NET: "!$HOME_NET"
                DNS_SERVERS: 10.0.0.53
                WATCHED_PORTS: "[571,1000:1010]"
            outputs:
              eve:
                enabled: true
                path: /srv/ghostport/eve.json
                anomalies: true
              syslog:
                enabled: true
                ident: gp-sensor
                facility: AUTH
                format: text
                level:
                  1: emerg
                  4: notice
              evidence:
                dir: /var/lib/ghostport/evidence
            stats:
              interval: 0
              prometheus_textfile: /var/lib/node_exporter/textfile/ghostport.prom
            user: sensor
            allow_root: true
            flow:
              memory_mib: 64
              timeouts:
                tcp: {new: 20, established: 600, closed: 5}
                udp:
                  established: 120
                icmp: {closed: 1}
                other: {new: 10}
              per_packet: true
              community_id_seed: 1234
            scan:
              ports: 10
              hosts: 20
              seconds: 120
            """)
        #expect(config.interface == "enp3s0" && config.resolvedInterface() == "enp3s0")
        #expect(config.capture.snaplen == 1514 && !config.capture.promiscuous && !config.capture.immediate)
        #expect(config.capture.bufferMiB == 128 && config.capture.bpf == "not host 192.0.2.10")
        #expect(config.capture.kernelFilter == .off)  // a bare `off` is the word, not YAML 1.1 false
        #expect(config.capture.workers == 4)
        #expect(config.location(of: "capture.kernel_filter") == "\(file):8")
        #expect(config.rules.paths == ["/etc/ghostport/rules", "/etc/ghostport/local.rules"] && config.rules.strict)
        #expect(config.rules.variables == [
            "HOME_NET": "[10.0.0.0/8,192.168.0.0/16]", "EXTERNAL_NET": "!$HOME_NET",
            "DNS_SERVERS": "10.0.0.53", "WATCHED_PORTS": "[571,1000:1010]",
        ])
        #expect(config.outputs.eve.path == "/srv/ghostport/eve.json" && config.outputs.eve.anomalies)
        #expect(config.outputs.syslog.enabled && config.outputs.syslog.ident == "gp-sensor")
        #expect(config.outputs.syslog.facility == SyslogFacility(name: "auth") && config.outputs.syslog.format == .text)
        #expect(config.outputs.syslog.levels == SyslogLevels(priority1: .emergency, lowest: .notice))
        #expect(config.outputs.evidence.directory == "/var/lib/ghostport/evidence")
        #expect(config.stats.intervalSeconds == 0 && config.statsInterval == nil)
        #expect(config.stats.prometheusTextfile == "/var/lib/node_exporter/textfile/ghostport.prom")
        #expect(config.user == "sensor" && config.allowRoot)
        #expect(config.flow.memoryMiB == 64 && config.flow.perPacket && config.flow.communityIDSeed == 1234)
        #expect(config.flow.timeouts == FlowTimeouts(
            tcp: .init(new: 20, established: 600, closed: 5), udp: .init(new: 30, established: 120, closed: 0),
            icmp: .init(new: 30, established: 300, closed: 1), other: .init(new: 10, established: 300, closed: 0)))
        #expect(config.scan.ports == 10 && config.scan.hosts == 20 && config.scan.seconds == 120)
        #expect(config.location(of: "capture.snaplen") == "\(file):3")
        #expect(config.location(of: "rules.vars.DNS_SERVERS") == "\(file):16")
        #expect(config.error(at: "rules.paths", "no such file or directory").description
            == "\(file):11: rules.paths: no such file or directory")

        let engine = config.engineConfiguration()
        #expect(engine.perPacket && engine.anomalies && config.recordSettings().communityIDSeed == 1234)
        #expect(engine.flowMemoryBytes == 64 << 20 && engine.timeouts == config.flow.timeouts)
        #expect(engine.scan == ScanDetector.Configuration(ports: 10, hosts: 20, seconds: 120))
        #expect(config.recordSettings().interface == "enp3s0" && engine.flowHashSeed == nil)
    }

    @Test func rulesAsAPlainListOrOnePath() throws {
        #expect(try config("rules: [/a.rules, /b]").rules.paths == ["/a.rules", "/b"])
        #expect(try config("rules: /etc/ghostport/rules/local.rules").rules.paths == ["/etc/ghostport/rules/local.rules"])
        #expect(try config("rules:\n  paths: /x\n").rules.paths == ["/x"])
    }

    @Test func baseline() throws {
        let loaded = try config("baseline:\n  file: /var/lib/ghostport/baseline.txt\n  learn_days: 7\n  known: silent\n  max_listeners: 5000\n  flush_seconds: 60\n").baseline
        #expect(loaded.file == "/var/lib/ghostport/baseline.txt" && loaded.learnDays == 7 && loaded.known == .silent
                && loaded.maxListeners == 5000 && loaded.flushSeconds == 60)
        #expect(loaded.learnUntil(since: 1_000) == Int64(1_000 + 7 * 86_400) * 1_000_000_000)
        let until = try config("baseline:\n  file: /b\n  learn_until: 2026-12-11T00:00:00Z\n").baseline
        #expect(until.learnUntil(since: 0) == Int64(1_796_947_200) * 1_000_000_000)
        #expect(try config("baseline:\n  file: /b\n").baseline.learnUntil(since: 0) == nil)
        #expect(throws: ConfigError.self) { try config("baseline:\n  file: /b\n  learn_until: tomorrow\n") }
        #expect(throws: ConfigError.self) { try config("baseline:\n  file: /b\n  learn_until: 2026-12-11T00:00:00Z\n  learn_days: 3\n") }
        #expect(throws: ConfigError.self) { try config("baseline:\n  learn_days: 3\n") }
        #expect(throws: ConfigError.self) { try config("baseline:\n  file: /b\n  known: loud\n") }
    }

    @Test func theShippedExampleLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("systemd/ghostport.yaml").path
        let config = try SensorConfig.load(path: path)
        // The example shows the defaults.
        var expected = SensorConfig()
        expected.rules.variables = ["HOME_NET": "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]", "EXTERNAL_NET": "!$HOME_NET"]
        expected.file = path
        expected.lines = config.lines
        #expect(config == expected)
    }

    @Test func aMissingFile() {
        #expect(throws: ConfigError(file: "/nonexistent/ghostport.yaml", line: nil, key: nil,
                                    reason: "no such file or directory")) {
            try SensorConfig.load(path: "/nonexistent/ghostport.yaml")
        }
        do {
            _ = try SensorConfig.load(path: "/nonexistent/ghostport.yaml")
        } catch {
            #expect(error.description == "/nonexistent/ghostport.yaml: no such file or directory")
        }
        #expect(SensorConfig.check(path: "/").1.map(\.description) == ["/: is a directory"])
    }

    @Test func workersAuto() throws {
        #expect(try config("capture:\n  workers: auto\n").capture.workers == nil, "auto: one per usable CPU, resolved at start")
        #expect(try config("capture:\n  snaplen: 1514\n").capture.workers == 1, "the default: one worker")
    }

    @Test func badValues() {
        #expect(errors("capture:\n  snaplen: 20\n") == ["\(file):2: capture.snaplen: must be between 64 and 262144, got 20"])
        #expect(errors("capture:\n  buffer_mib: 0\n") == ["\(file):2: capture.buffer_mib: must be between 1 and 4096, got 0"])
        #expect(errors("capture:\n  workers: 0\n") == ["\(file):2: capture.workers: must be between 1 and 64, got 0"])
        #expect(errors("capture:\n  workers: many\n")
                == ["\(file):2: capture.workers: expected a number of workers (1 to 64) or auto, got 'many'"])
        #expect(errors("outputs:\n  syslog:\n    facility: local9\n") == [
            "\(file):3: outputs.syslog.facility: must be one of auth, authpriv, cron, daemon, ftp, lpr, mail, news, security, syslog, user, uucp, local0, local1, local2, local3, local4, local5, local6, local7, got 'local9'",
        ])
        #expect(errors("outputs:\n  syslog:\n    format: xml\n") == ["\(file):3: outputs.syslog.format: must be json or text, got 'xml'"])
        #expect(errors("capture:\n  kernel_filter: on\n") == ["\(file):2: capture.kernel_filter: must be auto or off, got 'on'"])
        #expect(errors("outputs:\n  syslog:\n    socket: dev/log\n")
            == ["\(file):3: outputs.syslog.socket: must be an absolute path shorter than 108 bytes, got 'dev/log'"])
        #expect(errors("outputs:\n  syslog:\n    socket: /run/systemd/journal/dev-log\n").isEmpty)
        #expect(errors("outputs:\n  syslog:\n    level:\n      2: loud\n") == [
            "\(file):4: outputs.syslog.level.2: must be one of emerg, alert, crit, err, warning, notice, info, debug, got 'loud'",
        ])
        #expect(errors("outputs:\n  syslog:\n    level:\n      7: info\n")
            == ["\(file):4: outputs.syslog.level.7: unknown priority: use 1, 2, 3 or 4 (4 and above)"])
        #expect(errors("outputs:\n  syslog:\n    ident: two words\n")
            == ["\(file):3: outputs.syslog.ident: must be at most 64 characters without spaces, got 'two words'"])
        #expect(errors("stats:\n  interval: -1\n") == ["\(file):2: stats.interval: must be between 0 and 86400, got -1"])
        #expect(errors("stats:\n  prometheus_textfile: /tmp/ghostport.txt\n") == [
            "\(file):2: stats.prometheus_textfile: must end in .prom (node_exporter reads only *.prom), got '/tmp/ghostport.txt'",
        ])
        #expect(errors("flow:\n  memory_mib: 0\n") == ["\(file):2: flow.memory_mib: must be between 1 and 65536, got 0"])
        #expect(errors("flow:\n  timeouts:\n    tcp: {new: 0}\n")
            == ["\(file):3: flow.timeouts.tcp.new: must be between 1 and 86400, got 0"])
        #expect(errors("flow:\n  community_id_seed: 70000\n")
            == ["\(file):2: flow.community_id_seed: must be between 0 and 65535, got 70000"])
        #expect(errors("scan:\n  seconds: 0\n") == ["\(file):2: scan.seconds: must be between 1 and 86400, got 0"])
        #expect(errors("interface: averyveryverylongname0\n")
            == ["\(file):1: interface: must be at most 15 characters, got 'averyveryverylongname0'"])
        #expect(errors("user: \"root:root\"\n") == ["\(file):1: user: not a user name: 'root:root'"])
        #expect(errors("outputs:\n  eve:\n    path: \"\"\n") == ["\(file):3: outputs.eve.path: must not be empty"])
        #expect(errors("rules:\n  paths: []\n")
            == ["\(file):2: rules.paths: must name at least one rules file or directory"])
    }

    @Test func badRuleVariables() {
        #expect(errors("rules:\n  vars:\n    HOME_NET: 10.0.0.300\n")
            == ["\(file):3: rules.vars.HOME_NET: invalid address '10.0.0.300'"])
        #expect(errors("rules:\n  vars:\n    HTTP_PORTS: \"[80,http]\"\n")
            == ["\(file):3: rules.vars.HTTP_PORTS: invalid port 'http'"])
        #expect(errors("rules:\n  vars:\n    EXTERNAL_NET: \"!$LAN\"\n")
            == ["\(file):3: rules.vars.EXTERNAL_NET: undefined variable '$LAN'"])
        #expect(errors("rules:\n  vars:\n    EXTERNAL_NET: !$HOME_NET\n")
            == ["\(file):3: rules.vars.EXTERNAL_NET: quote a value that starts with '!' (YAML reads '!$HOME_NET' as a tag)"])
        #expect(errors("rules:\n  vars:\n    9NET: any\n")
            == ["\(file):3: rules.vars.9NET: a variable name is letters, digits and '_', not starting with a digit"])
    }

    @Test func unknownKeys() {
        #expect(errors("capture:\n  snaplenn: 100\n")
            == ["\(file):2: capture.snaplenn: unknown key (did you mean 'snaplen'?)"])
        #expect(errors("interface: eth0\nfilter: tcp\n") == ["\(file):2: filter: unknown key"])
        #expect(errors("outputs:\n  eve:\n    rotate: daily\n") == ["\(file):3: outputs.eve.rotate: unknown key"])
        #expect(errors("flow:\n  timeouts:\n    sctp: {new: 1}\n") == ["\(file):3: flow.timeouts.sctp: unknown key (did you mean 'tcp'?)"])
        #expect(errors("flow:\n  timeouts:\n    tcp: {new: 1, idle: 2}\n") == ["\(file):3: flow.timeouts.tcp.idle: unknown key"])
        #expect(errors("scan:\n  ports: 5\n  ports: 6\n") == ["\(file):3: scan.ports: duplicate key (first at line 2)"])
    }

    @Test func wrongTypes() {
        #expect(errors("capture: 5\n") == ["\(file):1: capture: expected a mapping, got '5'"])
        #expect(errors("capture:\n  - snaplen\n") == ["\(file):2: capture: expected a mapping, got a list"])
        #expect(errors("capture:\n  snaplen: big\n") == ["\(file):2: capture.snaplen: expected an integer, got 'big'"])
        #expect(errors("capture:\n  snaplen: [1]\n") == ["\(file):2: capture.snaplen: expected an integer, got a list"])
        #expect(errors("capture:\n  promiscuous: maybe\n")
            == ["\(file):2: capture.promiscuous: expected true or false, got 'maybe'"])
        #expect(errors("user: {name: x}\n") == ["\(file):1: user: expected a string, got a mapping"])
        #expect(errors("rules:\n  paths: [/a, [/b]]\n") == ["\(file):2: rules.paths[1]: expected a string, got a list"])
        #expect(errors("- a\n- b\n") == ["\(file):1: expected a mapping at the top level, got a list"])
    }

    @Test func everyProblemIsReportedInOrder() {
        #expect(errors("capture:\n  snaplen: 1\n  colour: red\nscan:\n  ports: x\n") == [
            "\(file):2: capture.snaplen: must be between 64 and 262144, got 1",
            "\(file):3: capture.colour: unknown key",
            "\(file):5: scan.ports: expected an integer, got 'x'",
        ])
    }

    @Test func yamlSyntaxErrors() throws {
        #expect(errors("capture:\n  snaplen: 100\n bpf: tcp\n") == [
            "\(file):3: syntax error: did not find expected key (while parsing a block mapping at line 1)",
        ])
        #expect(errors("capture:\n  bpf: \"tcp\n") == [
            "\(file):3: syntax error: found unexpected end of stream (while scanning a quoted scalar at line 2)",
        ])
        #expect(errors("a: b: c\n") == ["\(file):1: syntax error: mapping values are not allowed in this context"])

        let path = try temporaryFile("scan:\n\tports: 5\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(SensorConfig.check(path: path).1.map(\.description) == [
            "\(path):2: syntax error: found character that cannot start any token (while scanning for the next token at line 2)",
        ])
    }

    @Test func invalidUTF8() throws {
        let path = NSTemporaryDirectory() + "ghostport-config-\(UUID().uuidString).yaml"
        try Data([0x75, 0x73, 0x65, 0x72, 0x3A, 0x20, 0x61, 0x0A, 0x69, 0x6E, 0x74, 0x65, 0x72, 0x66, 0x61, 0x63, 0x65,
                  0x3A, 0x20, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(SensorConfig.check(path: path).1.map(\.description) == ["\(path):2: not valid UTF-8"])
    }
}
