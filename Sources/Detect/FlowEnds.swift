import Flow

extension Engine {
    /// Ends every flow at shutdown: the bookkeeping (verdict counts, evidence files) here, in
    /// order; the records of the flows that get one go to the sink in batches, which it may
    /// write on two threads (each record costs about 0.3 µs).
    func drainFlows(reason: StaticString, time: Int64) {
        var batch: [Flow] = []
        batch.reserveCapacity(Self.flowRecordBatch)
        func writeBatch() {
            batch.withUnsafeBufferPointer { records.flowsEnded($0, reason: reason, time: time, watchlist: watchlist, tunnels: tunnelOfFlow,
                                                                 sources: sourceNames) }
            batch.removeAll(keepingCapacity: true)
        }
        flows.drain { flow in
            guard self.flowEndedNeedsRecord(flow), self.keepsRecord(flow, time: time) else { return }
            batch.append(flow)
            if batch.count == Self.flowRecordBatch { writeBatch() }
        }
        writeBatch()
        tunnelOfFlow.removeAll()
    }

    static let flowRecordBatch = 4096
}
