import ArgumentParser
import Foundation
import TansiqModel
import TansiqTestSupport

/// `compare-slurm`: the same work given to Slurm's controller and to Tansiq's, the same way, in
/// one run — workloads queued while nothing may run, then released at once, timed until all are
/// placed.
struct CompareSlurmBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-slurm",
        abstract: "Placements/s from a release of queued work until all is placed: Slurm's slurmctld beside Tansiq.",
        discussion: """
            Slurm (Debian's slurmctld 22.05, apt-get install slurmctld slurm-client): a slurmctld in the
            foreground on a scratch directory, --nodes emulated nodes of --cpus cpus and --memory-gib GiB in
            Slurm's CLOUD state (no slurmd: ResumeProgram and SuspendProgram are /bin/true, so a job
            given a node reads CONFIGURING), select/cons_tres with CR_Core_Memory, sched/builtin with
            --slurm-scheduler-parameters (by default default_queue_depth=10000,max_sched_time=60,
            sched_interval=1: a pass may consider every queued job and run as long as it needs, and
            passes come every second — with Slurm's defaults a pass tries 100 jobs and stops after 2 s,
            the next a minute later), every other setting Slurm's default. Its one partition is DOWN while --jobs jobs are submitted, each
            its own `sbatch -n1 -c1 --mem=1G --wrap "sleep 3600"`; then `scontrol update
            PartitionName=main State=UP` releases them.

            Tansiq: a controller (built beside this binary), --nodes simulated nodes over mutual TLS of
            the same size that report their status every 60 s, every node cordoned while --jobs
            applications of one instance (1 cpu, 1Gi) are applied, each its own POST /v1/apply; then
            every node is uncordoned (one request per node, 32 at a time) to release them.

            Both sides submit with --submitters clients at once, and both are watched the same way:
            every 250 ms, how many are still pending (`squeue -h -t PD`; GET /v1/instances?phase=Pending).
            Prints each side's time from the release until none is pending, both rates and their ratio.
            """)

    @Option(help: "Nodes on each side.") var nodes: Int = 1000
    @Option(help: "Cpus per node.") var cpus: Int = 96
    @Option(name: .customLong("memory-gib"), help: "Memory per node, GiB.") var memoryGiB: Int = 512
    @Option(help: "Single-instance workloads (1 cpu, 1 GiB), each its own submission.") var jobs: Int = 5000
    @Option(help: "Submissions in flight at once, on each side.") var submitters: Int = 4
    @Option(help: "Slurm's controller.") var slurmctld: String = "/usr/sbin/slurmctld"
    @Option(
        name: .customLong("slurm-scheduler-parameters"),
        help:
            "Slurm's SchedulerParameters (empty: Slurm's defaults, which try 100 jobs per event and the rest a minute later)."
    )
    var schedulerParameters: String = "default_queue_depth=10000,max_sched_time=60,sched_interval=1"
    @Flag(name: .customLong("skip-slurm"), help: "Run Tansiq's side alone.") var skipSlurm: Bool = false

    func validate() throws {
        guard nodes >= 1, cpus >= 1, memoryGiB >= 1, jobs >= 1, submitters >= 1 else {
            throw ValidationError("every count must be at least 1")
        }
        guard nodes * cpus >= jobs, nodes * memoryGiB >= jobs else {
            throw ValidationError("the nodes cannot hold every job (1 cpu, 1 GiB each)")
        }
        if !skipSlurm {
            for tool in [slurmctld, "/usr/bin/sbatch", "/usr/bin/squeue", "/usr/bin/scontrol"]
            where !FileManager.default.isExecutableFile(atPath: tool) {
                throw ValidationError("\(tool) is not installed: apt-get install slurmctld slurm-client")
            }
        }
    }

    /// One side's figures.
    struct Side {
        var submitSeconds: Double
        var placeSeconds: Double
        var rate: Double { Double(jobs) / placeSeconds }
        var jobs: Int
    }

    func run() async throws {
        let slurm = skipSlurm ? nil : try await runSlurm()
        let tansiq = try await runTansiq()
        print(
            "\(jobs) single-instance workloads (1 cpu, 1 GiB) onto \(nodes) nodes of \(cpus) cpus and \(memoryGiB) GiB, "
                + "\(submitters) submitters:")
        func line(_ name: String, _ side: Side, _ extra: String = "") {
            print(
                "  \(name): submitted in \(String(format: "%.1f", side.submitSeconds)) s; release → all placed "
                    + "\(String(format: "%.2f", side.placeSeconds)) s, \(Int(side.rate)) placements/s\(extra)")
        }
        if let slurm { line("Slurm 22.05 slurmctld", slurm) }
        line("Tansiq", tansiq.side, "; by the controller's assignedAt \(String(format: "%.2f", tansiq.assigned)) s")
        var figures: [String: Double] = [
            "nodes": Double(nodes), "jobs": Double(jobs), "tansiqSeconds": tansiq.side.placeSeconds,
            "tansiqPlacementsPerSecond": tansiq.side.rate, "tansiqSubmitSeconds": tansiq.side.submitSeconds,
        ]
        if let slurm {
            print(String(format: "  ratio: Tansiq places %.1f× as fast as Slurm", tansiq.side.rate / slurm.rate))
            figures["slurmSeconds"] = slurm.placeSeconds
            figures["slurmPlacementsPerSecond"] = slurm.rate
            figures["slurmSubmitSeconds"] = slurm.submitSeconds
            figures["ratio"] = tansiq.side.rate / slurm.rate
        }
        Report.json("compare-slurm", figures)
    }

    func progress(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    // MARK: Slurm

    func runSlurm() async throws -> Side {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-slurm-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try LiveRegistry.freePort()
        let conf = dir + "/slurm.conf"
        let last = String(format: "%05d", nodes)
        try """
        ClusterName=compare
        SlurmctldHost=localhost
        SlurmctldPort=\(port)
        SlurmdPort=\(try LiveRegistry.freePort())
        AuthType=auth/none
        CredType=cred/none
        SlurmUser=root
        StateSaveLocation=\(dir)/state
        SlurmctldPidFile=\(dir)/slurmctld.pid
        SlurmctldLogFile=\(dir)/slurmctld.log
        SchedulerType=sched/builtin
        \(schedulerParameters.isEmpty ? "" : "SchedulerParameters=" + schedulerParameters)
        SelectType=select/cons_tres
        SelectTypeParameters=CR_Core_Memory
        ProctrackType=proctrack/linuxproc
        TaskPlugin=task/none
        MpiDefault=none
        MaxJobCount=\(max(10_000, jobs * 2))
        SuspendProgram=/bin/true
        ResumeProgram=/bin/true
        SuspendTime=3600
        ResumeTimeout=3600
        TreeWidth=65533
        NodeName=n[00001-\(last)] CPUs=\(cpus) RealMemory=\(memoryGiB * 1024) State=CLOUD
        PartitionName=main Nodes=n[00001-\(last)] Default=YES MaxTime=INFINITE State=DOWN

        """.write(toFile: conf, atomically: true, encoding: .utf8)
        let environment = ProcessInfo.processInfo.environment.merging(["SLURM_CONF": conf]) { $1 }
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: slurmctld)
        daemon.arguments = ["-D", "-i", "-f", conf]
        daemon.environment = environment
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try daemon.run()
        progress("slurmctld started (pid \(daemon.processIdentifier)); waiting for it to answer")
        let side: Side
        do {
            side = try await slurmRun(dir: dir, port: port, environment: environment)
        } catch {
            await stop(daemon, environment)
            throw error
        }
        await stop(daemon, environment)
        return side
    }

    func stop(_ daemon: Process, _ environment: [String: String]) async {
        _ = try? await Self.tool("/usr/bin/scontrol", ["shutdown"], environment)
        let deadline = Date().addingTimeInterval(10)
        while daemon.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
    }

    func slurmRun(dir: String, port: Int, environment: [String: String]) async throws -> Side {
        // scontrol retries for a minute while nothing listens: first wait for the port.
        let up = Date().addingTimeInterval(30)
        while true {
            if Self.accepts(port: port),
                let answer = try? await Self.tool("/usr/bin/scontrol", ["ping"], environment), answer.contains("is UP")
            {
                break
            }
            guard Date() < up else { throw LiveError.failed("slurmctld did not answer within 30 s; see \(dir)") }
            try await Task.sleep(for: .milliseconds(200))
        }
        progress("slurmctld up; submitting \(jobs) jobs")
        let submitStart = ContinuousClock.now
        try await concurrently(jobs) { _ in
            let id = try await Self.tool(
                "/usr/bin/sbatch",
                ["--parsable", "-p", "main", "-n1", "-c1", "--mem=1G", "-o", "/dev/null", "--wrap", "sleep 3600"],
                environment)
            guard Int(id.trimmingCharacters(in: .whitespacesAndNewlines)) != nil else {
                throw LiveError.failed("sbatch answered \(id)")
            }
        }
        let submitted = (ContinuousClock.now - submitStart).seconds
        let queued = try await Self.pendingJobs(environment)
        guard queued == jobs else { throw LiveError.failed("\(queued) of \(jobs) jobs pending before the release") }
        progress("Slurm: \(queued) jobs pending; releasing")
        let release = ContinuousClock.now
        _ = try await Self.tool("/usr/bin/scontrol", ["update", "PartitionName=main", "State=UP"], environment)
        let deadline = release + .seconds(1200)
        while try await Self.pendingJobs(environment) > 0 {
            guard ContinuousClock.now < deadline else { throw LiveError.failed("Slurm left jobs pending for 1200 s") }
            try await Task.sleep(for: .milliseconds(250))
        }
        return Side(submitSeconds: submitted, placeSeconds: (ContinuousClock.now - release).seconds, jobs: jobs)
    }

    /// True when something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func pendingJobs(_ environment: [String: String]) async throws -> Int {
        try await tool("/usr/bin/squeue", ["-h", "-t", "PD", "-o", "%i"], environment).split(separator: "\n").count
    }

    /// Runs `path` with `arguments` (at most 60 s) and returns its standard output; throws when it
    /// fails. Spawned and reaped here (posix_spawn, waitpid polled), its output in a file.
    static func tool(_ path: String, _ arguments: [String], _ environment: [String: String]) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-tool-\(UUID().uuidString)")
            .path
        defer { unlink(output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw LiveError.failed("cannot start \(path): error \(spawned)") }
        let deadline = ContinuousClock.now + .seconds(60)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw LiveError.failed("\(path) \(arguments.joined(separator: " ")) ran past 60 s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        // Exited normally with 0 (WIFEXITED and WEXITSTATUS, spelled out: they are C macros).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw LiveError.failed("\(path) \(arguments.joined(separator: " ")): status \(status): \(text)")
        }
        return text
    }

    // MARK: Tansiq

    func runTansiq() async throws -> (side: Side, assigned: Double) {
        var result: (side: Side, assigned: Double)?
        try await LiveController.with(arguments: ["--grace-period", "300s", "--log-level", "warning"]) { live in
            let capacity = Resources(
                cpuMillis: Int64(cpus) * 1000, memoryBytes: Int64(memoryGiB) << 30, storageBytes: 1 << 40,
                instances: Int64(jobs))
            let fleet = try await BenchWorkload.fleet(live, count: nodes, capacity: capacity)
            let reporters = fleet.map { $0.keepReporting(every: .seconds(60)) }
            defer { for reporter in reporters { reporter.cancel() } }
            for node in fleet { _ = try await node.reportAssigned() }
            _ = try await live.call(
                .POST, "/v1/apply", token: live.operatorToken, body: BenchWorkload.ministry,
                contentType: "application/yaml")
            try await concurrently(fleet.count, width: 32) { index in
                let reply = try await live.call(
                    .POST, "/v1/nodes/\(fleet[index].name)/cordon", token: live.operatorToken)
                guard reply.status == 200 else { throw LiveError.failed("cordon: \(reply.status) \(reply.body)") }
            }
            let submitStart = ContinuousClock.now
            try await concurrently(jobs) { index in
                _ = try await ScaleBench.apply(
                    live,
                    BenchWorkload.application("job-\(index)", replicas: 1, resources: "{cpu: 1, memory: 1Gi}"))
            }
            let submitted = (ContinuousClock.now - submitStart).seconds
            let queued = try await Self.pending(live)
            guard queued == jobs else {
                throw LiveError.failed("\(queued) of \(jobs) instances pending before the release")
            }
            progress("Tansiq: \(queued) instances pending; releasing")
            let releasedAt = Date()
            let release = ContinuousClock.now
            try await concurrently(fleet.count, width: 32) { index in
                let reply = try await live.call(
                    .POST, "/v1/nodes/\(fleet[index].name)/uncordon", token: live.operatorToken)
                guard reply.status == 200 else { throw LiveError.failed("uncordon: \(reply.status) \(reply.body)") }
            }
            let deadline = release + .seconds(1200)
            while try await Self.pending(live) > 0 {
                guard ContinuousClock.now < deadline else {
                    throw LiveError.failed("Tansiq left instances pending for 1200 s")
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            let placed = (ContinuousClock.now - release).seconds
            let assigned = try await ScaleBench.latestAssignment(live).timeIntervalSince(releasedAt)
            for node in fleet { await node.shutdown() }
            result = (Side(submitSeconds: submitted, placeSeconds: placed, jobs: jobs), assigned)
        }
        guard let result else { throw LiveError.failed("the Tansiq side ended without figures") }
        return result
    }

    static func pending(_ live: LiveController) async throws -> Int {
        let reply = try await live.call(.GET, "/v1/instances?ministry=bench&phase=Pending", token: live.operatorToken)
        guard reply.status == 200 else { throw LiveError.failed("list: \(reply.status) \(reply.body.prefix(300))") }
        return reply.items.count
    }

    /// Runs `body(0..<count)` with at most `width` (the submitters, unless given) at once.
    func concurrently(
        _ count: Int, width: Int? = nil, _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        let width = width ?? submitters
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                if index >= width { try await group.next() }
                group.addTask { try await body(index) }
            }
            try await group.waitForAll()
        }
    }
}
