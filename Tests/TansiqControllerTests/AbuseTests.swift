import Foundation
import TansiqController
import TansiqTestSupport
import Testing

@Suite("Failed authentications are throttled per address")
struct AuthThrottleTests {
    static let start = Date(timeIntervalSince1970: 1_900_000_000)

    @Test("past the limit an address gets 429 until its window ends, audited once; other addresses are not held")
    func throttles() {
        let throttle = AuthThrottle(limit: 3, window: 60)
        for _ in 0..<3 { #expect(throttle.failed(from: "10.0.0.1", at: Self.start) == .unauthenticated) }
        #expect(throttle.failed(from: "10.0.0.1", at: Self.start) == .throttled(retryAfter: 60, audit: true))
        #expect(
            throttle.failed(from: "10.0.0.1", at: Self.start.addingTimeInterval(20.5))
                == .throttled(retryAfter: 40, audit: false))
        #expect(throttle.failed(from: "10.0.0.2", at: Self.start) == .unauthenticated)
        // A new window starts afresh.
        #expect(throttle.failed(from: "10.0.0.1", at: Self.start.addingTimeInterval(60)) == .unauthenticated)
    }

    @Test("a limit of 0 never throttles")
    func off() {
        let throttle = AuthThrottle(limit: 0)
        for _ in 0..<100 { #expect(throttle.failed(from: "10.0.0.1", at: Self.start) == .unauthenticated) }
    }
}

@Suite("Abuse through the real controller", .serialized)
struct AbuseTests {
    @Test("bad tokens from one address: 401, then 429 with Retry-After, audited once; a good token still works")
    func badTokens() async throws {
        try await LiveController.with(arguments: ["--auth-failures-per-minute", "3"]) { live in
            var statuses: [Int] = []
            for attempt in 0..<6 {
                let reply = try await live.call(.GET, "/v1/ministries", token: "tq_nobody.guess\(attempt)")
                statuses.append(reply.status)
                if reply.status == 429 {
                    let error = (reply.json as? [String: Any])?["error"] as? [String: Any]
                    #expect(error?["code"] as? String == "rate-limited", "\(reply.body)")
                }
            }
            #expect(statuses == [401, 401, 401, 429, 429, 429], "\(statuses)")
            let api = try #require(live.api)
            let retry = try await api.send(
                .GET, "/v1/ministries", headers: [("Authorization", "Bearer tq_nobody.again")])
            #expect(retry.status == 429)
            let after = retry.headers.first { $0.0.lowercased() == "retry-after" }?.1
            #expect(after.flatMap(Int.init).map { (1...60).contains($0) } == true, "Retry-After \(after ?? "-")")
            // A good token from the same address is never held back.
            #expect(try await live.call(.GET, "/v1/ministries", token: live.operatorToken).status == 200)
            let audit = try await live.call(.GET, "/v1/audit?limit=5000", token: live.operatorToken).items
            #expect(audit.filter { $0["result"] as? String == "unauthenticated" }.count == 3)
            #expect(audit.filter { $0["result"] as? String == "rate-limited" }.count == 1, "audited once per window")
        }
    }

    @Test("a declared body over the limit is refused with 413 before it is read, over HTTP/1.1 and HTTP/2")
    func declaredTooLarge() async throws {
        try await LiveController.with { live in
            // curl sends the declared length and then nothing: only a check of the header answers.
            // (HTTP/2 refuses such a request as malformed: its stream ends short of its length.)
            let result = try await runProcess(
                URL(fileURLWithPath: "/usr/bin/curl"),
                [
                    "-s", "--http1.1", "--max-time", "10", "--cacert", live.dataDir + "/ca.crt", "-o", "/dev/null",
                    "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer \(live.operatorToken)", "-H",
                    "Content-Length: 104857600", "-H", "Content-Type: application/yaml",
                    live.baseURL + "/v1/apply",
                ])
            #expect(result.stdout == "413", "curl said \(result.stdout) \(result.stderr)")
            // Over HTTP/2 a real 30 MB body: answered 413 after the first flow-control window.
            let big = live.dataDir + "-big.yaml"
            FileManager.default.createFile(atPath: big, contents: Data(repeating: 0x20, count: 30_000_000))
            defer { try? FileManager.default.removeItem(atPath: big) }
            let h2 = try await runProcess(
                URL(fileURLWithPath: "/usr/bin/curl"),
                [
                    "-s", "--http2", "--max-time", "20", "--cacert", live.dataDir + "/ca.crt", "-o", "/dev/null",
                    "-w", "%{http_code} %{http_version} %{size_upload}", "-X", "POST", "-H",
                    "Authorization: Bearer \(live.operatorToken)", "-H", "Content-Type: application/yaml",
                    "--data-binary", "@" + big, live.baseURL + "/v1/apply",
                ], timeout: 30)
            let fields = h2.stdout.split(separator: " ")
            #expect(fields.count == 3 && fields[0] == "413" && fields[1] == "2", "curl said \(h2.stdout) \(h2.stderr)")
            #expect(Int(fields.last ?? "") ?? .max < 1 << 20, "answered before the body was sent: \(h2.stdout)")
        }
    }
}

extension AbuseTests {
    @Test("a connection that sends nothing is closed after the idle timeout; a long poll is not cut")
    func idleConnectionsClosed() async throws {
        try await LiveController.with(arguments: ["--idle-timeout", "2s"]) { live in
            let port = try #require(URLComponents(string: live.baseURL)?.port)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            #expect(connected == 0)
            var wait = timeval(tv_sec: 15, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            let start = Date()
            var byte: UInt8 = 0
            // Nothing sent, not even a TLS hello: the controller closes (read returns 0).
            let read = recv(fd, &byte, 1, 0)
            let waited = Date().timeIntervalSince(start)
            #expect(read == 0, "the connection stayed open (\(read), errno \(errno))")
            #expect(waited >= 1.5 && waited < 10, "closed after \(waited) s")
            // A long poll longer than the idle timeout is answered, not cut.
            let version = try await LiveControllerTests.version(live)
            let poll = try await live.call(
                .GET, "/v1/ministries?watch=true&after=\(version)&wait=4", token: live.operatorToken)
            #expect(poll.status == 200, "\(poll.body)")
        }
    }
}
