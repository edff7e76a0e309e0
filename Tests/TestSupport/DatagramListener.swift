#if canImport(Glibc)
import Glibc
#endif

/// A Unix datagram socket bound at a path, as a logger's `/dev/log` or systemd's
/// `NOTIFY_SOCKET` is: the tests that need a peer for the sensor's datagrams bind one.
/// Closing it leaves the socket file behind, nobody serving it (a logger that died).
public final class DatagramListener {
    public let path: String
    private var fd: Int32

    /// Binds `path`; nil with errno set when it cannot.
    public init?(_ path: String) {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            return nil
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            Glibc.close(fd)
            return nil
        }
    }

    deinit { close() }

    /// Stops serving; the socket file stays.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// The datagrams waiting, oldest first, without waiting for more.
    public func messages() -> [String] {
        var result: [String] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while fd >= 0 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            result.append(String(decoding: buffer[..<n], as: UTF8.self))
        }
        return result
    }
}
