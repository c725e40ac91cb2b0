import Foundation
import Testing

// Temporary: shows that a hung test fails .ci/run within its timeout. Removed in the next commit.
@Suite(.timeLimit(.minutes(1))) struct DeliberatelyHungTests {
    @Test func blocksItsThreadForAnHour() {
        Thread.sleep(forTimeInterval: 3600)  // a time limit cannot cancel a blocked thread
    }
}
