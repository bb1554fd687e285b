import Foundation
import TansiqModel
import TansiqTestSupport
import Testing

/// The controller speaks HTTP/2 to clients that offer it (ALPN) and HTTP/1.1 to the others.
@Suite("HTTP/2: one connection per node")
struct HTTP2Tests {
    /// Established TCP connections of this host whose far end is `port` on loopback (the
    /// client side of each connection to the controller).
    static func clientConnections(to port: Int) -> Int {
        // Read to the end: /proc files report no size.
        let data = FileHandle(forReadingAtPath: "/proc/net/tcp")?.readDataToEndOfFile() ?? Data()
        let table = String(decoding: data, as: UTF8.self)
        let remote = String(format: "0100007F:%04X", port)
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[2] == remote && fields[3] == "01"
        }.count
    }

    @Test("a node's long poll and its statuses share one TLS connection; HTTP/1.1 clients are still served")
    func oneConnectionPerNode() async throws {
        try await LiveController.with { live in
            let port = try #require(URLComponents(string: live.baseURL)?.port)
            let node = live.node("n1")
            #expect(try await node.join(token: live.bootstrapToken).status == 201)
            // The node's connection is open once it has reported.
            _ = try await node.reportAssigned()
            try await Task.sleep(for: .milliseconds(200))
            let before = Self.clientConnections(to: port)
            // A long poll held open while the node reports three statuses.
            let poll = Task { try await node.call(.GET, "/v1/agent/nodes/n1/assignments?after=1000000&wait=3") }
            try await Task.sleep(for: .milliseconds(300))
            for _ in 0..<3 {
                let reply = try await node.call(.PUT, "/v1/agent/nodes/n1/status", json: SimulatedNode.status())
                #expect(reply.status == 200, "\(reply.body)")
            }
            let during = Self.clientConnections(to: port)
            #expect(during == before, "the node opened \(during - before) more connections for a concurrent call")
            #expect(try await poll.value.status == 200, "the long poll is answered on the same connection")
            #expect(Self.clientConnections(to: port) == before)
            await node.shutdown()

            // The protocol each client offers is the one it gets.
            for (flag, version) in [("--http1.1", "1.1"), ("--http2", "2")] {
                let curl = try await runProcess(
                    URL(fileURLWithPath: "/usr/bin/curl"),
                    [
                        "-s", flag, "--max-time", "10", "--cacert", live.dataDir + "/ca.crt", "-o", "/dev/null",
                        "-w", "%{http_code} %{http_version}", live.baseURL + "/healthz",
                    ])
                #expect(curl.stdout == "200 \(version)", "curl \(flag) said \(curl.stdout) \(curl.stderr)")
            }
        }
    }
}
