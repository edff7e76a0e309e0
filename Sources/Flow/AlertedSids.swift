/// The sids a flow has alerted on: up to eight inline, no heap. Further alerts are counted,
/// not stored: `repeats` for a sid already in the list, `dropped` for a new sid once it is full.
public struct AlertedSids: Sendable, Equatable, RandomAccessCollection {
    public static let capacity = 8

    private var storage: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var stored: UInt8 = 0
    /// Alerts for a sid already listed (saturating).
    public private(set) var repeats: UInt16 = 0
    /// Alerts for a new sid that found the list full (saturating).
    public private(set) var dropped: UInt16 = 0

    public init() {}

    public enum Insertion: Sendable, Equatable {
        case inserted
        case repeated
        case full
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(stored) }

    public subscript(position: Int) -> UInt32 {
        precondition(position >= 0 && position < Int(stored), "AlertedSids index out of range")
        return withUnsafeBytes(of: storage) { $0.load(fromByteOffset: position &* 4, as: UInt32.self) }
    }

    public func contains(_ sid: UInt32) -> Bool {
        withUnsafeBytes(of: storage) { raw in
            for i in 0..<Int(stored) where raw.load(fromByteOffset: i &* 4, as: UInt32.self) == sid {
                return true
            }
            return false
        }
    }

    /// Records an alert for `sid`.
    @discardableResult
    public mutating func insert(_ sid: UInt32) -> Insertion {
        if contains(sid) {
            if repeats < .max { repeats += 1 }
            return .repeated
        }
        guard stored < Self.capacity else {
            if dropped < .max { dropped += 1 }
            return .full
        }
        let offset = Int(stored) &* 4
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: sid, toByteOffset: offset, as: UInt32.self) }
        stored += 1
        return .inserted
    }

    public mutating func removeAll() {
        self = AlertedSids()
    }

    public static func == (a: AlertedSids, b: AlertedSids) -> Bool {
        a.elementsEqual(b) && a.repeats == b.repeats && a.dropped == b.dropped
    }
}
