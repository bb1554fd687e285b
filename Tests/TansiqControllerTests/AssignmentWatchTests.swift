import Foundation
import Testing

@testable import TansiqController

@Suite("The assignment watch answers polls and counts those waiting")
struct AssignmentWatchTests {
    /// Waits (bounded) until `watch` counts `count` open polls.
    static func settle(_ watch: AssignmentWatch, at count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while await watch.openPolls != count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(await watch.openPolls == count)
    }

    @Test("a change answers its node's polls only, a timeout its own, a release all; the count follows each")
    func countsFollowPolls() async throws {
        let watch = AssignmentWatch(baseline: 10)
        // A poll for a version already passed is answered at once, and never counted.
        #expect(await watch.wait(node: "n1", after: 5, timeout: .seconds(30)) == 10)
        try await Self.settle(watch, at: 0)
        let n1a = Task { await watch.wait(node: "n1", after: 10, timeout: .seconds(30)) }
        let n1b = Task { await watch.wait(node: "n1", after: 10, timeout: .seconds(30)) }
        let n2 = Task { await watch.wait(node: "n2", after: 10, timeout: .seconds(30)) }
        try await Self.settle(watch, at: 3)
        // A poll whose wait runs out is answered with the version it had, and counted no more.
        #expect(await watch.wait(node: "n3", after: 10, timeout: .milliseconds(100)) == 10)
        try await Self.settle(watch, at: 3)
        await watch.changed(["n1"], at: 11)
        #expect(await n1a.value == 11)
        #expect(await n1b.value == 11)
        try await Self.settle(watch, at: 1)
        await watch.releaseAll()
        #expect(await n2.value == 10)
        try await Self.settle(watch, at: 0)
    }
}
