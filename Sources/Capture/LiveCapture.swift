import CPcap
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// How to open a live capture; the config file and the command line fill it.
public struct LiveOptions: Sendable, Equatable {
    /// The interface; nil picks the first up, running, non-loopback one. `any` works.
    public var interface: String?
    public var snaplen: Int32 = 262_144
    public var promiscuous = true
    /// Deliver packets as they arrive rather than when a kernel buffer block fills.
    public var immediate = false
    /// The kernel ring buffer, in bytes.
    public var bufferBytes: Int32 = 64 << 20
    /// How long a read waits before returning with nothing (lets the loop see signals).
    public var readTimeoutMilliseconds: Int32 = 100
    /// A BPF filter expression (tcpdump syntax), applied in the kernel.
    public var filter: String?
    /// Join this `PACKET_FANOUT` group; nil: a socket of its own.
    public var fanout: Fanout?

    public init() {}
}

/// A `PACKET_FANOUT` group: the sockets that share an interface's packets, each packet to one.
public struct Fanout: Sendable, Equatable {
    public var group: UInt16
    /// Picks each packet's socket (`PACKET_FANOUT_CBPF`: its value modulo the sockets); nil:
    /// the kernel's symmetric flow hash (`PACKET_FANOUT_HASH`).
    public var program: BPFProgram?

    public init(group: UInt16, program: BPFProgram?) {
        self.group = group
        self.program = program
    }

    public static func == (a: Fanout, b: Fanout) -> Bool {
        guard a.group == b.group else { return false }
        switch (a.program, b.program) {
        case (nil, nil): return true
        case (let x?, let y?): return x.isSame(as: y)
        default: return false
        }
    }
}

/// One read from a live capture.
public enum LiveRead {
    case packet(CaptureRecord)
    /// The read timeout passed with no packet.
    case timeout
    /// The capture failed (the interface went down or disappeared); reopen it.
    case failed(String)
}

/// A 32-bit counter from libpcap widened to 64 bits across wraps and reopenings.
public struct WidenedCounter: Sendable, Equatable {
    public private(set) var total: UInt64 = 0
    private var last: UInt32 = 0

    public init() {}

    /// Takes a new reading of the raw counter; a wrap adds the difference modulo 2^32.
    public mutating func update(_ raw: UInt32) {
        total &+= UInt64(raw &- last)
        last = raw
    }

    /// The capture was reopened: its counters start again from zero.
    public mutating func restart() { last = 0 }
}

/// A libpcap live capture, opened with `pcap_create` and the options set one by one.
public final class LiveCapture {
    public let interface: String
    public let linkType: LinkType
    public let linkTypeName: String
    private let handle: OpaquePointer
    private let selectableFD: Int32
    private let timeoutMilliseconds: Int32
    /// Non-fatal things libpcap said while opening (promiscuous mode unsupported, ...).
    public private(set) var warnings: [String] = []

    /// Opens and activates the capture, then installs the filter.
    /// The corresponding C functions are `pcap_create`, `pcap_set_snaplen`, `pcap_set_promisc`,
    /// `pcap_set_immediate_mode`, `pcap_set_buffer_size`, `pcap_set_timeout`, `pcap_activate`,
    /// `pcap_compile` and `pcap_setfilter`.
    public init(options: LiveOptions) throws(CaptureError) {
        guard let name = options.interface ?? Self.defaultInterface() else {
            throw .openFailed(path: "(no interface)", reason: "no up, running, non-loopback interface to capture on; name one")
        }
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_create(name, &errbuf) else {
            throw .openFailed(path: name, reason: Self.text(errbuf))
        }
        pcap_set_snaplen(handle, options.snaplen)
        pcap_set_promisc(handle, options.promiscuous ? 1 : 0)
        pcap_set_immediate_mode(handle, options.immediate ? 1 : 0)
        pcap_set_buffer_size(handle, options.bufferBytes)
        pcap_set_timeout(handle, options.readTimeoutMilliseconds)
        let status = pcap_activate(handle)
        if status < 0 {
            let reason = Self.activationError(status, handle: handle)
            pcap_close(handle)
            throw .openFailed(path: name, reason: reason)
        }
        if status > 0 { warnings.append(Self.activationError(status, handle: handle)) }
        if let filter = options.filter, !filter.isEmpty {
            var program = bpf_program()
            guard pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
                let reason = String(cString: pcap_geterr(handle))
                pcap_close(handle)
                throw .openFailed(path: name, reason: "bad filter '\(filter)': \(reason)")
            }
            defer { pcap_freecode(&program) }
            guard pcap_setfilter(handle, &program) == 0 else {
                let reason = String(cString: pcap_geterr(handle))
                pcap_close(handle)
                throw .openFailed(path: name, reason: "could not install filter: \(reason)")
            }
        }
        if let fanout = options.fanout {
            // No DEFRAG flag: every member sees the packets as they came, as one socket does.
            let fd = pcap_fileno(handle)
            var value = UInt32(fanout.group) | UInt32(fanout.program == nil ? PACKET_FANOUT_HASH : PACKET_FANOUT_CBPF) << 16
            var failure: String?
            if setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &value, socklen_t(MemoryLayout<UInt32>.size)) != 0 {
                failure = "cannot join packet fanout group \(fanout.group): \(String(cString: strerror(errno)))"
            } else if let program = fanout.program {
                let status = program.withProgram { program in
                    var code = sock_fprog(len: UInt16(program.bf_len), filter: UnsafeMutableRawPointer(program.bf_insns)?
                        .assumingMemoryBound(to: sock_filter.self))
                    return setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &code, socklen_t(MemoryLayout<sock_fprog>.size))
                }
                if status != 0 { failure = "cannot set the packet fanout program: \(String(cString: strerror(errno)))" }
            }
            if let failure {
                pcap_close(handle)
                throw .openFailed(path: name, reason: failure)
            }
        }
        let (linkType, dltName) = try supportedLinkType(of: handle, path: name)
        // Reads never block inside libpcap: `next` polls with its own timeout, because a
        // TPACKET_V3 read with no traffic at all can wait far past the configured timeout.
        let selectable = pcap_get_selectable_fd(handle)
        guard selectable >= 0, pcap_setnonblock(handle, 1, &errbuf) == 0 else {
            pcap_close(handle)
            throw .openFailed(path: name, reason: "cannot poll the capture: \(Self.text(errbuf))")
        }
        self.selectableFD = selectable
        self.timeoutMilliseconds = options.readTimeoutMilliseconds
        self.interface = name
        self.handle = handle
        self.linkType = linkType
        self.linkTypeName = linkType.name ?? dltName
    }

    deinit { pcap_close(handle) }

    /// The next packet, a timeout, or a failure. The packet's bytes are valid until the next call.
    /// `beforeWaiting` runs when nothing is pending and the call is about to wait for the
    /// interface: the moment to hand on what was read so far (the capture thread publishes its
    /// ring batch, so a lone packet never waits for a read timeout).
    /// The corresponding C function is `pcap_next_ex`.
    @inline(__always)
    public func next(beforeWaiting: () -> Void = {}) -> LiveRead {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        var status = pcap_next_ex(handle, &header, &data)
        if status == 0 {
            beforeWaiting()
            var poller = pollfd(fd: selectableFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeoutMilliseconds)
            if ready == 0 { return .timeout }
            status = pcap_next_ex(handle, &header, &data)
            if status == 0 && poller.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                return .failed("the interface went down or disappeared")
            }
        }
        if status == 1, let header, let data {
            return .packet(CaptureRecord(
                seconds: Int64(header.pointee.ts.tv_sec),
                nanoseconds: UInt32(truncatingIfNeeded: header.pointee.ts.tv_usec) &* 1000,
                originalLength: Int(header.pointee.len),
                bytes: UnsafeRawBufferPointer(start: data, count: Int(header.pointee.caplen))))
        }
        if status == 0 { return .timeout }
        if status == PCAP_ERROR_BREAK { return .timeout }
        return .failed(String(cString: pcap_geterr(handle)))
    }

    /// Compiles `expression` for this capture (with Linux's VLAN-metadata tests where libpcap adds them).
    /// The corresponding C function is `pcap_compile`.
    public func compile(_ expression: String) throws(CaptureError) -> BPFProgram {
        do {
            return try BPFProgram.compile(expression, on: handle)
        } catch {
            throw .openFailed(path: interface, reason: error.reason)
        }
    }

    /// Replaces the capture's filter; the kernel runs it from the next packet on.
    /// The corresponding C function is `pcap_setfilter`.
    public func install(_ program: BPFProgram) throws(CaptureError) {
        let status = program.withProgram { pcap_setfilter(handle, &$0) }
        guard status == 0 else {
            throw .openFailed(path: interface, reason: "could not install filter: \(String(cString: pcap_geterr(handle)))")
        }
    }

    /// libpcap's raw counters: received, dropped for lack of buffer, dropped by the interface.
    /// The corresponding C function is `pcap_stats`.
    public func rawStats() -> (received: UInt32, dropped: UInt32, interfaceDropped: UInt32)? {
        var stats = pcap_stat()
        guard pcap_stats(handle, &stats) == 0 else { return nil }
        return (stats.ps_recv, stats.ps_drop, stats.ps_ifdrop)
    }

    /// The names of every device libpcap can capture on, up or not (`tcpdump -D`).
    /// The corresponding C function is `pcap_findalldevs`.
    public static func interfaceNames() -> [String] {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &errbuf) == 0, let first = list else { return [] }
        defer { pcap_freealldevs(first) }
        var names: [String] = []
        var device: UnsafeMutablePointer<pcap_if_t>? = first
        while let current = device {
            names.append(String(cString: current.pointee.name))
            device = current.pointee.next
        }
        return names
    }

    /// The first interface that is up and running and not loopback, as `tcpdump` picks one.
    /// The corresponding C function is `pcap_findalldevs`.
    public static func defaultInterface() -> String? {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &errbuf) == 0, let first = list else { return nil }
        defer { pcap_freealldevs(first) }
        var device: UnsafeMutablePointer<pcap_if_t>? = first
        while let current = device {
            let flags = current.pointee.flags
            let name = String(cString: current.pointee.name)
            if flags & UInt32(PCAP_IF_LOOPBACK) == 0 && flags & UInt32(PCAP_IF_UP) != 0
                && flags & UInt32(PCAP_IF_RUNNING) != 0 && name != "any" {
                return name
            }
            device = current.pointee.next
        }
        return nil
    }

    private static func activationError(_ status: Int32, handle: OpaquePointer) -> String {
        let detail = String(cString: pcap_geterr(handle))
        let summary = String(cString: pcap_statustostr(status))
        return detail.isEmpty || detail == summary ? summary : "\(summary): \(detail)"
    }

    private static func text(_ errbuf: [CChar]) -> String {
        String(decoding: errbuf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
