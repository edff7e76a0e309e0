import Detect
import Testing
import Wire

/// The sensor-wide alert limit: per source and per sid, fixed windows in packet time, a bounded
/// source table, and the engine writing only what it admits while flows and verdicts go on.
@Suite struct AlertLimitTests {
    static let second: Int64 = 1_000_000_000

    private func address(_ n: UInt32) -> IPAddress { IPAddress(ipv4: 0x2D00_0000 | n) }

    // MARK: The limiter alone

    @Test func perSourceLimitShedsTheRestOfTheWindow() {
        var limiter = AlertLimiter(limits: AlertLimits(perSource: 3, perSid: 0, seconds: 60))
        let decisions = (0..<5).map { i in limiter.admit(sid: UInt32(100 + i), source: address(1), time: Int64(i) * Self.second) }
        #expect(decisions == [.allowed, .allowed, .allowed, .shedBySource, .shedBySource])
        #expect(limiter.admit(sid: 100, source: address(2), time: 5 * Self.second) == .allowed, "another source has its own budget")
        #expect(limiter.shedBySource == 2)
        #expect(limiter.shedBySid == 0)
    }

    @Test func perSidLimitCountsEverySource() {
        var limiter = AlertLimiter(limits: AlertLimits(perSource: 0, perSid: 2, seconds: 60))
        let decisions = (0..<4).map { i in limiter.admit(sid: 9_005_710, source: address(UInt32(i)), time: 0) }
        #expect(decisions == [.allowed, .allowed, .shedBySid, .shedBySid])
        #expect(limiter.admit(sid: 9_005_711, source: address(9), time: 0) == .allowed, "another sid has its own budget")
        #expect(limiter.shedBySid == 2)
    }

    /// A window starts at its key's first alert and lasts `seconds` of packet time.
    @Test func windowRollsOver() {
        var limiter = AlertLimiter(limits: AlertLimits(perSource: 1, perSid: 2, seconds: 10))
        #expect(limiter.admit(sid: 1, source: address(1), time: 0) == .allowed)
        #expect(limiter.admit(sid: 1, source: address(1), time: 9 * Self.second) == .shedBySource)
        #expect(limiter.admit(sid: 1, source: address(1), time: 10 * Self.second) == .allowed, "the source's window rolled")
        #expect(limiter.admit(sid: 1, source: address(2), time: 11 * Self.second) == .allowed)
        #expect(limiter.admit(sid: 1, source: address(3), time: 12 * Self.second) == .shedBySid,
                "sid 1 has had two in the window it began at 10 s")
        #expect(limiter.admit(sid: 1, source: address(3), time: 20 * Self.second) == .allowed, "and that window rolled at 20 s")
    }

    /// Shed by its source, an alert does not use up its sid's budget (and the other way round).
    @Test func oneReasonPerShedAlert() {
        var limiter = AlertLimiter(limits: AlertLimits(perSource: 1, perSid: 2, seconds: 60))
        #expect(limiter.admit(sid: 7, source: address(1), time: 0) == .allowed)
        #expect(limiter.admit(sid: 7, source: address(1), time: 0) == .shedBySource)
        #expect(limiter.admit(sid: 7, source: address(2), time: 0) == .allowed, "the source's shed alert took no sid budget")
        #expect(limiter.admit(sid: 7, source: address(3), time: 0) == .shedBySid)
        #expect(limiter.admit(sid: 8, source: address(3), time: 0) == .allowed, "the sid's shed alert took no source budget")
        #expect((limiter.shedBySource, limiter.shedBySid) == (1, 1))
    }

    @Test func unlimitedAdmitsEverythingAndTracksNothing() {
        var limiter = AlertLimiter(limits: .unlimited)
        for i in 0..<10_000 { #expect(limiter.admit(sid: 1, source: address(UInt32(i)), time: 0) == .allowed) }
        #expect(limiter.trackedSources == 0)
        #expect(limiter.episode == nil)
    }

    /// A flood of sources never grows the table past its capacity; sources under the limit go
    /// first, a source being shed is kept, and early evictions are counted.
    @Test func sourceTableIsBounded() {
        let capacity = 1_024
        var limiter = AlertLimiter(limits: AlertLimits(perSource: 2, perSid: 0, seconds: 60, sourceCapacity: capacity))
        // One noisy source at its limit, then 20,000 spoofed ones with one alert each.
        #expect(limiter.admit(sid: 1, source: address(0), time: 0) == .allowed)
        #expect(limiter.admit(sid: 1, source: address(0), time: 0) == .allowed)
        var peak = 0
        for i in 1...20_000 {
            #expect(limiter.admit(sid: 1, source: address(UInt32(i)), time: Self.second) == .allowed)
            peak = max(peak, limiter.trackedSources)
        }
        #expect(peak <= capacity)
        #expect(limiter.evicted > 0)
        #expect(limiter.evicted + UInt64(limiter.trackedSources) == 20_001, "every source is tracked or counted as evicted")
        #expect(limiter.admit(sid: 1, source: address(0), time: 2 * Self.second) == .shedBySource,
                "the source at its limit survived the sweeps")
    }

    /// Expired windows are swept before anything is evicted: nothing counts as evicted then.
    @Test func expiredWindowsAreSweptNotEvicted() {
        var limiter = AlertLimiter(limits: AlertLimits(perSource: 5, perSid: 0, seconds: 10, sourceCapacity: 1_024))
        for i in 0..<1_024 { _ = limiter.admit(sid: 1, source: address(UInt32(i)), time: 0) }
        #expect(limiter.trackedSources == 1_024)
        for i in 1_024..<2_048 { _ = limiter.admit(sid: 1, source: address(UInt32(i)), time: 11 * Self.second) }
        #expect(limiter.trackedSources == 1_024)
        #expect(limiter.evicted == 0)
    }

    /// Shedding opens an episode; it ends a window later with what was shed and the worst offenders.
    @Test func episodeSummarisesAWindowOfShedding() throws {
        let limits = AlertLimits(perSource: 1, perSid: 3, seconds: 60)
        var limiter = AlertLimiter(limits: limits)
        _ = limiter.admit(sid: 5, source: address(1), time: 0)
        #expect(limiter.episode == nil)
        for _ in 0..<4 { _ = limiter.admit(sid: 5, source: address(1), time: Self.second) }
        for i in 2...5 { _ = limiter.admit(sid: 5, source: address(UInt32(i)), time: 2 * Self.second) }
        #expect(limiter.endEpisode(now: 60 * Self.second) == nil, "a window after the first shed alert, not before")
        let ended = limiter.endEpisode(now: 61 * Self.second)
        let episode = try #require(ended)
        #expect(episode.bySource == 4 && episode.bySid == 2)
        #expect(episode.topSource == address(1) && episode.topSourceShed == 4)
        #expect(episode.topSid == 5 && episode.topSidShed == 2)
        #expect(episode.summary(limits: limits)
                == "alert limit: 6 alerts shed in the 60 s after shedding began (4 over per_source 1, 2 over per_sid 3); most shed: sid 5 (2), source 45.0.0.1 (4)")
        #expect(limiter.episode == nil)
    }

    // MARK: In the engine

    /// Ten flows from one source and ten from others to 571/tcp, per_source 3 and per_sid 8: the
    /// alerts written stay within both, the rest are counted as shed by reason, every flow still
    /// ends with its record (alerted, the sid listed) and verdict, and the log has one line when
    /// shedding begins and one summary, not a line per alert.
    @Test func engineWritesOnlyWhatTheLimitsAdmit() throws {
        var logged: [String] = []
        let h = try EngineHarness(rules: TestRules.udemon) { configuration in
            configuration.alertLimits = AlertLimits(perSource: 3, perSid: 8, seconds: 60)
        }
        h.engine.log = { logged.append($0) }
        for i in 0..<10 {
            h.feed(Probe(client: "45.77.1.9", sport: UInt16(30_000 + i)).syn, at: Double(i) * 0.1)
            h.feed(Probe(client: "45.77.2.\(i + 1)", sport: 40_000).syn, at: 1 + Double(i) * 0.1)
        }
        let records = try h.finish()
        let alerts = records.alerts(sid: 9_005_710)
        let fromNoisy = alerts.filter { $0["src_ip"] as? String == "45.77.1.9" }
        #expect(fromNoisy.count == 3, "per_source 3")
        #expect(alerts.count == 8, "per_sid 8: 3 from the noisy source, 5 from the others")
        #expect(records.ghostportStats?[path: "detect", "alerts_shed_source"] as? Int == 7)
        #expect(records.ghostportStats?[path: "detect", "alerts_shed_sid"] as? Int == 5)
        #expect(records.stats?[path: "detect", "alert"] as? Int == 8)
        #expect(records.ghostportStats?[path: "detect", "alert_sources_evicted"] as? Int == 0)
        #expect(records.flows.count == 20, "every flow ends with its record")
        #expect(records.flows.allSatisfy { $0[path: "flow", "alerted"] as? Bool == true })
        #expect(records.flows.allSatisfy { ($0.ghostport?["sids"] as? [Int]) == [9_005_710] })
        #expect(records.verdicts == Array(repeating: "unanswered", count: 20))
        #expect(logged.count == 2, "\(logged)")
        #expect(logged.first?.hasPrefix("alert limit: source 45.77.1.9 reached per_source 3 alerts in 60 s") == true, "\(logged)")
        #expect(logged.last == "alert limit: 12 alerts shed in the 60 s after shedding began (7 over per_source 3, 5 over per_sid 8); most shed: sid 9005710 (5), source 45.77.1.9 (7)")
    }

    /// Once per flow and sid still holds while shedding: the flow's later matches are repeats,
    /// so shed + written equals what an unlimited run writes.
    @Test func shedAlertIsStillTheFlowsAlert() throws {
        func run(_ limits: AlertLimits) throws -> [[String: Any]] {
            let h = try EngineHarness(rules: TestRules.udemon) { $0.alertLimits = limits }
            for i in 0..<6 {
                let probe = Probe(client: "45.77.3.\(i + 1)", sport: 40_000)
                h.feed(probe.udpRequest, at: Double(i))
                h.feed(probe.udpRequest, at: Double(i) + 0.5)
            }
            return try h.finish()
        }
        let unlimited = try run(.unlimited)
        let limited = try run(AlertLimits(perSource: 0, perSid: 2, seconds: 60))
        #expect(unlimited.alerts.count == 6)
        #expect(limited.alerts.count == 2)
        #expect(limited.ghostportStats?[path: "detect", "alerts_shed_sid"] as? Int == 4)
        #expect(limited.ghostportStats?[path: "detect", "repeats"] as? Int == unlimited.ghostportStats?[path: "detect", "repeats"] as? Int)
        #expect(limited.flows.count == unlimited.flows.count)
    }

    /// Scan alerts are alerts: they count against their source's budget like any other.
    @Test func scanAlertsAreLimited() throws {
        let h = try EngineHarness(rules: TestRules.probes(tcp: 600...700)) { configuration in
            configuration.alertLimits = AlertLimits(perSource: 5, perSid: 0, seconds: 60)
            configuration.scan = ScanDetector.Configuration(ports: 5, hosts: 5, seconds: 1)
        }
        // Ten ports at once (one scan, at the fifth, before its rule alert), then ten more 2 s
        // later (a second scan, its window over): the budget of 5 is spent by the fifth alert.
        for port in 600..<610 { h.feed(Probe(dport: UInt16(port)).syn, at: Double(port - 600) * 0.01) }
        for port in 610..<620 { h.feed(Probe(dport: UInt16(port)).syn, at: 2 + Double(port - 610) * 0.01) }
        let records = try h.finish()
        #expect(records.ruleAlerts.count == 4)
        #expect(records.scans.count == 1, "the first scan alert is within the budget, the second is not")
        #expect(records.ghostportStats?[path: "detect", "alerts_shed_source"] as? Int == 20 + 2 - 5, "20 rule matches and 2 scans, 5 written")
    }
}
