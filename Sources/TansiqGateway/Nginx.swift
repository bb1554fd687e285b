import AsyncHTTPClient
import Foundation
import NIOCore

/// The gateway's own nginx master (`nginx -p DIR -c DIR/nginx.conf`, never the system's
/// service): checked with `nginx -t`, reloaded with `nginx -s reload`, asked through its probe
/// socket which version its workers serve.
struct Nginx: Sendable {
    let executable: String
    let settings: GatewaySettings

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs nginx with `arguments` to its end; its status and what it printed.
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-p", settings.configDir + "/"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `nginx -t` on `file`: nil when it is good, else what nginx said.
    func test(_ file: String) throws -> String? {
        let (status, output) = try run(["-t", "-q", "-c", file])
        return status == 0 ? nil : output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts the master in the foreground of a child process (its output in `nginx.out`).
    func start() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-p", settings.configDir + "/", "-c", settings.configFile, "-g", "daemon off;"]
        let out = settings.configDir + "/nginx.out"
        if !FileManager.default.fileExists(atPath: out) { FileManager.default.createFile(atPath: out, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        _ = try handle.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        return process
    }

    /// `nginx -s reload`: the master re-reads the file, starts new workers and lets the old
    /// ones finish the requests they hold.
    func reload() throws {
        let (status, output) = try run(["-c", settings.configFile, "-s", "reload"])
        guard status == 0 else { throw Failure(description: "nginx -s reload failed: \(output)") }
    }

    /// Stops the master gracefully (SIGQUIT: requests in flight finish), killing it after `grace`.
    static func stop(_ master: Process, grace: Duration = .seconds(10)) async {
        guard master.isRunning, master.processIdentifier > 1 else { return }
        kill(master.processIdentifier, SIGQUIT)
        let deadline = ContinuousClock.now + grace
        while master.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if master.isRunning { kill(master.processIdentifier, SIGKILL) }
    }

    /// The version the running workers were configured at, through the probe socket (nil while
    /// nginx does not answer).
    func servedVersion(_ http: HTTPClient) async -> Int64? {
        guard let url = URL(httpURLWithSocketPath: settings.probeSocket, uri: "/version") else { return nil }
        var request = HTTPClientRequest(url: url.absoluteString)
        // A unix socket names no host; HTTP/1.1 needs one.
        request.headers.add(name: "Host", value: "localhost")
        guard let answer = try? await http.execute(request, timeout: .seconds(2)),
            answer.status == .ok, let body = try? await answer.body.collect(upTo: 1 << 16)
        else { return nil }
        return Int64(String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Waits until the workers serve `version` (a fresh connection lands on a new worker once
    /// the reload took effect), up to `timeout`.
    func waitForVersion(
        _ version: Int64, _ http: HTTPClient, master: Process, timeout: Duration = .seconds(10)
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await servedVersion(http) == version { return }
            if !master.isRunning {
                let out = (try? String(contentsOfFile: settings.configDir + "/nginx.out", encoding: .utf8)) ?? ""
                throw Failure(
                    description: "nginx exited with status \(master.terminationStatus): "
                        + out.split(separator: "\n").suffix(3).joined(separator: "; "))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw Failure(description: "nginx did not serve version \(version) within \(timeout)")
    }
}
