import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import TansiqModel
import Testing

@testable import TansiqController

@Suite("A long poll's answer is produced apart from the routing that admitted it")
struct HeldAnswerTests {
    static func context() -> ControllerContext {
        ControllerContext(source: .init(channel: EmbeddedChannel(), logger: Logger(label: "test")))
    }

    static func request(_ method: HTTPRequest.Method, _ path: String) -> Request {
        Request(
            head: HTTPRequest(method: method, scheme: "https", authority: "c", path: path), body: .init(buffer: .init())
        )
    }

    static func text(_ response: Response) async throws -> String {
        let sink = HeldAnswer.Sink()
        try await response.body.write(sink)
        return String(buffer: sink.buffer)
    }

    @Test("only a node's assignments poll is held")
    func held() {
        #expect(HeldAnswer.isHeld(Self.request(.get, "/v1/agent/nodes/n1/assignments?after=3&wait=30")))
        #expect(!HeldAnswer.isHeld(Self.request(.post, "/v1/agent/nodes/n1/assignments")))
        #expect(!HeldAnswer.isHeld(Self.request(.get, "/v1/agent/nodes/n1/status")))
        #expect(!HeldAnswer.isHeld(Self.request(.get, "/v1/instances")))
    }

    @Test("the routing runs in a task of its own, and the body is produced after it returned")
    func apart() async throws {
        let context = Self.context()
        let order = Locked<[String]>([])
        let response = try await HeldAnswer.respond(Self.request(.get, "/v1/agent/nodes/n1/assignments"), context) {
            _, _ in
            let routing = withUnsafeCurrentTask { $0?.hashValue }
            order.withLock { $0.append("routed") }
            return HeldAnswer.response {
                let producing = withUnsafeCurrentTask { $0?.hashValue }
                order.withLock { $0.append(producing != routing ? "produced apart" : "produced in the routing task") }
                return Data(#"{"resourceVersion":7}"#.utf8)
            }
        }
        #expect(order.withLock { $0 } == ["routed", "produced apart"])
        #expect(response.status == .ok)
        #expect(response.headers[HTTPField.Name.contentType] == "application/json")
        #expect(response.headers[HTTPField.Name.contentLength] == "21")
        #expect(try await Self.text(response) == #"{"resourceVersion":7}"#)
    }

    @Test("a failure while producing the answer is answered with the envelope and the request id")
    func failure() async throws {
        let context = Self.context()
        let request = Self.request(.get, "/v1/agent/nodes/n1/assignments")
        let refused = await HeldAnswer.settle(
            HeldAnswer.response { throw APIError(.notFound, "node n1 is not in the cluster") }, request, context)
        #expect(refused.status.code == 404)
        #expect(refused.headers[.requestID] == context.requestID)
        let body = try JSONSerialization.jsonObject(with: Data(try await Self.text(refused).utf8)) as? [String: Any]
        #expect((body?["error"] as? [String: Any])?["code"] as? String == "not-found")

        struct Broken: Error {}
        let failed = await HeldAnswer.settle(HeldAnswer.response { throw Broken() }, request, context)
        #expect(failed.status.code == 503)
        #expect(try await Self.text(failed).contains("request \(context.requestID)"))
    }

    @Test("an answer that is not held passes through whole")
    func plain() async throws {
        let context = Self.context()
        let answer = API.error(APIError(.forbidden, "not yours"), requestID: context.requestID)
        let settled = await HeldAnswer.settle(answer, Self.request(.get, "/v1/agent/nodes/n1/assignments"), context)
        #expect(settled.status.code == 403)
        #expect(try await Self.text(settled).contains("not yours"))
    }
}
