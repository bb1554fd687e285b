import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TansiqModel

/// A long poll's answer, held apart from the routing that admitted it.
///
/// A request's async frames live in its task's stack allocator, and the allocator keeps every
/// slab it ever took until the task ends. A poll that waited inside its route would keep the
/// whole chain — the server's stream handling, the router, the middleware, the gate, the route —
/// about 27 slabs of 1 KiB, for as long as it waits: 270 MiB for 10,000 nodes' polls. So the
/// route only admits the poll (authentication, checks) and answers with a body that waits;
/// `respond` runs the routing in a task of its own, which ends (and frees its slabs) once the
/// poll is admitted, and then produces the body in the request's own task, a few frames deep.
/// The answer's status is still decided after the wait: a failure while producing it is answered
/// with the error envelope, as if the route had thrown it.
enum HeldAnswer {
    /// A 200 JSON answer whose body is `produce`d when the answer is settled (or written).
    static func response(_ produce: @escaping @Sendable () async throws -> Data) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: try await produce()))
                try await writer.finish(nil)
            })
    }

    /// True for the requests whose answer is held: a node's assignments long poll.
    static func isHeld(_ request: Request) -> Bool {
        guard request.method == .get else { return false }
        let path = request.uri.path
        return path.hasPrefix("/v1/agent/nodes/") && path.hasSuffix("/assignments")
    }

    /// `routes`' answer to `request`, routed in a task of its own and settled in this one.
    static func respond(
        _ request: Request, _ context: ControllerContext,
        routes: @escaping @Sendable (Request, ControllerContext) async throws -> Response
    ) async throws -> Response {
        let response = try await routedApart(request, context, routes)
        return await settle(response, request, context)
    }

    /// `routes`' answer, from a task that is gone once this returns: the handle is dropped here,
    /// and with it the task and every slab its frames took.
    private static func routedApart(
        _ request: Request, _ context: ControllerContext,
        _ routes: @escaping @Sendable (Request, ControllerContext) async throws -> Response
    ) async throws -> Response {
        let routed = Task { try await routes(request, context) }
        return try await withTaskCancellationHandler {
            try await routed.value
        } onCancel: {
            routed.cancel()
        }
    }

    /// `response` with its body produced: the same status and headers, or the error envelope of
    /// what producing it threw.
    static func settle(_ response: Response, _ request: Request, _ context: ControllerContext) async -> Response {
        let sink = Sink()
        do {
            try await response.body.write(sink)
        } catch {
            var failed = APIMiddleware.envelope(for: error, request, context)
            failed.headers[.requestID] = context.requestID
            return failed
        }
        return Response(status: response.status, headers: response.headers, body: ResponseBody(byteBuffer: sink.buffer))
    }

    /// A body writer that keeps what is written. Used by one task at a time (the settling one).
    final class Sink: ResponseBodyWriter, @unchecked Sendable {
        var buffer = ByteBuffer()

        func write(_ buffer: ByteBuffer) async throws {
            var part = buffer
            self.buffer.writeBuffer(&part)
        }

        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
