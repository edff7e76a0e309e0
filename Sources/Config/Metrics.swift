import Detect
import Flow
import Output
import Wire

extension SensorMetrics {
    /// The textfile's values from what the engine, the capture and the flow table counted.
    /// (It lives here because `Output`, where the textfile is written, cannot see `Detect`.)
    public init(stats: EngineStats, extra: StatsExtra, flows: FlowCounters) {
        self.init()
        uptimeSeconds = extra.uptimeSeconds
        packets = stats.packets
        bytes = stats.bytes
        for event in DecodeEvent.allCases where Int(event.rawValue) < stats.decodeEvents.count {
            let count = stats.decodeEvents[Int(event.rawValue)]
            if count > 0 { decodeEvents[event.name] = count }
        }
        uninspected = stats.uninspected
        flowsActive = UInt64(max(0, flows.active))
        flowsCreated = flows.created
        flowsTimedOut = flows.timedOut
        flowsEvicted = flows.evicted
        flowsEnded = flows.ended
        flowsWatched = stats.watchedFlows
        alertsBySid = stats.alertsBySid
        suppressed = stats.suppressed
        repeats = stats.repeats
        alertsShedBySource = stats.alertsShedBySource
        alertsShedBySid = stats.alertsShedBySid
        alertSourcesEvicted = stats.alertSourcesEvicted
        for verdict in [Verdict.unanswered, .rejected, .answered] where Int(verdict.rawValue) < stats.verdicts.count {
            verdicts["\(verdict.name)"] = stats.verdicts[Int(verdict.rawValue)]
        }
        kernelPackets = extra.kernelPackets
        kernelDrops = extra.kernelDrops
        kernelInterfaceDrops = extra.kernelInterfaceDrops
        ringWaits = extra.ringWaits
        ringDrops = extra.ringDrops
        outputLost = extra.outputLost
        evidenceErrors = stats.evidenceErrors
        syslogDropped = extra.syslogDropped
    }
}
