import Baseline
import Detect
import Flow
import KernelFilter
import Output
import Redis
import Platform
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The live sensor's settings, from `/etc/ghostport/ghostport.yaml`.
///
/// Every key is optional; an empty value (`key:` with nothing after it) means the default.
/// `systemd/ghostport.yaml` is the annotated example that ships. Unknown keys are errors, so a
/// typo never silently leaves a default in force.
public struct SensorConfig: Sendable, Equatable {
    /// `interface`: the device to capture on. Nil: the first interface that is up and not a
    /// loopback (`defaultInterface()`).
    public var interface: String?
    /// `sensor_name`: every record's `host` (Suricata's `sensor-name`), to tell a fleet's sensors
    /// apart where their records meet (Redis, a SIEM). Nil: no `host`.
    public var sensorName: String?
    /// `capture`
    public var capture = CaptureSettings()
    /// `rules`
    public var rules = RuleSettings()
    /// `outputs`
    public var outputs = OutputSettings()
    /// `stats`
    public var stats = StatsSettings()
    /// `user`: the account the sensor switches to after opening the capture (and, under
    /// systemd, the unit's `User=`).
    public var user = "ghostport"
    /// `allow_root`: keep running as root when `user` cannot be switched to. Off: refuse.
    public var allowRoot = false
    /// `logging.level`: the least important of the sensor's own log lines written.
    public var logLevel = LogLevel.info
    /// `flow`
    public var flow = FlowSettings()
    /// `scan`
    public var scan = ScanSettings()
    /// `alerts`
    public var alerts = AlertSettings()
    /// `decoder`
    public var decoder = DecoderSettings()
    /// `detect`
    public var detect = DetectSettings()
    /// `baseline`
    public var baseline = BaselineSettings()

    /// The file this was read from, for messages; nil for the built-in defaults.
    public var file: String?
    /// The line of each key that was set, by its dotted name (`capture.snaplen`,
    /// `rules.paths[0]`), so later checks (a rules path that does not exist) can say where.
    public var lines: [String: Int] = [:]

    public init() {}

    /// `capture`: how libpcap opens the interface.
    public struct CaptureSettings: Sendable, Equatable {
        /// `snaplen`: bytes kept of each packet, 64 to 262144.
        public var snaplen = 262_144
        /// `promiscuous`: see traffic not addressed to this host (a span port or tap needs it).
        public var promiscuous = true
        /// `immediate`: deliver packets as they arrive rather than in blocks (at most 100 ms late).
        public var immediate = false
        /// `buffer_mib`: the kernel capture buffer, in MiB (1 to 4096).
        public var bufferMiB = 64
        /// `bpf`: a capture filter in pcap-filter(7) syntax, applied before the rules' own.
        public var bpf: String?
        /// `kernel_filter`: `auto` installs a kernel filter made from the rules (after `bpf`)
        /// when every rule is port-specific and anomaly records are off; `off` never does.
        public var kernelFilter = KernelFilterMode.auto
        /// `workers`: capture sockets in one PACKET_FANOUT group, each with its engine (1 to 64);
        /// nil: `auto`, one per CPU the process may use.
        public var workers: Int? = 1

        public init() {}

        public var bufferBytes: Int { bufferMiB << 20 }
    }


    /// `rules`: either a list of paths, or a mapping with `paths`, `strict` and `vars`.
    public struct RuleSettings: Sendable, Equatable {
        /// `paths`: rules files or directories of `*.rules`. Empty (the default): the shipped
        /// rules, found as `read` finds them (`/etc/ghostport/rules`, then
        /// `/usr/share/ghostport/rules`, where the package installs them).
        public var paths: [String] = []
        /// `strict`: refuse to start (or reload) when any rule fails to load.
        public var strict = false
        /// `vars`: rule variables, NAME → value (`HOME_NET`, `EXTERNAL_NET`, `*_PORTS`). A
        /// YAML list becomes a rule list: `[10.0.0.0/8, 192.168.0.0/16]`.
        public var variables: [String: String] = [:]

        public init() {}
    }

    /// `outputs`
    public struct OutputSettings: Sendable, Equatable {
        public var eve = EVESettings()
        public var syslog = SyslogSettings()
        public var evidence = EvidenceSettings()
        /// `redis`: nil when the section is absent or not enabled.
        public var redis: RedisSettings?

        public init() {}
    }

    /// `outputs.eve`: the EVE JSON lines file.
    public struct EVESettings: Sendable, Equatable {
        /// `enabled`
        public var enabled = true
        /// `path`: appended to; reopened on SIGHUP (logrotate).
        public var path = "/var/log/ghostport/eve.json"
        /// `anomalies`: an `anomaly` record for every decode event.
        public var anomalies = false
        /// `max_mib`: rotate the file (as logrotate does: PATH.1, PATH.2 ...) when it reaches this
        /// size, so a flood cannot fill the disk; 0: no bound (logrotate alone).
        public var maxMiB = 256
        /// `max_files`: the rotated files kept (PATH.1 to PATH.N and their .gz); older ones are removed.
        public var maxFiles = 14

        public init() {}
    }

    /// `outputs.syslog`: alerts to the system logger. Only alerts are sent; flow, stats and
    /// anomaly records stay in the EVE file.
    public struct SyslogSettings: Sendable, Equatable {
        /// `enabled`
        public var enabled = false
        /// `ident`: the program name syslog shows.
        public var ident = "ghostport"
        /// `facility`: `local0`..`local7`, `auth`, `authpriv`, `daemon`, `user`, ...
        public var facility = SyslogFacility.local5
        /// `format`: `json` (the EVE line) or `text` (Snort-like one line).
        public var format = SyslogFormat.json
        /// `level`: the level by rule priority, keys 1, 2, 3 and 4 (4 and above).
        public var levels = SyslogLevels.standard
        /// `socket`: the logger's Unix datagram socket.
        public var socket = "/dev/log"

        public init() {}
    }

    /// `outputs.redis`: the EVE records also (or, with `outputs.eve.enabled: false`, only) into
    /// Redis. Keys: `enabled`, `url`, `mode` (list, rpush, channel, stream), `key`,
    /// `stream_maxlen`, `queue_mib`.
    public typealias RedisSettings = Redis.RedisSettings

    /// `outputs.evidence`
    public struct EvidenceSettings: Sendable, Equatable {
        /// `dir`: write each alerted flow's packets to `DIR/flow-<flow_id>.pcap`. Nil: none.
        public var directory: String?
        /// `max_files`: at most this many evidence files in `dir`, the oldest removed first
        /// (0: no bound).
        public var maxFiles = 10_000
        /// `max_mib`: at most this many MiB of evidence files in `dir` (0: no bound).
        public var maxMiB = 1_024

        public init() {}
    }

    /// `stats`
    public struct StatsSettings: Sendable, Equatable {
        /// `interval`: seconds between stats records (and textfile updates); 0 turns them off.
        public var intervalSeconds = 30
        /// `prometheus_textfile`: a `.prom` file for node_exporter's textfile collector,
        /// rewritten atomically every interval. Nil: none.
        public var prometheusTextfile: String?

        public init() {}
    }

    /// `flow`
    public struct FlowSettings: Sendable, Equatable {
        /// `memory_mib`: the flow table's bound; a full table evicts.
        public var memoryMiB = 256
        /// `timeouts`: seconds of idleness, by protocol and state.
        public var timeouts = FlowTimeouts.suricata
        /// `per_packet`: every matching packet alerts (Suricata); off, once per flow and sid.
        public var perPacket = false
        /// `community_id_seed`: 0 to 65535.
        public var communityIDSeed: UInt16 = 0

        public init() {}
    }

    /// `scan`: a source touching `ports` watched ports or `hosts` hosts within `seconds`.
    public struct ScanSettings: Sendable, Equatable {
        public var ports = 5
        public var hosts = 5
        public var seconds = 60

        public init() {}
    }

    /// `alerts`: the sensor-wide alert rate limit. Alerts over it are shed (not written) and
    /// counted in the stats; flow records and verdicts are never shed.
    public struct AlertSettings: Sendable, Equatable {
        /// `per_source`: alerts from one source address per window; 0: no limit.
        public var perSource = AlertLimits.live.perSource
        /// `per_sid`: alerts of one sid per window; 0: no limit.
        public var perSid = AlertLimits.live.perSid
        /// `window_seconds`: the window's length, 1 to 86400.
        public var windowSeconds = AlertLimits.live.seconds
        /// `max_sources`: sources tracked at once (about 64 bytes each); a full table evicts.
        public var maxSources = AlertLimits.live.sourceCapacity

        public init() {}

        public var limits: AlertLimits {
            AlertLimits(perSource: perSource, perSid: perSid, seconds: windowSeconds, sourceCapacity: maxSources)
        }
    }

    /// `baseline`: the listeners known to answer on watched ports here (see `ListenerBaseline`).
    public struct BaselineSettings: Sendable, Equatable {
        /// `file`: the baseline file; none (the default): no baseline, alerts as the rules say.
        public var file: String?
        /// `learn_until`: learn new listeners until this time (UTC, `2026-12-11T00:00:00Z`).
        public var learnUntil: Int64?
        /// `learn_days`: learn for this many days from the baseline's `since` (set at the first
        /// start when the file has none), so a restart keeps the same period.
        public var learnDays: Int?
        /// `known`: `alert` (severity 3) or `silent` for a known listener's answer.
        public var known = BaselinePolicy.Known.alert
        /// `max_listeners`: the most listeners the baseline holds (default 100,000).
        public var maxListeners = ListenerBaseline.defaultCapacity
        /// `flush_seconds`: how often what was learned is written to the file (and at exit).
        public var flushSeconds = 300

        public init() {}

        /// Learning's end in nanoseconds, for a baseline learning since `since` (seconds); nil:
        /// no learning period configured.
        public func learnUntil(since: Int64) -> Int64? {
            if let learnUntil { return learnUntil * 1_000_000_000 }
            if let learnDays { return (since + Int64(learnDays) * 86_400) * 1_000_000_000 }
            return nil
        }
    }

    /// `decoder`: which tunnels are opened, on which UDP ports.
    /// `detect`: how rule matches become alerts.
    public struct DetectSettings: Sendable, Equatable {
        /// `threshold_file`: Suricata's threshold.config (`suppress`, `threshold`,
        /// `event_filter`), reloaded with the rules. None by default.
        public var thresholdFile: String?
        /// `flood`: {`per_port`, `sensor_wide`, `window_seconds`, `top_sources`}, the flow-record
        /// budget past which flows that carried nothing are folded (see `FloodLimits`); 0: no budget.
        public var flood = FloodLimits()

        public init() {}
    }

    public struct DecoderSettings: Sendable, Equatable {
        /// `tunnels`: decode GRE, ERSPAN, VXLAN, GENEVE, Teredo and IP in IP; off: see only the outer packets.
        public var tunnels = true
        /// `vxlan_ports`: up to four UDP destination ports carrying VXLAN (default 4789).
        public var vxlanPorts: [UInt16] = [4789]
        /// `geneve_port`: the UDP destination port carrying GENEVE; 0: none.
        public var genevePort: UInt16 = 6081
        /// `teredo_port`: the UDP port (either side) carrying Teredo; 0: none.
        public var teredoPort: UInt16 = 3544

        public init() {}

        public var tunnelPorts: TunnelPorts {
            var ports = TunnelPorts()
            ports.enabled = tunnels
            ports.setVXLAN(vxlanPorts)
            ports.geneve = genevePort
            ports.teredo = teredoPort
            return ports
        }
    }

    /// The engine's settings from this file. The flow hash seed stays random (nil): live,
    /// that resists collision floods.
    public func engineConfiguration() -> EngineConfiguration {
        var configuration = EngineConfiguration()
        configuration.perPacket = flow.perPacket
        configuration.flowMemoryBytes = flow.memoryMiB << 20
        configuration.timeouts = flow.timeouts
        configuration.scan = ScanDetector.Configuration(ports: scan.ports, hosts: scan.hosts, seconds: scan.seconds)
        configuration.anomalies = outputs.eve.anomalies
        configuration.flowHashSeed = nil
        configuration.alertLimits = alerts.limits
        configuration.flood = detect.flood
        configuration.tunnelPorts = decoder.tunnelPorts
        return configuration
    }

    /// How records are written, from this file: the interface (for `in_iface`) and the Community ID seed.
    public func recordSettings() -> RecordSettings {
        var settings = RecordSettings()
        settings.communityIDSeed = flow.communityIDSeed
        settings.interface = interface
        settings.sensorName = sensorName
        return settings
    }

    /// The stats interval, nil when stats are off.
    public var statsInterval: Duration? {
        stats.intervalSeconds > 0 ? .seconds(stats.intervalSeconds) : nil
    }

    /// `FILE:LINE` of a key that was set (`capture.snaplen`, `rules.paths[0]`), or `FILE`
    /// alone, or nil for the built-in defaults.
    public func location(of key: String) -> String? {
        guard let file else { return nil }
        return lines[key].map { "\(file):\($0)" } ?? file
    }

    /// An error about a key's value found after loading (a rules path that does not exist,
    /// an interface that is not there), in the same `FILE:LINE: key: reason` form.
    public func error(at key: String, _ reason: String) -> ConfigError {
        ConfigError(file: file ?? "<defaults>", line: lines[key], key: key, reason: reason)
    }

    /// The interface to capture on: `interface`, or the first that is up and not a loopback.
    public func resolvedInterface() -> String? {
        interface ?? Self.defaultInterface()
    }

    /// The first interface (in the kernel's order) that is up and not a loopback.
    /// The corresponding C function is `getifaddrs`.
    public static func defaultInterface() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            let flags = Int32(bitPattern: current.pointee.ifa_flags)
            if flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0,
               let name = current.pointee.ifa_name {
                return String(cString: name)
            }
            entry = current.pointee.ifa_next
        }
        return nil
    }
}

/// A configuration file that cannot be used: `FILE:LINE: key: reason`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem is the file itself (missing, unreadable).
    public var line: Int?
    /// The dotted key (`capture.snaplen`, `rules.paths[1]`); nil for syntax errors.
    public var key: String?
    public var reason: String

    public init(file: String, line: Int?, key: String?, reason: String) {
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "\(key): " }
        return text + reason
    }
}
