import Detect
import Ring
import Wire

extension SlotHeader {
    /// The link type of a slot that carries only a timestamp: packet time moved on with nothing
    /// for the engine, so idle flows still time out on schedule.
    static let clockTickLinkType: Int32 = -1

    /// A clock tick at `seconds`.`nanoseconds`, for the input `sourceIndex`.
    static func clockTick(seconds: Int64, nanoseconds: UInt32, sourceIndex: UInt32, sequence: UInt64) -> SlotHeader {
        SlotHeader(timestampSeconds: seconds, timestampNanoseconds: nanoseconds, originalLength: 0, capturedLength: 0,
                   linkType: clockTickLinkType, sourceIndex: sourceIndex, sequence: sequence)
    }
}

extension Engine {
    /// One slot from the ring, on the detection thread: a clock tick moves packet time on,
    /// anything else is a packet. `source` is the input's index in `PacketOrigin` (-1 live).
    @inline(__always)
    func consume(_ header: SlotHeader, _ bytes: UnsafeRawBufferPointer, source: Int) {
        let timestamp = header.timestamp
        if header.linkType == SlotHeader.clockTickLinkType {
            advanceClock(to: timestamp)
            return
        }
        process(bytes, linkType: LinkType(rawValue: header.linkType), capturedLength: Int(header.capturedLength),
                timestamp: timestamp, originalLength: Int(header.originalLength),
                origin: PacketOrigin(count: header.sequence, source: source))
    }
}
