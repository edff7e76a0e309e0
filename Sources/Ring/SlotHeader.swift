/// What the capture side knows about one packet, stored in front of its bytes in a slot.
///
/// Laid out without padding (56 bytes) so a slot's header is one plain store and one plain load.
public struct SlotHeader: Equatable, Sendable, BitwiseCopyable {
    /// Capture time, seconds since the Unix epoch.
    public var timestampSeconds: Int64
    /// Capture time, nanoseconds within the second (as the capture file holds it: possibly a billion or more).
    public var timestampNanoseconds: UInt32
    /// Length of the packet on the wire.
    public var originalLength: UInt32
    /// Bytes libpcap gave (at most the snap length).
    public var capturedLength: UInt32
    /// Bytes actually in the slot: set by the producer's push to `min(bytes.count, slotSize)`.
    public var storedLength: UInt32
    /// The input's link type (`DLT_*` / `LINKTYPE_*` value).
    public var linkType: Int32
    /// Which input (file or interface) the packet came from.
    public var sourceIndex: UInt32
    /// Packet number within its input, counting from 1 (EVE's `pcap_cnt`).
    public var sequence: UInt64
    /// The hash of the flow the engine will look up for this packet (with the flow table's
    /// seed), worked out by the capture side while it decodes; 0 when none. A hint only: the
    /// detection thread uses it to fetch the flow's memory before the packet's turn.
    public var flowHint: UInt64
    /// The hash of the packet's source address as the engine's per-source tables key it (same
    /// seed); 0 when none. A hint only: when the packet turns out to start a flow, the
    /// detection thread fetches the source's entry ahead (the scan detector's, see `Engine.prefetch`).
    public var sourceHint: UInt64

    /// A header for `push`; `storedLength` is filled in by the ring, whatever is passed here.
    public init(
        timestampSeconds: Int64,
        timestampNanoseconds: UInt32,
        originalLength: UInt32,
        capturedLength: UInt32,
        storedLength: UInt32 = 0,
        linkType: Int32,
        sourceIndex: UInt32,
        sequence: UInt64,
        flowHint: UInt64 = 0,
        sourceHint: UInt64 = 0
    ) {
        self.timestampSeconds = timestampSeconds
        self.timestampNanoseconds = timestampNanoseconds
        self.originalLength = originalLength
        self.capturedLength = capturedLength
        self.storedLength = storedLength
        self.linkType = linkType
        self.sourceIndex = sourceIndex
        self.sequence = sequence
        self.flowHint = flowHint
        self.sourceHint = sourceHint
    }

    /// Nanoseconds since the epoch (wrapping, like `CaptureRecord.timestamp`).
    @inline(__always)
    public var timestamp: Int64 { timestampSeconds &* 1_000_000_000 &+ Int64(timestampNanoseconds) }

    /// True when the slot holds fewer bytes than libpcap captured (slot size or the capture side's choice).
    public var isCutBySlot: Bool { storedLength < capturedLength }
}

/// A slot's two hints, as the consumer's look-ahead hands them on (zero: none).
public struct SlotHints: Sendable, Equatable {
    public var flow: UInt64
    public var source: UInt64

    public init(flow: UInt64, source: UInt64) {
        self.flow = flow
        self.source = source
    }

    public static let none = SlotHints(flow: 0, source: 0)
}

/// Byte offsets of the header's fields in a slot (checked against `MemoryLayout` at ring creation).
enum SlotField {
    static let timestampSeconds = 0
    static let timestampNanoseconds = 8
    static let originalLength = 12
    static let capturedLength = 16
    static let storedLength = 20
    static let linkType = 24
    static let sourceIndex = 28
    static let sequence = 32
    static let flowHint = 40
    static let sourceHint = 48
    /// Packet bytes follow the header directly.
    static let data = 56

    static var matchLayout: Bool {
        MemoryLayout<SlotHeader>.offset(of: \.timestampSeconds) == timestampSeconds
            && MemoryLayout<SlotHeader>.offset(of: \.timestampNanoseconds) == timestampNanoseconds
            && MemoryLayout<SlotHeader>.offset(of: \.originalLength) == originalLength
            && MemoryLayout<SlotHeader>.offset(of: \.capturedLength) == capturedLength
            && MemoryLayout<SlotHeader>.offset(of: \.storedLength) == storedLength
            && MemoryLayout<SlotHeader>.offset(of: \.linkType) == linkType
            && MemoryLayout<SlotHeader>.offset(of: \.sourceIndex) == sourceIndex
            && MemoryLayout<SlotHeader>.offset(of: \.sequence) == sequence
            && MemoryLayout<SlotHeader>.offset(of: \.flowHint) == flowHint
            && MemoryLayout<SlotHeader>.offset(of: \.sourceHint) == sourceHint
            && MemoryLayout<SlotHeader>.size == data
    }

    // Field by field rather than one struct copy: the same cost, and ThreadSanitizer checks
    // scalar accesses, while memcpy'd ranges escape its race detection.

    @inline(__always)
    static func write(_ header: SlotHeader, storedLength: UInt32, to slot: UnsafeMutableRawPointer) {
        slot.storeBytes(of: header.timestampSeconds, toByteOffset: timestampSeconds, as: Int64.self)
        slot.storeBytes(of: header.timestampNanoseconds, toByteOffset: timestampNanoseconds, as: UInt32.self)
        slot.storeBytes(of: header.originalLength, toByteOffset: originalLength, as: UInt32.self)
        slot.storeBytes(of: header.capturedLength, toByteOffset: capturedLength, as: UInt32.self)
        slot.storeBytes(of: storedLength, toByteOffset: self.storedLength, as: UInt32.self)
        slot.storeBytes(of: header.linkType, toByteOffset: linkType, as: Int32.self)
        slot.storeBytes(of: header.sourceIndex, toByteOffset: sourceIndex, as: UInt32.self)
        slot.storeBytes(of: header.sequence, toByteOffset: sequence, as: UInt64.self)
        slot.storeBytes(of: header.flowHint, toByteOffset: flowHint, as: UInt64.self)
        slot.storeBytes(of: header.sourceHint, toByteOffset: sourceHint, as: UInt64.self)
    }

    /// Just the hints of a slot further on (the consumer's look-ahead).
    @inline(__always)
    static func readHints(from slot: UnsafeRawPointer) -> SlotHints {
        SlotHints(flow: slot.load(fromByteOffset: flowHint, as: UInt64.self),
                  source: slot.load(fromByteOffset: sourceHint, as: UInt64.self))
    }

    @inline(__always)
    static func read(from slot: UnsafeRawPointer) -> SlotHeader {
        SlotHeader(
            timestampSeconds: slot.load(fromByteOffset: timestampSeconds, as: Int64.self),
            timestampNanoseconds: slot.load(fromByteOffset: timestampNanoseconds, as: UInt32.self),
            originalLength: slot.load(fromByteOffset: originalLength, as: UInt32.self),
            capturedLength: slot.load(fromByteOffset: capturedLength, as: UInt32.self),
            storedLength: slot.load(fromByteOffset: storedLength, as: UInt32.self),
            linkType: slot.load(fromByteOffset: linkType, as: Int32.self),
            sourceIndex: slot.load(fromByteOffset: sourceIndex, as: UInt32.self),
            sequence: slot.load(fromByteOffset: sequence, as: UInt64.self),
            flowHint: slot.load(fromByteOffset: flowHint, as: UInt64.self),
            sourceHint: slot.load(fromByteOffset: sourceHint, as: UInt64.self))
    }
}
