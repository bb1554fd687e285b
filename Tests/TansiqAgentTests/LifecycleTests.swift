import Foundation
import TansiqModel
import Testing

@testable import TansiqAgent

typealias Exit = TansiqAgent.ExitStatus

/// The instance lifecycle, pure: events in, actions out, time as a value.
@Suite("Instance lifecycle")
struct LifecycleTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func spec(
        policy: RestartMode = .always, backoff: Int64 = 1, maxBackoff: Int64 = 60, health: HealthCheck? = nil,
        image: Bool = false, stopAfter: Span? = nil
    ) -> InstanceLifecycle.Spec {
        InstanceLifecycle.Spec(
            needsImage: image, health: health,
            restart: RestartPolicy(policy: policy, backoff: .seconds(backoff), maxBackoff: .seconds(maxBackoff)),
            stopAfterDisconnect: stopAfter, memoryBytes: 64 << 20)
    }

    static let check = HealthCheck(
        probe: .http(path: "/healthz", port: "http"), interval: .seconds(1), timeout: .seconds(1), failureThreshold: 3)

    /// A lifecycle that has started its process at `t0`.
    static func running(_ spec: InstanceLifecycle.Spec) -> InstanceLifecycle {
        var lifecycle = InstanceLifecycle(spec: spec)
        #expect(lifecycle.begin().contains(spec.needsImage ? .pull : .start))
        if spec.needsImage { _ = lifecycle.handle(.pulled, at: t0) }
        _ = lifecycle.handle(.started, at: t0)
        return lifecycle
    }

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    struct RestartCase: CustomTestStringConvertible, Sendable {
        var name: String
        var policy: RestartMode
        var exit: Exit?
        var oom = false
        var restarts: Bool
        var phase: InstancePhase
        var testDescription: String { name }
    }

    @Test(
        "restart policies decide on every kind of end",
        arguments: [RestartCase](
            arrayLiteral:
                RestartCase(
                    name: "always restarts a clean exit", policy: RestartMode.always,
                    exit: Exit(code: 0, signalled: false), restarts: true, phase: InstancePhase.exited),
            RestartCase(
                name: "on-failure leaves a clean exit", policy: RestartMode.onFailure,
                exit: Exit(code: 0, signalled: false), restarts: false, phase: InstancePhase.exited),
            RestartCase(
                name: "on-failure restarts exit 3", policy: RestartMode.onFailure,
                exit: Exit(code: 3, signalled: false), restarts: true, phase: InstancePhase.exited),
            RestartCase(
                name: "on-failure restarts a kill", policy: RestartMode.onFailure,
                exit: Exit(code: 137, signalled: true), restarts: true, phase: InstancePhase.exited),
            RestartCase(
                name: "on-failure restarts an OOM kill", policy: RestartMode.onFailure,
                exit: Exit(code: 137, signalled: true), oom: true, restarts: true, phase: InstancePhase.oomKilled),
            RestartCase(
                name: "on-failure restarts an exit nobody saw", policy: RestartMode.onFailure, exit: nil,
                restarts: true, phase: InstancePhase.exited),
            RestartCase(
                name: "never leaves a failure", policy: RestartMode.never, exit: Exit(code: 1, signalled: false),
                restarts: false, phase: InstancePhase.exited),
            RestartCase(
                name: "never leaves an OOM kill", policy: RestartMode.never, exit: Exit(code: 137, signalled: true),
                oom: true, restarts: false, phase: InstancePhase.oomKilled),
        ))
    func restartPolicies(_ c: RestartCase) {
        var lifecycle = Self.running(Self.spec(policy: c.policy))
        let actions = lifecycle.handle(.exited(status: c.exit, oomKilled: c.oom), at: Self.at(5))
        #expect(actions == [.report])
        #expect(lifecycle.phase == c.phase)
        #expect(lifecycle.stage == .waiting)
        #expect((lifecycle.dueAt != nil) == c.restarts)
        #expect(lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(3600)).contains(.start) == c.restarts)
        if c.oom { #expect(lifecycle.message?.contains("memory limit of 64Mi") == true) }
    }

    @Test("backoff doubles per consecutive restart up to maxBackoff")
    func backoffGrows() {
        var lifecycle = Self.running(Self.spec(backoff: 1, maxBackoff: 10))
        var now = Self.at(0)
        var delays: [TimeInterval] = []
        for _ in 0..<6 {
            _ = lifecycle.handle(.exited(status: .init(code: 1, signalled: false), oomKilled: false), at: now)
            let due = lifecycle.dueAt!
            delays.append(due.timeIntervalSince(now))
            // Nothing starts before it is due.
            #expect(!lifecycle.handle(.tick(disconnectedFor: 0), at: due.addingTimeInterval(-0.01)).contains(.start))
            #expect(lifecycle.handle(.tick(disconnectedFor: 0), at: due).contains(.start))
            _ = lifecycle.handle(.started, at: due)
            now = due.addingTimeInterval(0.5)
        }
        #expect(delays == [1, 2, 4, 8, 10, 10])
        #expect(lifecycle.restarts == 6)
    }

    @Test("backoff resets after running healthy for ten times the backoff, not before")
    func backoffResets() {
        var lifecycle = Self.running(Self.spec(backoff: 2, health: Self.check))
        for second in 0..<3 {
            _ = lifecycle.handle(
                .exited(status: .init(code: 1, signalled: false), oomKilled: false), at: Self.at(Double(second * 100)))
            _ = lifecycle.handle(.tick(disconnectedFor: 0), at: lifecycle.dueAt!)
            _ = lifecycle.handle(.started, at: lifecycle.dueAt ?? Self.at(Double(second * 100 + 50)))
        }
        #expect(lifecycle.backoffStep == 3)
        // Healthy at 400, for 19 s: not yet ten times the backoff (20 s).
        _ = lifecycle.handle(.probed(healthy: true), at: Self.at(400))
        _ = lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(419))
        #expect(lifecycle.backoffStep == 3)
        _ = lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(420))
        #expect(lifecycle.backoffStep == 0)
        _ = lifecycle.handle(.exited(status: .init(code: 1, signalled: false), oomKilled: false), at: Self.at(500))
        #expect(lifecycle.dueAt == Self.at(502), "back to the first delay")
    }

    @Test("an unhealthy spell before ten times the backoff does not reset it")
    func unhealthyInterruptsReset() {
        var lifecycle = Self.running(Self.spec(backoff: 1, health: Self.check))
        _ = lifecycle.handle(.exited(status: .init(code: 1, signalled: false), oomKilled: false), at: Self.at(0))
        _ = lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(1))
        _ = lifecycle.handle(.started, at: Self.at(1))
        _ = lifecycle.handle(.probed(healthy: true), at: Self.at(2))
        _ = lifecycle.handle(.probed(healthy: false), at: Self.at(8))
        _ = lifecycle.handle(.probed(healthy: true), at: Self.at(9))
        _ = lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(15))
        #expect(lifecycle.backoffStep == 1, "healthy since 9 s only: 6 s < 10 s")
        _ = lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(19))
        #expect(lifecycle.backoffStep == 0)
    }

    @Test("failureThreshold failures make it Unhealthy, as many more restart it, a success in between forgives")
    func liveness() {
        var lifecycle = Self.running(Self.spec(health: Self.check))
        #expect(lifecycle.phase == .starting)
        #expect(lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(0)) == [.probe])
        #expect(lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(0.1)) == [], "one probe at a time")
        _ = lifecycle.handle(.probed(healthy: true), at: Self.at(0.2))
        #expect(lifecycle.phase == .healthy)
        var phases: [InstancePhase] = []
        var stops = 0
        for n in 1...6 {
            let actions = lifecycle.handle(.probed(healthy: false), at: Self.at(Double(n)))
            phases.append(lifecycle.phase)
            stops += actions.filter { $0 == .stop }.count
            if n == 4 { _ = lifecycle.handle(.probed(healthy: true), at: Self.at(4.5)) }
        }
        // 1, 2: still Healthy; 3: Unhealthy; 4: Unhealthy, then a success; 5, 6: Healthy again (2 failures).
        #expect(phases == [.healthy, .healthy, .unhealthy, .unhealthy, .healthy, .healthy])
        #expect(stops == 0)
        var actions: [InstanceLifecycle.Action] = []
        for n in 7...10 { actions += lifecycle.handle(.probed(healthy: false), at: Self.at(Double(n))) }
        #expect(actions.filter { $0 == .stop }.count == 1, "6 consecutive failures: restarted once")
        #expect(lifecycle.stage == .stopping)
        _ = lifecycle.handle(.exited(status: .init(code: 143, signalled: true), oomKilled: false), at: Self.at(11))
        #expect(lifecycle.stage == .waiting && lifecycle.dueAt != nil)
        #expect(lifecycle.message?.contains("consecutive failed health checks") == true)
    }

    @Test("a liveness restart counts as a failure for on-failure and never restarts under never")
    func livenessPolicies() {
        for (policy, restarts) in [(RestartMode.onFailure, true), (.never, false)] {
            var lifecycle = Self.running(Self.spec(policy: policy, health: Self.check))
            for n in 1...6 { _ = lifecycle.handle(.probed(healthy: false), at: Self.at(Double(n))) }
            _ = lifecycle.handle(.exited(status: .init(code: 0, signalled: false), oomKilled: false), at: Self.at(7))
            #expect((lifecycle.dueAt != nil) == restarts, "\(policy)")
        }
    }

    @Test("without a health check an instance is Running and probes nothing")
    func noHealthCheck() {
        var lifecycle = Self.running(Self.spec())
        #expect(lifecycle.phase == .running)
        #expect(lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(100)) == [])
        #expect(lifecycle.handle(.probed(healthy: false), at: Self.at(101)) == [])
        #expect(lifecycle.phase == .running)
    }

    @Test("an image is pulled first; a failed pull is retried from 1 s doubling to 5 min, with the reason")
    func pullRetries() {
        var lifecycle = InstanceLifecycle(spec: Self.spec(image: true))
        #expect(lifecycle.begin() == [.pull, .report])
        #expect(lifecycle.phase == .starting)
        _ = lifecycle.handle(.pullProgress("pulling sha256:ab…: 1/3 layers"), at: Self.at(0))
        #expect(lifecycle.message == "pulling sha256:ab…: 1/3 layers")
        var delays: [TimeInterval] = []
        var now = Self.at(0)
        for _ in 0..<11 {
            _ = lifecycle.handle(.pullFailed("connection refused"), at: now)
            #expect(lifecycle.phase == .starting)
            #expect(lifecycle.message?.hasPrefix("image pull failed: connection refused; retrying in") == true)
            delays.append(lifecycle.dueAt!.timeIntervalSince(now))
            now = lifecycle.dueAt!
            #expect(lifecycle.handle(.tick(disconnectedFor: 0), at: now) == [.pull])
        }
        #expect(delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300])
        #expect(lifecycle.handle(.pulled, at: now) == [.start])
        _ = lifecycle.handle(.started, at: now)
        #expect(lifecycle.phase == .running)
    }

    @Test("a start that fails is Failed with its reason and retried under the policy")
    func startFails() {
        var lifecycle = InstanceLifecycle(spec: Self.spec(policy: .onFailure))
        _ = lifecycle.handle(.startFailed("runc: no such file"), at: Self.at(0))
        #expect(lifecycle.phase == .failed)
        #expect(lifecycle.message?.hasPrefix("cannot start: runc: no such file") == true)
        #expect(lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(1)) == [.start, .report])
        #expect(lifecycle.restarts == 1)
    }

    @Test("cut off for stopAfterDisconnect it stops, and starts again once the controller answers")
    func disconnection() {
        var lifecycle = Self.running(Self.spec(stopAfter: .seconds(30)))
        #expect(lifecycle.handle(.tick(disconnectedFor: 29), at: Self.at(29)) == [])
        #expect(lifecycle.handle(.tick(disconnectedFor: 30), at: Self.at(30)) == [.stop, .report])
        #expect(lifecycle.phase == .stopped)
        // Its exit is expected: no restart while cut off.
        #expect(
            lifecycle.handle(.exited(status: .init(code: 143, signalled: true), oomKilled: false), at: Self.at(31))
                == [])
        #expect(lifecycle.handle(.tick(disconnectedFor: 60), at: Self.at(60)) == [])
        #expect(lifecycle.handle(.tick(disconnectedFor: 0), at: Self.at(61)) == [.start, .report])
        _ = lifecycle.handle(.started, at: Self.at(61))
        #expect(lifecycle.phase == .running)
        #expect(lifecycle.restarts == 0, "not a restart")
    }

    @Test("a start that completes after the cut-off is stopped at once")
    func startedWhileCutOff() {
        var lifecycle = InstanceLifecycle(spec: Self.spec(stopAfter: .seconds(5)))
        #expect(lifecycle.handle(.tick(disconnectedFor: 5), at: Self.at(5)).contains(.stop))
        #expect(lifecycle.handle(.started, at: Self.at(6)) == [.stop])
        #expect(lifecycle.phase == .stopped)
    }

    @Test("without stopAfterDisconnect an instance keeps running however long the controller is away")
    func staysWithoutLimit() {
        var lifecycle = Self.running(Self.spec())
        #expect(lifecycle.handle(.tick(disconnectedFor: 86_400), at: Self.at(86_400)) == [])
        #expect(lifecycle.phase == .running)
    }

    @Test("events that do not fit the stage change nothing")
    func strayEvents() {
        var lifecycle = InstanceLifecycle(spec: Self.spec())
        let before = lifecycle
        #expect(
            lifecycle.handle(.exited(status: .init(code: 1, signalled: false), oomKilled: false), at: Self.at(0)) == [])
        #expect(lifecycle.handle(.probed(healthy: false), at: Self.at(0)) == [])
        #expect(lifecycle.handle(.pullProgress("x"), at: Self.at(0)) == [])
        #expect(lifecycle == before)
    }
}
