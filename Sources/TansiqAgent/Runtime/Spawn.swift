import Foundation

/// How a process ended.
public struct ExitStatus: Sendable, Hashable, Codable {
    /// The exit code, or 128 + the signal that ended it (the shell's convention).
    public var code: Int
    /// True when a signal ended it.
    public var signalled: Bool

    public init(code: Int, signalled: Bool) {
        self.code = code
        self.signalled = signalled
    }

    /// From a `waitpid` status.
    init(waitStatus status: Int32) {
        if status & 0x7f == 0 {
            self.init(code: Int((status >> 8) & 0xff), signalled: false)
        } else {
            self.init(code: 128 + Int(status & 0x7f), signalled: true)
        }
    }
}

/// Starts processes with `posix_spawn` (no Foundation `Process`, whose reaping would race the
/// agent's own), and runs short commands to completion with their output captured.
enum Spawn {
    /// Where a child's stdout and stderr go.
    enum Output {
        case null
        /// Appended to a file.
        case append(String)
    }

    /// Starts `argv` (argv[0] an absolute path), stdin from /dev/null. `newSession` puts it in a
    /// session (and process group) of its own, so signals meant for the agent's terminal do not
    /// reach it.
    static func start(
        _ argv: [String], environment: [String], output: Output, newSession: Bool = true
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        switch output {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        case .append(let file):
            posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        }
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        return try spawn(argv, environment: environment, actions: &actions, newSession: newSession)
    }

    private static func spawn(
        _ argv: [String], environment: [String], actions: inout posix_spawn_file_actions_t, newSession: Bool
    ) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with default signal handling and nothing blocked.
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newSession { flags |= 0x80 }  // POSIX_SPAWN_SETSID
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer {
            for arg in cArgs { free(arg) }
            for variable in cEnv { free(variable) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, cEnv)
        guard status == 0 else {
            throw AgentError.io("cannot start \(argv[0]): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// The exit status of child `pid` if it has ended (reaping it), nil while it runs.
    /// Throws when `pid` is not a child of this process.
    static func poll(_ pid: pid_t) throws -> ExitStatus? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { return ExitStatus(waitStatus: status) }
        if result == 0 { return nil }
        throw AgentError.io("process \(pid) is not a child of the agent")
    }

    /// What `run` answers.
    struct Result: Sendable {
        var status: ExitStatus
        /// stdout and stderr together.
        var output: String
        /// True when it ran past its timeout and was killed.
        var timedOut: Bool
    }

    /// Runs `argv` to completion (killed after `timeout`), stdout and stderr captured together
    /// (at most 1 MiB kept). Blocking work runs off the caller's thread.
    static func run(_ argv: [String], environment: [String] = baseEnvironment, timeout: Duration) async throws -> Result
    {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw AgentError.io("pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        let pid: pid_t
        do {
            pid = try spawn(argv, environment: environment, actions: &actions, newSession: true)
        } catch {
            close(readEnd)
            close(writeEnd)
            throw error
        }
        close(writeEnd)
        let deadline = ContinuousClock.now + timeout
        let killer = Task {
            try await Task.sleep(until: deadline)
            kill(pid, SIGKILL)
        }
        let (output, status) = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var collected = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 1 << 14)
                while true {
                    let n = read(readEnd, &buffer, buffer.count)
                    if n > 0 {
                        if collected.count < 1 << 20 { collected.append(contentsOf: buffer[0..<n]) }
                    } else if n == 0 || errno != EINTR {
                        break
                    }
                }
                close(readEnd)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: (String(decoding: collected, as: UTF8.self), status))
            }
        }
        killer.cancel()
        let exit = ExitStatus(waitStatus: status)
        return Result(status: exit, output: output, timedOut: exit.signalled && ContinuousClock.now >= deadline)
    }

    /// A plain environment for helper commands.
    static let baseEnvironment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

    /// The absolute path of `name` on the agent's `PATH`, if it is there.
    static func which(_ name: String) -> String? {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
