// Arithmetic on any clock's instants, so generic code reads like `end - now` and `now + delay`.
extension InstantProtocol where Duration == Swift.Duration {
    static func + (lhs: Self, rhs: Swift.Duration) -> Self { lhs.advanced(by: rhs) }
    static func - (lhs: Self, rhs: Swift.Duration) -> Self { lhs.advanced(by: .zero - rhs) }
    static func - (lhs: Self, rhs: Self) -> Swift.Duration { rhs.duration(to: lhs) }
}
