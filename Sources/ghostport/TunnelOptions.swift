import ArgumentParser
import Wire

/// Which tunnels are opened, shared by `read`, `run` and `decode` (the config file's `decoder`).
struct TunnelOptions: ParsableArguments {
    @Flag(name: .customLong("no-tunnels"),
          help: "Do not look inside GRE, ERSPAN, VXLAN, GENEVE, Teredo or IP in IP: see only the outer packets.")
    var noTunnels = false

    @Option(name: .customLong("vxlan-port"),
            help: "A UDP destination port carrying VXLAN (repeatable, at most 4; replaces the default 4789).")
    var vxlanPorts: [UInt16] = []

    @Option(name: .customLong("geneve-port"), help: "The UDP destination port carrying GENEVE (default 6081; 0: none).")
    var genevePort: UInt16?

    @Option(name: .customLong("teredo-port"), help: "The UDP port carrying Teredo (default 3544; 0: none).")
    var teredoPort: UInt16?

    func validate() throws {
        if vxlanPorts.count > 4 { throw ValidationError("--vxlan-port: at most 4 ports") }
        if vxlanPorts.contains(0) { throw ValidationError("--vxlan-port: 0 is not a port") }
    }

    /// Sets what was given on the command line, leaving the rest (a config file's) alone.
    func apply(to ports: inout TunnelPorts) {
        if noTunnels { ports.enabled = false }
        if !vxlanPorts.isEmpty { ports.setVXLAN(vxlanPorts) }
        if let genevePort { ports.geneve = genevePort }
        if let teredoPort { ports.teredo = teredoPort }
    }

    /// The defaults with what was given on the command line.
    var ports: TunnelPorts {
        var ports = TunnelPorts()
        apply(to: &ports)
        return ports
    }
}
