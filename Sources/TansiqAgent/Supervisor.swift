import AsyncHTTPClient
import Foundation
import TansiqModel

/// One instance the agent manages, as its state file keeps it.
struct Managed: Codable, Sendable {
    var assignment: AgentProtocol.Assignment
    var pid: Int32 = 0
    var startTime: UInt64 = 0
    var phase: InstancePhase = .starting
    var exitCode: Int?
    var restarts = 0
    var ports: [String: Int] = [:]
    var message: String?
    /// When a restart is due (after an exit, with backoff).
    var restartAt: Date?
    /// Consecutive failed health checks.
    var healthFailures = 0
    /// When the next health check is due.
    var healthAt: Date?
    /// Stopped because the controller was unreachable too long (restarted when it is back).
    var stoppedForDisconnect = false

    var id: String { assignment.id }
}

/// Converges this node's processes onto its assignments: starts what is assigned, stops what is
/// not, restarts by policy with exponential backoff, checks health, enforces limits through
/// cgroups, and keeps a state file so that a restarted agent adopts its running instances
/// instead of starting them twice.
actor Supervisor {
    private var instances: [String: Managed] = [:]
    /// `Process` objects of instances this agent started (adopted ones have none).
    private var processes: [String: Process] = [:]
    /// Exit statuses delivered by `Process` termination handlers, by pid.
    private var exits: [Int32: (status: Int32, signalled: Bool)] = [:]
    /// True when something worth reporting changed since `takeChanged()` was last called.
    private var changedSinceReport = false
    private let directory: AgentDirectory
    private let cgroups: Cgroups
    private let portRange: ClosedRange<Int>
    private let http: HTTPClient
    /// Log files are rotated past this size.
    let logLimit: Int64 = 8 << 20

    init(directory: AgentDirectory, cgroups: Cgroups, portRange: ClosedRange<Int>, http: HTTPClient) {
        self.directory = directory
        self.cgroups = cgroups
        self.portRange = portRange
        self.http = http
    }

    /// Reads the state file: instances still running (same pid, same start time) are adopted;
    /// the others are due for a restart by their policy. Returns how many were adopted.
    func adopt() -> Int {
        guard let data = FileManager.default.contents(atPath: directory.state),
            let saved = try? JSONDecoder().decode([String: Managed].self, from: data)
        else { return 0 }
        var adopted = 0
        for (id, var instance) in saved {
            if instance.pid > 0, ProcessDriver.isAlive(pid: instance.pid, startTime: instance.startTime) {
                adopted += 1
            } else if instance.phase == .running || instance.phase == .healthy || instance.phase == .unhealthy
                || instance.phase == .starting
            {
                instance.phase = .exited
                instance.message = "exited while the agent was down"
                instance.restartAt = Date()
                instance.pid = 0
            }
            instances[id] = instance
        }
        return adopted
    }

    /// Reports of every managed instance, for the status.
    func reports() -> [AgentProtocol.InstanceReport] {
        instances.values.sorted { $0.id < $1.id }.map {
            AgentProtocol.InstanceReport(
                id: $0.id, phase: $0.phase, exitCode: $0.exitCode, restarts: $0.restarts, ports: $0.ports,
                message: $0.message)
        }
    }

    /// Converges onto `assignments`: new ones start, gone ones stop.
    func converge(_ assignments: [AgentProtocol.Assignment], now: Date) async {
        let wanted = Dictionary(assignments.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for id in instances.keys where wanted[id] == nil {
            await stop(id, remove: true)
        }
        for (id, assignment) in wanted.sorted(by: { $0.key < $1.key }) where instances[id] == nil {
            instances[id] = Managed(assignment: assignment)
            launch(id, now: now)
        }
        save()
    }

    /// One round of upkeep: exits noticed, restarts due, health checks due, logs rotated, and
    /// instances that asked for it stopped when the controller has been unreachable too long
    /// (`disconnectedFor`) — and started again once it is back.
    func tick(now: Date, disconnectedFor: TimeInterval) async {
        var changed = false
        for id in instances.keys.sorted() {
            guard var instance = instances[id] else { continue }
            if let limit = instance.assignment.stopAfterDisconnect,
                disconnectedFor * 1000 >= Double(limit.milliseconds),
                !instance.stoppedForDisconnect, instance.pid > 0
            {
                await stop(id, remove: false)
                instances[id]?.stoppedForDisconnect = true
                instances[id]?.phase = .stopped
                instances[id]?.message = "stopped: cut off from the controller for \(Int(disconnectedFor)) s"
                changed = true
                continue
            }
            if instance.stoppedForDisconnect {
                if disconnectedFor == 0 {
                    instances[id]?.stoppedForDisconnect = false
                    launch(id, now: now)
                    changed = true
                }
                continue
            }
            if instance.pid > 0, hasExited(instance) {
                exited(&instance, now: now)
                instances[id] = instance
                changed = true
            }
            if let due = instances[id]?.restartAt, due <= now {
                launch(id, now: now)
                changed = true
            }
            guard let current = instances[id], current.pid > 0 else { continue }
            ProcessDriver.rotate(log(of: id), limit: logLimit)
            if let check = current.assignment.health, current.healthAt.map({ $0 <= now }) ?? true {
                instances[id]?.healthAt = now.addingTimeInterval(Double(check.interval.milliseconds) / 1000)
                let healthy = await Probes.run(
                    check, ports: current.ports, environment: environment(of: current), http: http)
                guard var after = instances[id], after.pid == current.pid else { continue }
                let before = after.phase
                if healthy {
                    after.healthFailures = 0
                    after.phase = .healthy
                } else {
                    after.healthFailures += 1
                    if after.healthFailures >= check.failureThreshold { after.phase = .unhealthy }
                }
                instances[id] = after
                changed = changed || before != after.phase
            }
        }
        if changed { save() }
    }

    /// Records an exit: OOMKilled when the kernel killed it for memory, Failed when it could not
    /// start, else Exited with its code; schedules a restart as the policy says.
    private func exited(_ instance: inout Managed, now: Date) {
        let exit = exits.removeValue(forKey: instance.pid)
        processes[instance.id] = nil
        instance.pid = 0
        if cgroups.oomKilled(instance: instance.id) {
            instance.phase = .oomKilled
            instance.exitCode = 137
            instance.message =
                "killed for exceeding its memory limit of \(Quantity.formatBytes(instance.assignment.resources.memoryBytes))"
        } else if let exit, exit.status == ProcessDriver.cgroupFailure, !exit.signalled {
            instance.phase = .failed
            instance.exitCode = Int(exit.status)
            instance.message = "could not join its cgroup"
        } else {
            instance.phase = .exited
            instance.exitCode = exit.map { $0.signalled ? 128 + Int($0.status) : Int($0.status) }
            instance.message = instance.exitCode.map { "exited with code \($0)" } ?? "exited"
        }
        cgroups.remove(instance: instance.id)
        let restart: Bool
        switch instance.assignment.restart.policy {
        case .always: restart = true
        case .onFailure: restart = instance.exitCode != 0
        case .never: restart = false
        }
        if restart {
            let base = Double(instance.assignment.restart.backoff.milliseconds) / 1000
            let cap = Double(instance.assignment.restart.maxBackoff.milliseconds) / 1000
            let delay = min(cap, base * pow(2, Double(min(instance.restarts, 30))))
            instance.restartAt = now.addingTimeInterval(delay)
        }
    }

    private func log(of id: String) -> String { directory.instances + "/\(id)/output.log" }

    /// An instance's environment: its `run.env`, `PORT_<NAME>` of its ports, and who it is.
    private func environment(of instance: Managed) -> [String: String] {
        let app = instance.assignment
        var environment = app.run.env
        for port in app.ports { environment[port.environmentName] = String(instance.ports[port.name] ?? port.port) }
        environment["TANSIQ_INSTANCE"] = instance.id
        environment["TANSIQ_MINISTRY"] = app.ministry
        environment["TANSIQ_APPLICATION"] = app.application
        return environment
    }

    /// Starts (or restarts) an instance.
    private func launch(_ id: String, now: Date) {
        guard var instance = instances[id] else { return }
        let isRestart = instance.restartAt != nil
        instance.restartAt = nil
        instance.healthFailures = 0
        instance.healthAt = nil
        if instance.ports.isEmpty { instance.ports = allocatePorts(for: instance.assignment) }
        let workdir = directory.instances + "/\(id)"
        let app = instance.assignment
        let environment = environment(of: instance)
        do {
            try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
            let procs = try cgroups.prepare(
                instance: id, memoryBytes: app.resources.memoryBytes, cpuMillis: app.resources.cpuMillis)
            let started = try ProcessDriver.start(
                ProcessDriver.Launch(
                    command: app.run.command, environment: environment,
                    workingDirectory: app.run.workingDirectory ?? workdir, cgroupProcs: procs, log: log(of: id))
            ) { [weak self] pid, status, signalled in
                guard let self else { return }
                Task { await self.recordExit(pid: pid, status: status, signalled: signalled) }
            }
            if isRestart { instance.restarts += 1 }
            instance.pid = started.pid
            instance.startTime = started.startTime
            instance.phase = app.health == nil ? .running : .starting
            instance.exitCode = nil
            instance.message = nil
            processes[id] = started.process
        } catch {
            instance.phase = .failed
            instance.message = "cannot start: \(error)"
            instance.restartAt = now.addingTimeInterval(Double(app.restart.maxBackoff.milliseconds) / 1000)
        }
        instances[id] = instance
    }

    private func recordExit(pid: Int32, status: Int32, signalled: Bool) {
        exits[pid] = (status, signalled)
    }

    /// True when the instance's process has ended: for a child of this agent, once its exit
    /// status arrived; for an adopted one, once /proc no longer shows it.
    private func hasExited(_ instance: Managed) -> Bool {
        if processes[instance.id] != nil { return exits[instance.pid] != nil }
        return !ProcessDriver.isAlive(pid: instance.pid, startTime: instance.startTime)
    }

    /// Stops an instance's process group (SIGTERM, then SIGKILL after 10 s).
    private func stop(_ id: String, remove: Bool) async {
        guard let instance = instances[id] else { return }
        if instance.pid > 0 {
            await ProcessDriver.stop(pid: instance.pid, startTime: instance.startTime, grace: .seconds(10))
        }
        processes[id] = nil
        cgroups.remove(instance: id)
        if remove {
            instances[id] = nil
        } else {
            instances[id]?.pid = 0
        }
    }

    /// Ports for an assignment: fixed ones as given, the others from the range, apart from the
    /// ports of the other instances here.
    private func allocatePorts(for assignment: AgentProtocol.Assignment) -> [String: Int] {
        var used = Set(instances.values.flatMap { $0.ports.values })
        var ports: [String: Int] = [:]
        for port in assignment.ports {
            if port.port > 0 {
                ports[port.name] = port.port
                continue
            }
            if let free = portRange.first(where: { !used.contains($0) && Self.portIsFree($0) }) {
                ports[port.name] = free
                used.insert(free)
            }
        }
        return ports
    }

    /// True when nothing listens on the port (a bind succeeds).
    static func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Whether something changed since the last call.
    func takeChanged() -> Bool {
        defer { changedSinceReport = false }
        return changedSinceReport
    }

    /// Writes the state file (atomically).
    private func save() {
        changedSinceReport = true
        guard let data = try? JSONEncoder().encode(instances) else { return }
        try? directory.write(data, to: directory.state, mode: 0o600)
    }
}
