import AsyncHTTPClient
import Foundation
import TansiqAPI
import TansiqModel
import TansiqRegistry

/// One instance the agent manages, as its state file keeps it (its secrets' names and mounts,
/// never their values).
struct Managed: Codable, Sendable {
    var assignment: AgentProtocol.Assignment
    var lifecycle: InstanceLifecycle
    /// Its process while one runs.
    var process: StartedProcess?
    var ports: [String: Int] = [:]

    var id: String { assignment.id }
}

/// Converges this node onto its assignments and carries out what each instance's
/// `InstanceLifecycle` decides: pulls images, starts and stops instances through the runtime,
/// probes health, notices exits. It keeps a state file, so that a restarted agent adopts the
/// instances still running instead of starting them twice.
actor Supervisor {
    private var instances: [String: Managed] = [:]
    /// True when something worth reporting changed since `takeChanged()` was last called.
    private var changedSinceReport = false
    private let directory: AgentDirectory
    private let runtime: any InstanceRuntime
    private let images: ImageStore
    private let portRange: ClosedRange<Int>
    private let http: HTTPClient
    /// Log files are rotated past this size.
    let logLimit: Int64 = 8 << 20
    /// How long a stopping instance gets between SIGTERM and SIGKILL.
    let stopGrace: Duration = .seconds(10)
    private var ticks = 0
    /// Each log's size at its last checkpoint.
    private var logSizes: [String: Int64] = [:]
    /// The values of each instance's secrets, as its last assignments gave them: in memory only.
    private var secretValues: [String: [AgentProtocol.AssignedSecret]] = [:]
    /// The tmpfs mounts that hold them inside the instances.
    private let secretFiles: SecretFiles

    init(
        directory: AgentDirectory, runtime: any InstanceRuntime, images: ImageStore, portRange: ClosedRange<Int>,
        http: HTTPClient
    ) {
        self.directory = directory
        self.runtime = runtime
        self.images = images
        self.portRange = portRange
        self.http = http
        self.secretFiles = SecretFiles(root: directory.secrets)
    }

    /// An assignment as the state file keeps it: its secrets without their values.
    static func withoutValues(_ assignment: AgentProtocol.Assignment) -> AgentProtocol.Assignment {
        var kept = assignment
        kept.secrets = assignment.secrets?.map { secret in
            var nameOnly = secret
            nameOnly.data = [:]
            return nameOnly
        }
        return kept
    }

    /// Reads the state file: instances whose process still runs are adopted, the others are
    /// handled as exited (their restart policy decides); whatever the runtime holds that the
    /// state file does not name is removed. Returns how many were adopted.
    func adopt() async -> Int {
        let saved =
            FileManager.default.contents(atPath: directory.state).flatMap {
                try? WireJSON.decoder().decode([String: Managed].self, from: $0)
            } ?? [:]
        await runtime.removeStrays(known: Set(saved.keys))
        for instance in secretFiles.instances() where saved[instance] == nil { secretFiles.clear(instance: instance) }
        var adopted = 0
        let now = Date()
        for (id, var managed) in saved {
            instances[id] = managed
            if let process = managed.process {
                if await runtime.isRunning(id, process) {
                    managed.lifecycle.adopted(at: now)
                    instances[id] = managed
                    adopted += 1
                } else {
                    let report = runtime.exit(of: id, process) ?? ExitReport(status: nil, oomKilled: false)
                    await ended(id, report)
                }
            } else {
                switch managed.lifecycle.stage {
                case .pulling: perform(id, [.pull])
                case .starting: perform(id, [.start])
                default: break
                }
            }
        }
        save()
        return adopted
    }

    /// Reports of every managed instance, for the status.
    func reports() -> [AgentProtocol.InstanceReport] {
        instances.values.sorted { $0.id < $1.id }.map {
            AgentProtocol.InstanceReport(
                id: $0.id, phase: $0.lifecycle.phase, exitCode: $0.lifecycle.exitCode,
                restarts: $0.lifecycle.restarts, ports: $0.ports, message: $0.lifecycle.message)
        }
    }

    /// Converges onto `assignments`: new ones start, gone ones are stopped and removed.
    func converge(_ assignments: [AgentProtocol.Assignment]) async {
        let wanted = Dictionary(assignments.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var gone: [Managed] = []
        for (id, managed) in instances where wanted[id] == nil {
            instances[id] = nil
            secretValues[id] = nil
            logSizes[id] = nil
            gone.append(managed)
        }
        for (id, assignment) in wanted where instances[id] != nil {
            refreshSecrets(id, assignment.secrets ?? [])
        }
        for (id, assignment) in wanted.sorted(by: { $0.key < $1.key }) where instances[id] == nil {
            secretValues[id] = assignment.secrets ?? []
            let assignment = Self.withoutValues(assignment)
            let lifecycle = InstanceLifecycle(
                spec: .init(
                    needsImage: assignment.image != nil, health: assignment.health, restart: assignment.restart,
                    stopAfterDisconnect: assignment.stopAfterDisconnect,
                    memoryBytes: assignment.resources.memoryBytes))
            instances[id] = Managed(assignment: assignment, lifecycle: lifecycle)
            perform(id, lifecycle.begin())
        }
        save()
        await withTaskGroup(of: Void.self) { group in
            for managed in gone { group.addTask { await self.remove(managed) } }
        }
    }

    /// New values of an instance's secrets: kept in memory, and written over the files of a running
    /// instance's mounts (an application that restarts on them gets new instances instead).
    private func refreshSecrets(_ id: String, _ secrets: [AgentProtocol.AssignedSecret]) {
        let known = secretValues[id] ?? []
        secretValues[id] = secrets
        guard let managed = instances[id], managed.process != nil else { return }
        for secret in secrets where secret.mount != nil {
            guard known.first(where: { $0.name == secret.name })?.version != secret.version else { continue }
            let dir = secretFiles.directory(id, secret.name)
            if SecretFiles.isMountPoint(dir) {
                try? secretFiles.write(secret, in: dir, runAs: managed.assignment.runAs)
            }
        }
    }

    /// Stops an instance no longer assigned and removes its container, bundle and data; its
    /// log stays a while (`collectLogs`).
    private func remove(_ managed: Managed) async {
        if let process = managed.process {
            await runtime.stop(managed.id, process, grace: stopGrace)
            _ = runtime.exit(of: managed.id, process)
        }
        await runtime.release(managed.id)
        secretFiles.clear(instance: managed.id)
        try? FileManager.default.removeItem(atPath: instanceDirectory(managed.id) + "/data")
    }

    /// One round of upkeep: exits noticed, pull progress, the lifecycles' timers (restarts,
    /// probes, retries, disconnection), logs rotated.
    func tick(disconnectedFor: TimeInterval) async {
        ticks += 1
        for id in instances.keys.sorted() {
            guard let managed = instances[id] else { continue }
            if let process = managed.process, let report = runtime.exit(of: id, process) {
                await ended(id, report)
            }
            if managed.lifecycle.stage == .pulling, let image = managed.assignment.image,
                let progress = await images.progress(of: image.digest)
            {
                deliver(id, .pullProgress(progress))
            }
            deliver(id, .tick(disconnectedFor: disconnectedFor))
            if managed.process != nil { keepLog(id) }
        }
        // Every minute or so: images no instance uses beyond the cache size, old logs.
        if ticks % 240 == 1 {
            await images.collect(inUse: Set(instances.values.compactMap { $0.assignment.image?.digest }))
            collectLogs(olderThan: 3600)
        }
    }

    /// An instance's process ended: its runtime resources are released, then its lifecycle decides.
    private func ended(_ id: String, _ report: ExitReport) async {
        instances[id]?.process = nil
        save()
        await runtime.release(id)
        secretFiles.clear(instance: id)
        deliver(id, .exited(status: report.status, oomKilled: report.oomKilled))
    }

    /// Feeds an event to an instance's lifecycle and carries out its actions.
    private func deliver(_ id: String, _ event: InstanceLifecycle.Event) {
        guard var managed = instances[id] else { return }
        let actions = managed.lifecycle.handle(event, at: Date())
        instances[id] = managed
        perform(id, actions)
    }

    private func perform(_ id: String, _ actions: [InstanceLifecycle.Action]) {
        guard let managed = instances[id] else { return }
        for action in actions {
            switch action {
            case .report:
                save()
            case .pull:
                guard let image = managed.assignment.image else { continue }
                Task {
                    do {
                        _ = try await images.image(image)
                        self.deliver(id, .pulled)
                    } catch {
                        self.deliver(id, .pullFailed("\(error)"))
                    }
                }
            case .start:
                Task { await self.launch(id) }
            case .stop:
                guard let process = managed.process else { continue }
                Task { await runtime.stop(id, process, grace: stopGrace) }
            case .probe:
                Task { await self.probe(id) }
            }
        }
    }

    /// Starts an instance whose lifecycle asked for it.
    private func launch(_ id: String) async {
        guard var managed = instances[id], managed.lifecycle.stage == .starting, managed.process == nil else {
            return
        }
        var image: PulledImage?
        if let assigned = managed.assignment.image {
            do {
                image = try await images.image(assigned)
            } catch {
                return deliver(id, .pullFailed("\(error)"))
            }
        }
        if managed.ports.isEmpty {
            managed.ports = allocatePorts(for: managed.assignment)
            instances[id]?.ports = managed.ports
        }
        var launch: Launch
        do {
            launch = try self.launch(for: managed, image: image)
            launch.secretMounts = try secretFiles.prepare(
                instance: id, secrets: secretValues[id] ?? [], runAs: managed.assignment.runAs)
        } catch {
            secretFiles.clear(instance: id)
            return deliver(id, .startFailed("\(error)"))
        }
        do {
            let process = try await runtime.start(launch)
            guard instances[id] != nil else {
                // Removed while it started.
                await runtime.stop(id, process, grace: stopGrace)
                _ = runtime.exit(of: id, process)
                return await runtime.release(id)
            }
            instances[id]?.process = process
            save()
            deliver(id, .started)
        } catch {
            await runtime.release(id)
            secretFiles.clear(instance: id)
            deliver(id, .startFailed("\(error)"))
        }
    }

    /// What the runtime needs: the command (`run.command`, else the image's entrypoint and
    /// cmd), the environment (the image's, `run.env`, then the agent's variables).
    func launch(for managed: Managed, image: PulledImage?) throws -> Launch {
        let app = managed.assignment
        let command =
            app.run.command.isEmpty ? (image?.config.Entrypoint ?? []) + (image?.config.Cmd ?? []) : app.run.command
        guard !command.isEmpty else {
            throw AgentError.invalid("the image names no entrypoint or cmd, and run.command is not set")
        }
        var environment = image?.config.Env ?? []
        var own = app.run.env
        for port in app.ports { own[port.environmentName] = String(managed.ports[port.name] ?? port.port) }
        for (name, ref) in app.run.secretEnv {
            guard let secret = secretValues[app.id]?.first(where: { $0.name == ref.secret }) else {
                throw AgentError.invalid("waiting for the values of secret \(ref.secret) from the controller")
            }
            guard let bytes = secret.bytes(ref.key) else {
                throw AgentError.invalid("secret \(ref.secret) has no key \(ref.key) (for \(name))")
            }
            own[name] = String(decoding: bytes, as: UTF8.self)
        }
        let mounted = (app.secrets ?? []).filter { $0.mount != nil }.map(\.name)
        if let missing = mounted.first(where: { name in secretValues[app.id]?.contains { $0.name == name } != true }) {
            throw AgentError.invalid("waiting for the values of secret \(missing) from the controller")
        }
        own["TANSIQ_INSTANCE"] = app.id
        own["TANSIQ_MINISTRY"] = app.ministry
        own["TANSIQ_APPLICATION"] = app.application
        let keys = Set(environment.map { String($0.prefix(while: { $0 != "=" })) })
        if image == nil, !keys.contains("PATH"), own["PATH"] == nil {
            own["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        }
        if runtime.isolation == .runc, !keys.contains("HOME"), own["HOME"] == nil { own["HOME"] = "/data" }
        environment.removeAll { own[String($0.prefix(while: { $0 != "=" }))] != nil }
        environment += own.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let workingDirectory =
            app.run.workingDirectory ?? image?.config.WorkingDir.flatMap { $0.isEmpty ? nil : $0 }
        return Launch(
            id: app.id, command: command, environment: environment, workingDirectory: workingDirectory,
            resources: app.resources, runAs: app.runAs, rootfs: image?.rootfs,
            instanceDirectory: instanceDirectory(app.id))
    }

    private func instanceDirectory(_ id: String) -> String { directory.instances + "/" + id }

    private func probe(_ id: String) async {
        guard let managed = instances[id], let check = managed.assignment.health else { return }
        let healthy: Bool
        switch check.probe {
        case .exec(let command):
            let environment = (try? launch(for: managed, image: nil).environment) ?? []
            healthy = await runtime.exec(
                id, command, environment: environment, timeout: .milliseconds(check.timeout.milliseconds))
        default:
            healthy = await Probes.run(check, ports: managed.ports, http: http)
        }
        deliver(id, .probed(healthy: healthy))
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
            if let free = portRange.first(where: { !used.contains($0) && Probes.portIsFree($0) }) {
                ports[port.name] = free
                used.insert(free)
            }
        }
        return ports
    }

    /// Whether something changed since the last call.
    func takeChanged() -> Bool {
        defer { changedSinceReport = false }
        return changedSinceReport
    }

    /// The image digests of the instances here.
    func imagesInUse() -> Set<String> { Set(instances.values.compactMap { $0.assignment.image?.digest }) }

    /// Writes the state file (atomically).
    private func save() {
        changedSinceReport = true
        guard let data = try? WireJSON.encoder().encode(instances) else { return }
        try? directory.write(data, to: directory.state, mode: 0o600)
    }

    /// Removes the directories (logs) of instances gone for longer than `age` seconds.
    private func collectLogs(olderThan age: TimeInterval) {
        let fm = FileManager.default
        for id in (try? fm.contentsOfDirectory(atPath: directory.instances)) ?? [] where instances[id] == nil {
            let log = instanceDirectory(id) + "/output.log"
            let modified = FileStatus.modified(log) ?? .distantPast
            if Date().timeIntervalSince(modified) > age { try? fm.removeItem(atPath: instanceDirectory(id)) }
        }
    }

    /// The log's upkeep each tick: a checkpoint of its index when it grew (`InstanceLogs`), and
    /// rotation past `logLimit`.
    private func keepLog(_ id: String) {
        let log = InstanceLogs(directory: instanceDirectory(id)).current
        let size = FileStatus.size(of: log)
        if size != logSizes[id] {
            InstanceLogs.checkpoint(log, size: size, at: Date())
            logSizes[id] = size
        }
        if Self.rotate(log, size: size, limit: logLimit) { logSizes[id] = 0 }
    }

    /// True while `id` is assigned to this node.
    func manages(_ id: String) -> Bool { instances[id] != nil }

    /// Keeps a log under `limit` bytes: past it, the log (and its index) is copied to `.1` and
    /// truncated (the process appends, so it carries on at the new end). `size` is the log's size
    /// as just read. True when it rotated.
    @discardableResult
    static func rotate(_ log: String, size: Int64, limit: Int64) -> Bool {
        guard size > limit else { return false }
        let fm = FileManager.default
        let old = log + ".1"
        try? fm.removeItem(atPath: old)
        try? fm.copyItem(atPath: log, toPath: old)
        try? fm.removeItem(atPath: InstanceLogs.index(of: old))
        try? fm.moveItem(atPath: InstanceLogs.index(of: log), toPath: InstanceLogs.index(of: old))
        truncate(log, 0)
        return true
    }
}
