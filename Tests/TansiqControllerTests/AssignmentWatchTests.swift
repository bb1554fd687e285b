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

    @Test("a wait is swept at the first tick at or past its deadline, never before")
    func dueTicks() {
        let tick = AssignmentWatch.tick
        for elapsedMs in stride(from: 0, through: 2_000, by: 7) {
            for timeoutMs in [1, 50, 99, 100, 101, 300, 1_000, 55_000, 60_000] {
                let deadline = Duration.milliseconds(elapsedMs + timeoutMs)
                let due = AssignmentWatch.due(elapsed: .milliseconds(elapsedMs), timeout: .milliseconds(timeoutMs))
                #expect(tick * Int(due) >= deadline, "\(elapsedMs) + \(timeoutMs) ms: tick \(due) is early")
                #expect(tick * Int(due) < deadline + tick, "\(elapsedMs) + \(timeoutMs) ms: tick \(due) is late")
            }
        }
        #expect(AssignmentWatch.due(elapsed: .zero, timeout: tick) == 1)
        #expect(AssignmentWatch.due(elapsed: .nanoseconds(1), timeout: tick) == 2)
    }

    @Test("a wait runs out at its timeout, not before; one with no wait is answered without waiting")
    func timeouts() async throws {
        let watch = AssignmentWatch(baseline: 4)
        #expect(await watch.wait(node: "n1", after: 4, timeout: .zero) == 4)
        #expect(await watch.openPolls == 0)
        var start = ContinuousClock.now
        async let short = watch.wait(node: "n1", after: 4, timeout: .milliseconds(300))
        async let long = watch.wait(node: "n2", after: 4, timeout: .milliseconds(700))
        #expect(await short == 4)
        let shortTook = ContinuousClock.now - start
        // Not early. How late depends on the test process's threads, which the suite's CPU-bound
        // tests can hold for seconds: the tick's bound is the pure `due` test's, and the live
        // controller's poll test bounds the whole wait from outside the process.
        #expect(shortTook >= .milliseconds(300), "\(shortTook)")
        #expect(await long == 4)
        #expect(ContinuousClock.now - start >= .milliseconds(700))
        try await Self.settle(watch, at: 0)
        // A poll answered by a change is not answered again when its deadline comes.
        let answered = Task { await watch.wait(node: "n3", after: 4, timeout: .milliseconds(200)) }
        try await Self.settle(watch, at: 1)
        await watch.changed(["n3"], at: 5)
        #expect(await answered.value == 5)
        try await Task.sleep(for: .milliseconds(400))
        try await Self.settle(watch, at: 0)
        // After an idle spell (the sweep has stopped), a wait still runs its whole timeout.
        try await Task.sleep(for: .milliseconds(500))
        start = ContinuousClock.now
        #expect(await watch.wait(node: "n4", after: 4, timeout: .milliseconds(250)) == 4)
        let idleTook = ContinuousClock.now - start
        #expect(idleTook >= .milliseconds(250), "\(idleTook)")
    }
}
