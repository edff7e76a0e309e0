@testable import Detect
import Testing
import TestSupport
import Wire

/// The engine's per-source table against a Swift Dictionary doing the same things.
@Suite struct AddressTableTests {

    /// Few distinct addresses (so updates hit existing keys), IPv4 and IPv6 with equal low bits.
    private static func address(_ n: Int) -> IPAddress {
        n % 3 == 0 ? IPAddress(high: 0x2001_0db8_0000_0000, low: UInt64(n / 3), isIPv6: true)
            : IPAddress(ipv4: UInt32(n))
    }

    private static func contents(_ table: AddressTable<UInt64>) -> [IPAddress: UInt64] {
        var seen: [IPAddress: UInt64] = [:]
        table.forEach { address, value in
            #expect(seen[address] == nil, "\(address) twice")
            seen[address] = value
        }
        return seen
    }

    @Test("random updates and bulk removals agree with a dictionary, through growth and wrap-around")
    func churn() {
        var random = SplitMix64(seed: 571)
        for seed in [UInt64(0), 1, 0xDEAD_BEEF] {
            let table = AddressTable<UInt64>(seed: seed)
            var model: [IPAddress: UInt64] = [:]
            for round in 0..<40 {
                for _ in 0..<random.next(below: 3_000) {
                    let address = Self.address(random.next(below: 5_000))
                    let add = random.next() % 100
                    table.update(address, default: { 0 }) { $0 &+= add }
                    model[address, default: 0] &+= add
                }
                // Remove about a third, by value, in place.
                let removed = table.removeAll { _, value in value % 3 == UInt64(round % 3) }
                let before = model.count
                model = model.filter { $0.value % 3 != UInt64(round % 3) }
                #expect(removed == before - model.count)
                #expect(table.count == model.count)
                #expect(Self.contents(table) == model)
                for probe in 0..<200 {
                    let address = Self.address(probe * 25)
                    #expect(table.value(for: address) == model[address])
                }
            }
        }
    }

    @Test("modify changes only present entries; removing everything empties the table")
    func modifyAndEmpty() {
        let table = AddressTable<UInt64>(seed: 7)
        let a = IPAddress(ipv4: 0x0A00_0001), b = IPAddress(ipv4: 0x0A00_0002)
        #expect(!table.modify(a) { $0 += 1 })
        table.update(a, default: { 5 }) { $0 += 1 }
        #expect(table.modify(a) { $0 += 1 })
        #expect(table.value(for: a) == 7 && table.value(for: b) == nil)
        for i in 0..<10_000 { table.update(IPAddress(ipv4: UInt32(i)), default: { 0 }) { _ in } }
        #expect(table.count == 10_001)
        #expect(table.removeAll { _, _ in true } == 10_001)
        #expect(table.isEmpty && table.value(for: a) == nil)
    }

    @Test("selectSmallest finds the k-th smallest, duplicates included")
    func selection() {
        var random = SplitMix64(seed: 9)
        for count in [1, 2, 3, 10, 1_000] {
            let values = (0..<count).map { _ in Int64(random.next(below: 50)) }
            let sorted = values.sorted()
            for k in Set([1, count, (count + 1) / 2, min(count, 7)]) {
                var copy = values
                #expect(copy.selectSmallest(k) == sorted[k - 1], "k \(k) of \(count)")
            }
        }
    }
}
