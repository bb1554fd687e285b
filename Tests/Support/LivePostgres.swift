import Foundation

/// A real PostgreSQL server on a loopback port: the one `TANSIQ_TEST_POSTGRES` names
/// (`postgres://USER@HOST:PORT`, as `.ci/run` starts it), or a throwaway cluster this process
/// starts from Debian's `postgresql` binaries, in a temporary directory, as the `postgres` user
/// (the server refuses root). A throwaway server is watched by a shell that stops it when this
/// process ends, however it ends.
public final class LivePostgres: @unchecked Sendable {
    /// `postgres://USER@127.0.0.1:PORT` (no database).
    public private(set) var base: String
    /// The port.
    public private(set) var port: Int
    /// The data directory of a throwaway server (nil for one given by the environment).
    public let dataDir: String?
    private let log: String?
    private var watcher: Process?

    /// The server every test shares (databases are per test: `database()`).
    public static let shared: Task<LivePostgres, Error> = Task {
        if let given = ProcessInfo.processInfo.environment["TANSIQ_TEST_POSTGRES"], !given.isEmpty {
            guard let url = URLComponents(string: given), let port = url.port else {
                throw LiveError.failed("TANSIQ_TEST_POSTGRES=\(given): expected postgres://USER@HOST:PORT")
            }
            return LivePostgres(given: given.hasSuffix("/") ? String(given.dropLast()) : given, port: port)
        }
        return try await LivePostgres()
    }

    private init(given: String, port: Int) {
        base = given
        self.port = port
        dataDir = nil
        log = nil
    }

    /// The directory of Debian's server binaries (`initdb`, `postgres`, `pg_ctl`), newest first.
    public static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).filter { $0 >= 15 }.sorted(by: >)
        return versions.map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/postgres") }
    }()

    /// Starts a new throwaway server on a free port and waits until it accepts connections.
    public init() async throws {
        guard let bin = Self.binaries else {
            throw LiveError.failed(
                "PostgreSQL 15 or later is not installed (Debian's `postgresql`), and TANSIQ_TEST_POSTGRES is not set")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        dataDir = dir + "/data"
        log = dir + "/postgres.log"
        port = 0
        base = ""
        try await Self.asPostgres(["chown", "-R", "postgres:postgres", dir], root: true)
        try await Self.asPostgres([
            bin + "/initdb", "-D", dir + "/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
        ])
        var lastError = ""
        for _ in 0..<3 {
            let port = try LiveRegistry.freePort()
            self.port = port
            base = "postgres://postgres@127.0.0.1:\(port)"
            try start()
            if try await ready(timeout: 30) { return }
            lastError =
                (try? String(contentsOfFile: dir + "/postgres.log", encoding: .utf8))?.suffix(800).description ?? ""
            stop()
        }
        throw LiveError.failed("PostgreSQL did not start: \(lastError)")
    }

    /// Starts the server (again) on its port, watched: it stops when this process ends.
    public func start() throws {
        guard let dataDir, let log, let bin = Self.binaries else { return }
        let parent = getpid()
        let server = [
            "setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", bin + "/postgres", "-D", dataDir,
            "-p", "\(port)", "-k", (dataDir as NSString).deletingLastPathComponent, "-c", "listen_addresses=127.0.0.1",
            "-c", "max_connections=300", "-c", "shared_buffers=64MB",
        ].map { "'\($0)'" }.joined(separator: " ")
        let script = """
            \(server) >>'\(log)' 2>&1 &
            pg=$!
            trap 'kill -INT $pg; wait $pg; exit 0' TERM
            while kill -0 \(parent) 2>/dev/null && kill -0 $pg 2>/dev/null; do sleep 0.5; done
            kill -INT $pg 2>/dev/null; wait $pg
            kill -0 \(parent) 2>/dev/null || rm -rf '\((dataDir as NSString).deletingLastPathComponent)'
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        watcher = process
    }

    /// Stops the server (fast shutdown) and waits for it.
    public func stop() {
        guard let watcher else { return }
        watcher.terminate()
        watcher.waitUntilExit()
        self.watcher = nil
    }

    /// Waits until the server accepts connections.
    public func ready(timeout: TimeInterval) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? await psql("postgres", "SELECT 1"))?.status == 0 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// A new, empty database on this server; its URL.
    public func database() async throws -> String {
        let name = "tansiq_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        let result = try await psql("postgres", "CREATE DATABASE \(name)")
        guard result.status == 0 else { throw LiveError.failed("CREATE DATABASE failed: \(result.stderr)") }
        return "\(base)/\(name)"
    }

    /// Runs `sql` with `psql` against `database`; its output (unaligned, tuples only).
    public func psql(_ database: String, _ sql: String) async throws -> RunResult {
        try await runProcess(
            URL(fileURLWithPath: HostFacts.tool("psql") ?? "/usr/bin/psql"),
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", "\(base)/\(database)", "-c", sql], timeout: 30)
    }

    /// `pg_dump` of `database` as SQL text.
    public func dump(_ database: String) async throws -> String {
        let tool = Self.binaries.map { $0 + "/pg_dump" } ?? HostFacts.tool("pg_dump") ?? "/usr/bin/pg_dump"
        let result = try await runProcess(URL(fileURLWithPath: tool), ["-d", "\(base)/\(database)"], timeout: 60)
        guard result.status == 0 else { throw LiveError.failed("pg_dump failed: \(result.stderr)") }
        return result.stdout
    }

    private static func asPostgres(_ command: [String], root: Bool = false) async throws {
        let arguments = root ? command : ["--reuid=postgres", "--regid=postgres", "--clear-groups"] + command
        let tool = root ? command[0] : "setpriv"
        let result = try await runProcess(
            URL(fileURLWithPath: HostFacts.tool(tool) ?? "/usr/bin/\(tool)"),
            root ? Array(command.dropFirst()) : arguments,
            timeout: 120)
        guard result.status == 0 else {
            throw LiveError.failed("\(command.joined(separator: " ")) failed: \(result.stderr)")
        }
    }
}
