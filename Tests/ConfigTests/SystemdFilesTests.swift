import Foundation
import Testing
import TestSupport

private let systemd = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("systemd").path

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "ghostport-systemd-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs a tool, returning its exit status and what it printed (both streams).
private func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

@Suite struct SystemdFilesTests {
    @Test(Prerequisite.trait(Prerequisite.tools("systemd-analyze", packages: ["systemd-analyze": "systemd"])))
    func theUnitVerifies() throws {
        let analyze = try Prerequisite.path(of: "systemd-analyze", package: "systemd")
        let unit = try String(contentsOfFile: systemd + "/ghostport.service", encoding: .utf8)
        // The binary is not installed here: the same unit, starting /bin/true.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = unit.replacingOccurrences(of: "ExecStart=/usr/local/bin/ghostport ", with: "ExecStart=/bin/true ")
        #expect(copy != unit)
        try copy.write(toFile: directory + "/ghostport.service", atomically: true, encoding: .utf8)
        let (status, output) = try run(analyze, ["verify", directory + "/ghostport.service"])
        #expect(status == 0, "\(output)")
        #expect(output.isEmpty, "systemd-analyze verify said: \(output)")
    }

    /// systemd's own exposure score of the sandbox: 1.6 (from 4.0 before issue 15). What is left
    /// is what capture needs (AF_PACKET, CAP_NET_RAW and CAP_NET_ADMIN, the host's network).
    @Test(Prerequisite.trait(Prerequisite.tools("systemd-analyze", packages: ["systemd-analyze": "systemd"])))
    func theSandboxScoresAtMost1Point6() throws {
        let analyze = try Prerequisite.path(of: "systemd-analyze", package: "systemd")
        let unit = try String(contentsOfFile: systemd + "/ghostport.service", encoding: .utf8)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try unit.write(toFile: directory + "/ghostport.service", atomically: true, encoding: .utf8)
        let (status, output) = try run(analyze, ["security", "--offline=true", "--threshold=16", "--no-pager",
                                                 directory + "/ghostport.service"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("Overall exposure level for ghostport.service: 1.6"), "\(output)")
    }

    @Test func theUnitHasTheSettingsTheSensorNeeds() throws {
        let unit = try String(contentsOfFile: systemd + "/ghostport.service", encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        for setting in [
            "Type=notify", "NotifyAccess=main", "WatchdogSec=30",
            "ExecStart=/usr/local/bin/ghostport run --config /etc/ghostport/ghostport.yaml",
            "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
            "User=ghostport", "Group=ghostport",
            "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN", "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN",
            "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
            "ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectControlGroups=yes",
            "RestrictAddressFamilies=AF_UNIX AF_PACKET AF_NETLINK AF_INET AF_INET6", "RestrictNamespaces=yes",
            "LockPersonality=yes", "MemoryDenyWriteExecute=yes", "RestrictRealtime=yes", "SystemCallArchitectures=native",
            "LogsDirectory=ghostport", "StateDirectory=ghostport", "ConfigurationDirectory=ghostport",
            "LimitNOFILE=65536", "WantedBy=multi-user.target", "RestartPreventExitStatus=2",
            "SystemCallFilter=@system-service", "SystemCallFilter=~@privileged @resources", "SystemCallErrorNumber=EPERM",
            "ProtectProc=invisible", "ProcSubset=pid", "PrivateMounts=yes", "RemoveIPC=yes", "IPAddressDeny=any",
        ] {
            #expect(lines.contains(setting), "missing \(setting)")
        }
    }

    @Test(Prerequisite.trait(Prerequisite.tools("logrotate")))
    func theLogrotateSnippetParses() throws {
        let logrotate = try Prerequisite.path(of: "logrotate")
        let snippet = try String(contentsOfFile: systemd + "/ghostport.logrotate", encoding: .utf8)
        #expect(snippet.contains("postrotate\n        systemctl reload ghostport.service"))
        // Dry run (-d) on a copy pointing at a temporary log, owned by an account that exists here.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = snippet.replacingOccurrences(of: "/var/log/ghostport/", with: directory + "/")
            .replacingOccurrences(of: "create 0640 ghostport ghostport", with: "create 0640 root root")
        try copy.write(toFile: directory + "/ghostport", atomically: true, encoding: .utf8)
        try "{}\n".write(toFile: directory + "/eve.json", atomically: true, encoding: .utf8)
        let (status, output) = try run(logrotate, ["-d", "-s", directory + "/state", directory + "/ghostport"])
        #expect(status == 0, "\(output)")
        #expect(!output.contains("error:"), "\(output)")
        #expect(output.contains("rotating pattern: \(directory)/eve.json"), "\(output)")
    }

    @Test(Prerequisite.trait(Prerequisite.tools("systemd-sysusers", packages: ["systemd-sysusers": "systemd"])))
    func theAccountIsCreatedBySysusers() throws {
        let sysusers = try Prerequisite.path(of: "systemd-sysusers", package: "systemd")
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        let (status, output) = try run(sysusers, ["--root=" + root, systemd + "/sysusers.d-ghostport.conf"])
        #expect(status == 0, "\(output)")
        let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8)
        let entry = passwd.split(separator: "\n").first { $0.hasPrefix("ghostport:") }.map(String.init)
        #expect(entry?.hasSuffix(":ghostport sensor:/var/lib/ghostport:/usr/sbin/nologin") == true, "\(passwd)")
    }
}
