import ArgumentParser
import Foundation
import Hummingbird

/// `tansiq-demo-service`: the workload of the example manifests and the end-to-end tests. Serves
/// `/` (which instance it is) and `/healthz` on `PORT_HTTP`, and can misbehave on purpose.
@main
struct DemoService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tansiq-demo-service",
        abstract: "A small HTTP service that says which instance it is, with health and memory misbehaviour on demand.",
        discussion: """
            Listens on 127.0.0.1 and $PORT_HTTP (or --port). GET / answers {"instance", "ministry",
            "application", "name", "pid", "uid", "started"} from $TANSIQ_INSTANCE, $TANSIQ_MINISTRY and
            $TANSIQ_APPLICATION ("started" is unique to each start of the process);
            GET /healthz answers 200, or 503 with --fail-health or while the --health-file exists.
            """)

    @Option(help: "A name to answer with.")
    var name: String = "demo"

    @Option(help: "Port to listen on (default: $PORT_HTTP).")
    var port: Int?

    @Flag(name: .customLong("fail-health"), help: "Answer /healthz with 503.")
    var failHealth = false

    @Option(name: .customLong("health-file"), help: "Answer /healthz with 503 while this file exists.")
    var healthFile: String?

    @Option(name: .customLong("leak-memory"), help: "Allocate and touch this many MiB every second, and keep them.")
    var leakMemory: Int = 0

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let port = port ?? environment["PORT_HTTP"].flatMap(Int.init) else {
            throw ValidationError("no port: set PORT_HTTP or pass --port")
        }
        let identity: [String: String] = [
            "instance": environment["TANSIQ_INSTANCE"] ?? "", "ministry": environment["TANSIQ_MINISTRY"] ?? "",
            "application": environment["TANSIQ_APPLICATION"] ?? "", "name": name,
            "pid": String(ProcessInfo.processInfo.processIdentifier), "uid": String(getuid()),
            "started": UUID().uuidString,
        ]
        let body = try JSONSerialization.data(withJSONObject: identity, options: [.sortedKeys])
        let router = Router()
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        let failing = failHealth
        let healthFile = self.healthFile
        router.get("/healthz") { _, _ -> HTTPResponse.Status in
            let sick = failing || healthFile.map { FileManager.default.fileExists(atPath: $0) } ?? false
            return sick ? .serviceUnavailable : .ok
        }
        if leakMemory > 0 {
            let megabytes = leakMemory
            Task.detached {
                var kept: [[UInt8]] = []
                while true {
                    kept.append([UInt8](repeating: 1, count: megabytes << 20))
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}
