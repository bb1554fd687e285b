import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import TansiqModel

/// Health checks: an HTTP GET answered 2xx/3xx, a TCP connection accepted, or a command that
/// exits 0 — each within the check's timeout.
enum Probes {
    /// Runs `check` against an instance whose ports are `ports` and whose environment is
    /// `environment` (an exec check runs in it); true when healthy.
    static func run(
        _ check: HealthCheck, ports: [String: Int], environment: [String: String], http: HTTPClient
    ) async -> Bool {
        let timeout = Duration.milliseconds(check.timeout.milliseconds)
        switch check.probe {
        case .http(let path, let port):
            guard let number = ports[port] else { return false }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(number)\(path)")
            request.method = .GET
            guard let response = try? await http.execute(request, timeout: .milliseconds(check.timeout.milliseconds))
            else { return false }
            _ = try? await response.body.collect(upTo: 1 << 20)
            return (200..<400).contains(Int(response.status.code))
        case .tcp(let port):
            guard let number = ports[port] else { return false }
            return await tcp(port: number, timeoutMillis: check.timeout.milliseconds)
        case .exec(let command):
            return await exec(command, environment: environment, timeout: timeout)
        }
    }

    static func tcp(port: Int, timeoutMillis: Int64) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(timeoutMillis))
                .connect(host: "127.0.0.1", port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    static func exec(_ command: [String], environment: [String: String], timeout: Duration) async -> Bool {
        guard !command.isEmpty else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$@\"", "tansiq-probe"] + command
        var env = environment
        if env["PATH"] == nil { env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin" }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.terminate()
            return false
        }
        return process.terminationStatus == 0
    }
}
