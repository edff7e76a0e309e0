// Big-endian reads from a borrowed buffer. Callers prove the length with one guard first;
// the subscripts are checked only in debug builds, so every read must sit behind that guard.
extension UnsafeRawBufferPointer {
    @inline(__always)
    func u8(_ offset: Int) -> UInt8 { self[offset] }

    @inline(__always)
    func u16(_ offset: Int) -> UInt16 { UInt16(self[offset]) << 8 | UInt16(self[offset + 1]) }

    @inline(__always)
    func u32(_ offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16
            | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    @inline(__always)
    func u64(_ offset: Int) -> UInt64 {
        UInt64(u32(offset)) << 32 | UInt64(u32(offset + 4))
    }

    /// The bytes from `offset` for at most `length`, clipped to what is there.
    @inline(__always)
    func slice(from offset: Int, length: Int = Int.max) -> UnsafeRawBufferPointer {
        guard offset < count else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let available = count - offset
        return UnsafeRawBufferPointer(rebasing: self[offset..<(offset + Swift.min(length, available))])
    }
}
