import Capture
import Rules
import Wire

/// The rules' kernel filter compiled to fit the kernel's limit.
public struct FittedKernelFilter: Sendable {
    public var filter: KernelFilter
    public var expression: String
    public var program: BPFProgram
    /// Unwatched ports merged into ranges to make it fit: untagged, behind a VLAN tag.
    public var gap: Int
    public var taggedGap: Int
    /// Built instruction by instruction (a binary search of the ports) rather than compiled
    /// from `expression` by libpcap (a test of every range in turn).
    public var handBuilt: Bool

    /// `382 tcp + 185 udp + 7 sctp ports in 259 ranges, 3012 BPF instructions`.
    public var summary: String {
        var text = "\(filter.summary), \(program.count) BPF instructions"
        if handBuilt {
            if gap > 0 { text += " (binary search; gaps of up to \(gap) unwatched ports merged)" }
            else { text += " (binary search)" }
            return text
        }
        if gap > 0 {
            text += " (gaps of up to \(gap) unwatched ports merged"
            text += taggedGap > 0 ? "; behind a VLAN tag, up to \(taggedGap))" : ")"
        } else if taggedGap > 0 {
            text += " (behind a VLAN tag, gaps of up to \(taggedGap) unwatched ports merged)"
        }
        return text
    }

    /// The program for `filter` on `linkType` in at most `budget` instructions; nil when even
    /// one range per protocol does not fit. Ethernet and Linux SLL get the hand-built binary
    /// search (`BPFProgram.watchedPorts`); other link types libpcap's code for the expression.
    /// Either merges ever larger gaps between watched ranges until the program fits.
    public static func fit(_ filter: KernelFilter, linkType: LinkType, snaplen: Int32,
                           budget: Int = BPFProgram.kernelLimit) throws(CaptureError) -> FittedKernelFilter? {
        let steps = [0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 256, 65_535]
        let vlan = linkType == .ethernet
        for gap in steps {
            let merged = KernelFilter(tcp: KernelFilter.merged(filter.tcp, gap: gap),
                                      udp: KernelFilter.merged(filter.udp, gap: gap),
                                      sctp: KernelFilter.merged(filter.sctp, gap: gap), allICMP: filter.allICMP)
            guard let program = BPFProgram.watchedPorts(linkType: linkType, snaplen: snaplen, tcp: merged.tcp.ranges,
                                                        udp: merged.udp.ranges, sctp: merged.sctp.ranges,
                                                        allICMP: filter.allICMP, tunnels: filter.tunnels) else { break }
            if program.count <= budget {
                return FittedKernelFilter(filter: filter, expression: filter.expression(vlan: vlan, gap: gap, taggedGap: gap),
                                          program: program, gap: gap, taggedGap: gap, handBuilt: true)
            }
        }
        return try fitExpression(filter, linkType: linkType, snaplen: snaplen, budget: budget)
    }

    /// The expression compiled by libpcap in at most `budget` instructions, merging gaps (behind
    /// a VLAN tag first, where Linux rarely leaves a tag in the frame) until it fits; nil when it
    /// never does. What `ghostport rules filter` prints, for tcpdump.
    public static func fitExpression(_ filter: KernelFilter, linkType: LinkType, snaplen: Int32,
                                     budget: Int = BPFProgram.kernelLimit) throws(CaptureError) -> FittedKernelFilter? {
        let steps = [0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 256, 65_535]
        let vlan = linkType == .ethernet
        // libpcap's `vlan` exists for Ethernet-like link types only; elsewhere no tag is in the way.
        let candidates = steps.map { (0, $0) } + steps.dropFirst().map { ($0, 65_535) }
        for (gap, taggedGap) in candidates where vlan || taggedGap == 0 || gap > 0 {
            let expression = filter.expression(vlan: vlan, gap: gap, taggedGap: vlan ? taggedGap : gap)
            let program = try BPFProgram.compile(expression, linkType: linkType, snaplen: snaplen)
            if program.count <= budget {
                return FittedKernelFilter(filter: filter, expression: expression, program: program, gap: gap,
                                          taggedGap: vlan ? taggedGap : 0, handBuilt: false)
            }
        }
        return nil
    }

    /// The filter for `rules` (nil for `off`), or why there is none, in the words of the start log.
    public static func plan(_ mode: KernelFilterMode, rules: RuleSet, anomalies: Bool, tunnels: TunnelPorts = TunnelPorts(),
                            linkType: LinkType, snaplen: Int32,
                            budget: Int = BPFProgram.kernelLimit) -> Result<FittedKernelFilter?, KernelFilter.Unavailable> {
        guard mode == .auto else { return .success(nil) }
        switch KernelFilter.make(rules: rules, anomalies: anomalies, tunnels: tunnels) {
        case .failure(let unavailable):
            return .failure(unavailable)
        case .success(let filter):
            do {
                guard let fitted = try fit(filter, linkType: linkType, snaplen: snaplen, budget: budget) else {
                    return .failure(KernelFilter.Unavailable(reason: "\(filter.summary) do not fit in \(budget) BPF instructions"))
                }
                return .success(fitted)
            } catch {
                return .failure(KernelFilter.Unavailable(reason: error.reason))
            }
        }
    }

    /// The start log's line for a plan.
    public static func report(_ plan: Result<FittedKernelFilter?, KernelFilter.Unavailable>, userFilter: BPFProgram?) -> String {
        switch plan {
        case .success(let fitted?):
            let behind = userFilter.map { ", after the bpf filter's \($0.count)" } ?? ""
            return "kernel filter: auto, \(fitted.summary)\(behind)"
        case .success(nil):
            return "kernel filter: off"
        case .failure(let unavailable):
            return "kernel filter: off (\(unavailable.reason))"
        }
    }
}

/// A kernel filter plan: the rules' fitted filter (nil for `off`), or why there is none.
public typealias KernelFilterPlan = Result<FittedKernelFilter?, KernelFilter.Unavailable>

/// What the sensor needs to make and install its kernel filter, at start and on each reload.
public struct KernelFilterInstaller: Sendable {
    public var mode: KernelFilterMode
    public var anomalies: Bool
    /// The tunnels the engine decodes: the filter keeps their packets.
    public var tunnels: TunnelPorts
    public var linkType: LinkType
    public var snaplen: Int32
    /// The configured `bpf` filter, compiled for the capture; the rules' filter runs after it.
    public var user: BPFProgram?

    public init(mode: KernelFilterMode, anomalies: Bool, tunnels: TunnelPorts = TunnelPorts(), linkType: LinkType,
                snaplen: Int32, user: BPFProgram?) {
        self.mode = mode
        self.anomalies = anomalies
        self.tunnels = tunnels
        self.linkType = linkType
        self.snaplen = snaplen
        self.user = user
    }

    public func plan(rules: RuleSet) -> KernelFilterPlan {
        FittedKernelFilter.plan(mode, rules: rules, anomalies: anomalies, tunnels: tunnels, linkType: linkType, snaplen: snaplen,
                                budget: BPFProgram.kernelLimit - (user?.count ?? 0))
    }

    /// Whether `plan` installs exactly what `installed` did: then a reload leaves the kernel's
    /// filter alone, since libpcap's pcap_setfilter briefly rejects every packet while it
    /// swaps filters on a live socket.
    public func installsSameProgram(_ plan: KernelFilterPlan, as installed: KernelFilterPlan) -> Bool {
        switch (plan, installed) {
        case (.success(let new?), .success(let old?)): new.program.isSame(as: old.program)
        case (.success(.some), _), (_, .success(.some)): false
        default: true  // neither installs a rules' filter: both leave the user's, or none
        }
    }

    /// Installs what `plan` says on `capture` (the user's filter alone, or nothing at all, when
    /// there is no rules' filter) and returns the line to log.
    public func install(_ plan: KernelFilterPlan, on capture: LiveCapture) -> String {
        guard mode == .auto else { return FittedKernelFilter.report(plan, userFilter: user) }
        var program: BPFProgram?
        if case .success(let fitted?) = plan {
            program = fitted.program
            if let user {
                guard let both = user.then(fitted.program) else {
                    return "kernel filter: off (the bpf filter's program cannot be extended)"
                }
                program = both
            }
        } else {
            // A reload may take away a filter installed before: keep only the user's, or everything.
            program = user ?? (try? capture.compile(""))
        }
        do {
            if let program { try capture.install(program) }
        } catch {
            return "kernel filter: off (\(error.reason))"
        }
        return FittedKernelFilter.report(plan, userFilter: user)
    }
}
