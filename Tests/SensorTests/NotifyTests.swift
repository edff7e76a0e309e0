import Foundation
import Sensor
import Testing
import TestSupport

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
        let receiver = try #require(DatagramListener(path))

        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(notifier.isActive)
        notifier.send("READY=1\nSTATUS=capturing on eth0")
        #expect(receiver.messages() == ["READY=1\nSTATUS=capturing on eth0"])
        #expect(!SystemdNotifier(environment: [:]).isActive)
    }
}
