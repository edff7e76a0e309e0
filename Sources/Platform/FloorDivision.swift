extension Int64 {
    /// The quotient rounded toward negative infinity (`/` rounds toward zero): the second, or
    /// the window, a nanosecond timestamp before 1970 falls in.
    public func floorDivided(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
