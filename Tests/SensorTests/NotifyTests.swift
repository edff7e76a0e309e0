import Foundation
import Sensor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// systemd's notification protocol: the watchdog only for the process it names, datagrams to the socket.
@Suite struct NotifyTests {
    @Test("WATCHDOG_USEC without WATCHDOG_PID, or with this process's pid, asks for pings; another pid's does not")
    func watchdogBelongsToTheNamedProcess() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "2000000"], pid: 42).watchdogInterval == 2_000_000_000)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "42"], pid: 42).watchdogInterval
            == 2_000_000_000)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "41"], pid: 42).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "x"], pid: 42).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"], pid: 42).watchdogInterval == nil)
        #expect(SystemdNotifier(environment: [:], pid: 42).watchdogInterval == nil)
    }

    @Test("a state update arrives whole as one datagram on $NOTIFY_SOCKET")
    func sendsToTheSocket() throws {
        let path = NSTemporaryDirectory() + "gp-notify-\(getpid())-\(UInt32.random(in: 0 ... .max)).sock"
        defer { unlink(path) }
        let receiver = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(receiver >= 0)
        defer { close(receiver) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(receiver, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)

        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.isActive)
        notifier.send("READY=1\nSTATUS=capturing on eth0")
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { recv(receiver, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        #expect(count > 0 && String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == "READY=1\nSTATUS=capturing on eth0")
        #expect(!SystemdNotifier(environment: [:]).isActive)
    }
}
