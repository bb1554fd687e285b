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

    @Test("a wait runs out within a tick of its timeout, one with no wait is answered at once")
    func timeouts() async throws {
        let watch = AssignmentWatch(baseline: 4)
        var start = ContinuousClock.now
        #expect(await watch.wait(node: "n1", after: 4, timeout: .zero) == 4)
        #expect(ContinuousClock.now - start < .milliseconds(50))
        start = ContinuousClock.now
        async let short = watch.wait(node: "n1", after: 4, timeout: .milliseconds(300))
        async let long = watch.wait(node: "n2", after: 4, timeout: .milliseconds(700))
        #expect(await short == 4)
        let shortTook = ContinuousClock.now - start
        #expect(
            shortTook >= .milliseconds(300) && shortTook < .milliseconds(300) + AssignmentWatch.tick * 3, "\(shortTook)"
        )
        try await Self.settle(watch, at: 1)
        #expect(await long == 4)
        let longTook = ContinuousClock.now - start
        #expect(
            longTook >= .milliseconds(700) && longTook < .milliseconds(700) + AssignmentWatch.tick * 3, "\(longTook)")
        try await Self.settle(watch, at: 0)
        // A poll answered by a change is not answered again when its deadline comes.
        let answered = Task { await watch.wait(node: "n3", after: 4, timeout: .milliseconds(200)) }
        try await Self.settle(watch, at: 1)
        await watch.changed(["n3"], at: 5)
        #expect(await answered.value == 5)
        try await Task.sleep(for: .milliseconds(400))
        try await Self.settle(watch, at: 0)
    }
}
