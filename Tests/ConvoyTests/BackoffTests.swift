import Convoy
import ConvoyMock
import Testing

@Suite(.timeLimit(.minutes(1))) struct BackoffTests {
    @Test(arguments: [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (7, 30.0), (1000, 30.0), (Int.max, 30.0)])
    func ceilingDoublesUpToTheCap(retry: Int, expected: Double) {
        let backoff = Backoff(base: .milliseconds(500), cap: .seconds(30))
        #expect(backoff.ceiling(forRetry: retry) == .seconds(expected))
    }

    @Test func fullJitterStaysWithinTheCeilingAndSpreads() {
        let backoff = Backoff(base: .seconds(1), cap: .seconds(8))
        var generator = SplitMix64(seed: 7)
        let delays = (0..<2000).map { _ in backoff.delay(forRetry: 4, using: &generator) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .seconds(8) })
        let below = delays.filter { $0 < .seconds(4) }.count
        #expect((800...1200).contains(below), "uniform over [0, 8 s]: about half below 4 s, got \(below)")
    }

    @Test func everyRetryDrawsItsOwnWaitFromTheWholeRange() {
        // Without jitter (the ceiling every time, or one value for every draw) a herd of clients
        // that failed together retries together. With a seeded generator each retry's waits are
        // distinct and reach from near zero to near the ceiling.
        let backoff = Backoff(base: .milliseconds(500), cap: .seconds(30))
        var generator = SplitMix64(seed: 22)
        for retry in 1...8 {
            let ceiling = backoff.ceiling(forRetry: retry)
            let delays = (0..<200).map { _ in backoff.delay(forRetry: retry, using: &generator) }
            #expect(Set(delays).count == 200, "retry \(retry): every draw differs")
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= ceiling })
            #expect(delays.min()! < ceiling / 10 && delays.max()! > ceiling * 0.9, "retry \(retry)")
        }
    }

    @Test func zeroBaseMeansNoWait() {
        var generator = SplitMix64(seed: 1)
        #expect(Backoff(base: .zero, cap: .seconds(1)).delay(forRetry: 3, using: &generator) == .zero)
    }
}
