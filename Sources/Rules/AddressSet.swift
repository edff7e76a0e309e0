/// A set of IPv4 and IPv6 addresses, negation already resolved into ranges.
public struct AddressSet: Sendable, Hashable {
    public var v4: IntervalSet<UInt32>
    public var v6: IntervalSet<UInt128>

    public init(v4: IntervalSet<UInt32> = IntervalSet(), v6: IntervalSet<UInt128> = IntervalSet()) {
        self.v4 = v4
        self.v6 = v6
    }

    public static let any = AddressSet(v4: .all, v6: .all)
    public static let none = AddressSet()

    public var isEmpty: Bool { v4.isEmpty && v6.isEmpty }
    public var isAny: Bool { v4.isFull && v6.isFull }

    /// `address` holds an IPv4 address in its low 32 bits when `ipVersion` is 4.
    @inlinable
    public func contains(ipVersion: UInt8, address: UInt128) -> Bool {
        ipVersion == 4 ? v4.contains(UInt32(truncatingIfNeeded: address)) : v6.contains(address)
    }

    public func union(_ other: AddressSet) -> AddressSet {
        AddressSet(v4: v4.union(other.v4), v6: v6.union(other.v6))
    }

    public func subtracting(_ other: AddressSet) -> AddressSet {
        AddressSet(v4: v4.subtracting(other.v4), v6: v6.subtracting(other.v6))
    }

    public func complement() -> AddressSet {
        AddressSet(v4: v4.complement(), v6: v6.complement())
    }

    /// One IPv4 CIDR block; host bits are cleared, as Suricata does.
    public static func ipv4(_ address: UInt32, prefix: Int = 32) -> AddressSet {
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        let low = address & mask
        return AddressSet(v4: IntervalSet(low...(low | ~mask)))
    }

    /// One IPv6 CIDR block; host bits are cleared, as Suricata does.
    public static func ipv6(_ address: UInt128, prefix: Int = 128) -> AddressSet {
        let mask: UInt128 = prefix == 0 ? 0 : ~UInt128(0) << UInt128(128 - prefix)
        let low = address & mask
        return AddressSet(v6: IntervalSet(low...(low | ~mask)))
    }
}

/// Text forms of IP addresses, parsed without Foundation.
public enum IPAddressText {
    /// Dotted quad, exactly four decimal octets.
    public static func parseIPv4(_ text: some StringProtocol) -> UInt32? {
        parseIPv4(Array(text.utf8)[...])
    }

    public static func parseIPv6(_ text: some StringProtocol) -> UInt128? {
        parseIPv6(Array(text.utf8)[...])
    }

    static func parseIPv4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var result: UInt32 = 0
        var octets = 0
        var value: UInt32 = 0
        var digits = 0
        for byte in bytes {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                value = value * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                if digits > 3 || value > 255 { return nil }
            } else if byte == UInt8(ascii: ".") {
                if digits == 0 || octets == 3 { return nil }
                result = result << 8 | value
                octets += 1
                value = 0
                digits = 0
            } else {
                return nil
            }
        }
        if digits == 0 || octets != 3 { return nil }
        return result << 8 | value
    }

    /// RFC 4291 text: hex groups, at most one `::`, optional dotted-quad tail.
    static func parseIPv6(_ bytes: ArraySlice<UInt8>) -> UInt128? {
        if bytes.isEmpty { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var index = bytes.startIndex
        let end = bytes.endIndex
        if bytes.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            sawGap = true
            index += 2
            if index == end { return 0 }
        } else if bytes.first == UInt8(ascii: ":") {
            return nil
        }
        while index < end {
            var groupEnd = index
            while groupEnd < end && bytes[groupEnd] != UInt8(ascii: ":") { groupEnd += 1 }
            let group = bytes[index..<groupEnd]
            if group.contains(UInt8(ascii: ".")) {
                // An embedded IPv4 address may only be the last 32 bits.
                guard groupEnd == end, let v4 = parseIPv4(group) else { return nil }
                let words = [UInt16(v4 >> 16), UInt16(v4 & 0xffff)]
                if sawGap { tail += words } else { head += words }
                index = end
                break
            }
            guard !group.isEmpty, group.count <= 4 else { return nil }
            var word: UInt16 = 0
            for byte in group {
                guard let nibble = hexValue(byte) else { return nil }
                word = word << 4 | UInt16(nibble)
            }
            if sawGap { tail.append(word) } else { head.append(word) }
            if groupEnd == end { index = end; break }
            // groupEnd points at ':'; a second ':' right after is the gap.
            if groupEnd + 1 < end && bytes[groupEnd + 1] == UInt8(ascii: ":") {
                if sawGap { return nil }
                sawGap = true
                index = groupEnd + 2
            } else {
                index = groupEnd + 1
                if index == end { return nil }
            }
        }
        let total = head.count + tail.count
        if sawGap ? total > 7 : total != 8 { return nil }
        let words = head + Array(repeating: 0, count: 8 - total) + tail
        var value: UInt128 = 0
        for word in words { value = value << 16 | UInt128(word) }
        return value
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
