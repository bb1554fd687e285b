import Foundation
import TansiqModel

/// The life of one instance on its node, as a pure state machine: an event in (the image
/// pulled, the process started or exited, a probe answered, time passed), actions out (pull,
/// start, stop, probe, report). No I/O and no clock: `now` comes with every event. The
/// supervisor carries the actions out and feeds back what happened.
///
/// Rules (DESIGN's "Running instances"): restarts follow the policy (`always`; `on-failure` for
/// a non-zero exit, a kill, an OOM kill or a liveness restart; `never`), after `backoff` doubled
/// per consecutive restart up to `maxBackoff`, the doubling reset once the instance has run
/// healthy (or, without a health check, running) for ten times `backoff`. `failureThreshold`
/// consecutive failed probes make it `Unhealthy`; `failureThreshold` more while `Unhealthy`
/// restart it (liveness). A failed pull is retried after 1 s doubling to 5 min. With
/// `stopAfterDisconnect`, an instance cut off from the controller that long is stopped, and
/// started again once the controller answers.
public struct InstanceLifecycle: Sendable, Hashable, Codable {
    /// What of the assignment the lifecycle decides on.
    public struct Spec: Sendable, Hashable, Codable {
        public var needsImage: Bool
        public var health: HealthCheck?
        public var restart: RestartPolicy
        public var stopAfterDisconnect: Span?
        /// For the OOM message.
        public var memoryBytes: Int64

        public init(
            needsImage: Bool, health: HealthCheck?, restart: RestartPolicy, stopAfterDisconnect: Span?,
            memoryBytes: Int64
        ) {
            self.needsImage = needsImage
            self.health = health
            self.restart = restart
            self.stopAfterDisconnect = stopAfterDisconnect
            self.memoryBytes = memoryBytes
        }
    }

    /// Where the instance is.
    public enum Stage: String, Sendable, Hashable, Codable {
        /// Waiting for its image: a pull in flight, or the next attempt due at `dueAt`.
        case pulling
        /// A start was asked for.
        case starting
        /// Its process runs.
        case running
        /// Its process was asked to stop, to be restarted (liveness).
        case stopping
        /// Its process ended; a restart is due at `dueAt` (nil: never).
        case waiting
        /// Stopped because the controller has been unreachable for `stopAfterDisconnect`.
        case disconnected
    }

    /// What the supervisor must do.
    public enum Action: Sendable, Hashable {
        case pull, start, stop, probe
        /// Something the node reports changed (phase, message, exit code, restarts).
        case report
    }

    /// What happened.
    public enum Event: Sendable, Hashable {
        case pulled
        case pullFailed(String)
        case pullProgress(String)
        case started
        case startFailed(String)
        /// The process ended; `status` nil when the agent cannot know how.
        case exited(status: ExitStatus?, oomKilled: Bool)
        case probed(healthy: Bool)
        /// Time passed; `disconnectedFor` is how long the controller has not answered (0 while it does).
        case tick(disconnectedFor: TimeInterval)
    }

    public let spec: Spec
    public private(set) var stage: Stage
    public private(set) var phase: InstancePhase = .starting
    public private(set) var message: String?
    public private(set) var exitCode: Int?
    public private(set) var restarts = 0
    /// `pulling`: when the next pull is due; `waiting`: when the restart is due.
    public private(set) var dueAt: Date?
    /// Consecutive failed pulls.
    private(set) var pullFailures = 0
    /// Consecutive restarts since the backoff last reset.
    public private(set) var backoffStep = 0
    /// Running healthy (or, without a check, running) since.
    private(set) var goodSince: Date?
    /// When the next probe is due, and whether one is under way.
    private(set) var probeAt: Date?
    private(set) var probing = false
    /// Consecutive failed probes.
    public private(set) var failures = 0

    /// A new instance; `begin(at:)` gives its first actions.
    public init(spec: Spec) {
        self.spec = spec
        stage = spec.needsImage ? .pulling : .starting
        if spec.needsImage { message = "waiting for its image" }
    }

    /// The first actions of a new instance.
    public func begin() -> [Action] { [stage == .pulling ? .pull : .start, .report] }

    /// An instance whose process was found running by a restarted agent: it carries on.
    public mutating func adopted(at now: Date) {
        stage = .running
        probing = false
        probeAt = now
    }

    /// Handles one event; returns what to do.
    public mutating func handle(_ event: Event, at now: Date) -> [Action] {
        let before = (phase, message, exitCode, restarts)
        var actions = step(event, now: now)
        if before != (phase, message, exitCode, restarts) { actions.append(.report) }
        return actions
    }

    private mutating func step(_ event: Event, now: Date) -> [Action] {
        switch event {
        case .pulled:
            guard stage == .pulling || stage == .starting else { return [] }
            stage = .starting
            pullFailures = 0
            return [.start]
        case .pullFailed(let reason):
            guard stage == .pulling || stage == .starting else { return [] }
            stage = .pulling
            pullFailures += 1
            let delay = min(300, pow(2, Double(min(pullFailures - 1, 16))))
            dueAt = now.addingTimeInterval(delay)
            phase = .starting
            message = "image pull failed: \(reason); retrying in \(Self.seconds(delay))"
            return []
        case .pullProgress(let text):
            if stage == .pulling, dueAt == nil { message = text }
            return []
        case .started:
            if stage == .disconnected { return [.stop] }
            guard stage == .starting else { return [] }
            stage = .running
            phase = spec.health == nil ? .running : .starting
            message = nil
            exitCode = nil
            goodSince = spec.health == nil ? now : nil
            probeAt = now
            probing = false
            failures = 0
            return []
        case .startFailed(let reason):
            guard stage == .starting else { return [] }
            phase = .failed
            message = "cannot start: \(reason)"
            return restartAfterEnd(failed: true, now: now)
        case .exited(let status, let oomKilled):
            guard stage == .running || stage == .stopping else { return [] }
            let liveness = stage == .stopping
            exitCode = status?.code
            if oomKilled {
                phase = .oomKilled
                exitCode = 137
                message = "killed for exceeding its memory limit of \(Quantity.formatBytes(spec.memoryBytes))"
            } else if liveness {
                phase = .exited
                message = "stopped after \(failures) consecutive failed health checks"
            } else if let status {
                phase = .exited
                message = status.signalled ? "killed by signal \(status.code - 128)" : "exited with code \(status.code)"
            } else {
                phase = .exited
                message = "exited while the agent was not watching (exit status unknown)"
            }
            let failed = oomKilled || liveness || status == nil || status?.code != 0
            return restartAfterEnd(failed: failed, now: now)
        case .probed(let healthy):
            probing = false
            guard stage == .running, let check = spec.health else { return [] }
            probeAt = now.addingTimeInterval(check.interval.seconds)
            if healthy {
                failures = 0
                phase = .healthy
                message = nil
                if goodSince == nil { goodSince = now }
                return []
            }
            failures += 1
            goodSince = nil
            if failures >= check.failureThreshold {
                phase = .unhealthy
                message = "\(failures) consecutive health checks failed"
            }
            if failures >= 2 * check.failureThreshold {
                stage = .stopping
                message = "restarting: Unhealthy for \(check.failureThreshold) consecutive health checks"
                return [.stop]
            }
            return []
        case .tick(let disconnectedFor):
            return tick(disconnectedFor: disconnectedFor, now: now)
        }
    }

    private mutating func tick(disconnectedFor: TimeInterval, now: Date) -> [Action] {
        if let limit = spec.stopAfterDisconnect, stage != .disconnected,
            disconnectedFor * 1000 >= Double(limit.milliseconds)
        {
            let hadProcess = stage == .running || stage == .stopping || stage == .starting
            stage = .disconnected
            phase = .stopped
            message = "stopped: cut off from the controller for \(Int(disconnectedFor)) s"
            dueAt = nil
            probing = false
            return hadProcess ? [.stop] : []
        }
        switch stage {
        case .disconnected:
            guard disconnectedFor == 0 else { return [] }
            stage = spec.needsImage ? .pulling : .starting
            phase = .starting
            message = nil
            return [stage == .pulling ? .pull : .start]
        case .pulling:
            guard let due = dueAt, due <= now else { return [] }
            dueAt = nil
            return [.pull]
        case .waiting:
            guard let due = dueAt, due <= now else { return [] }
            dueAt = nil
            restarts += 1
            stage = .starting
            return [.start]
        case .running:
            if let since = goodSince, now.timeIntervalSince(since) >= spec.restart.backoff.seconds * 10 {
                backoffStep = 0
            }
            guard spec.health != nil, !probing, let due = probeAt, due <= now else { return [] }
            probing = true
            return [.probe]
        case .starting, .stopping:
            return []
        }
    }

    /// After the process ended (or could not start): a restart with backoff when the policy
    /// wants one.
    private mutating func restartAfterEnd(failed: Bool, now: Date) -> [Action] {
        stage = .waiting
        goodSince = nil
        probing = false
        let restart =
            switch spec.restart.policy {
            case .always: true
            case .onFailure: failed
            case .never: false
            }
        guard restart else {
            dueAt = nil
            return []
        }
        let delay = min(
            spec.restart.maxBackoff.seconds, spec.restart.backoff.seconds * pow(2, Double(min(backoffStep, 30))))
        backoffStep += 1
        dueAt = now.addingTimeInterval(delay)
        message = (message.map { $0 + "; " } ?? "") + "restarting in \(Self.seconds(delay))"
        return []
    }

    static func seconds(_ value: TimeInterval) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}
