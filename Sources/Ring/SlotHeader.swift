/// What the capture side knows about one packet, stored in front of its bytes in a slot.
///
/// Laid out without padding (40 bytes) so a slot's header is one plain store and one plain load.
public struct SlotHeader: Equatable, Sendable, BitwiseCopyable {
    /// Capture time, seconds since the Unix epoch.
    public var timestampSeconds: Int64
    /// Capture time, nanoseconds within the second.
    public var timestampNanoseconds: Int32
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

    /// A header for `push`; `storedLength` is filled in by the ring, whatever is passed here.
    public init(
        timestampSeconds: Int64,
        timestampNanoseconds: Int32,
        originalLength: UInt32,
        capturedLength: UInt32,
        storedLength: UInt32 = 0,
        linkType: Int32,
        sourceIndex: UInt32,
        sequence: UInt64
    ) {
        self.timestampSeconds = timestampSeconds
        self.timestampNanoseconds = timestampNanoseconds
        self.originalLength = originalLength
        self.capturedLength = capturedLength
        self.storedLength = storedLength
        self.linkType = linkType
        self.sourceIndex = sourceIndex
        self.sequence = sequence
    }

    /// True when the slot holds fewer bytes than libpcap captured (slot size or the capture side's choice).
    public var isCutBySlot: Bool { storedLength < capturedLength }
}
