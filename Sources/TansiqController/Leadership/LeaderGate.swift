import Foundation
import Hummingbird
import TansiqAPI
import TansiqModel

/// The front of a controller that may lead or follow: while it leads, requests go to its routes;
/// while it follows, to the leader through the `Forwarder`; while no leader is known, 503.
/// `GET /healthz` is always answered here, `GET /readyz` by the routes while leading.
final class LeaderGate: HTTPResponder, Sendable {
    typealias Context = ControllerContext

    enum Mode: Sendable {
        /// Serving with this term's routes.
        case leader(responder: @Sendable (Request, ControllerContext) async throws -> Response)
        /// Forwarding to the leader at `url` (nil: not known yet).
        case follower(url: String?, epoch: Int64)
    }

    private let mode = Locked<Mode>(.follower(url: nil, epoch: 0))
    private let forwarder: Forwarder?

    /// A gate that forwards with `forwarder` (nil: a controller that never follows).
    init(forwarder: Forwarder?) { self.forwarder = forwarder }

    /// Serves with `router`'s routes from now on.
    func lead(_ router: Router<ControllerContext>) {
        let responder = router.buildResponder()
        mode.withLock { $0 = .leader(responder: { try await responder.respond(to: $0, context: $1) }) }
    }

    /// Forwards to `url` from now on (nil: no leader known; requests get 503).
    func follow(_ url: String?, epoch: Int64) { mode.withLock { $0 = .follower(url: url, epoch: epoch) } }

    /// True while leading.
    var isLeading: Bool {
        mode.withLock {
            if case .leader = $0 { return true }
            return false
        }
    }

    func respond(to request: Request, context: ControllerContext) async throws -> Response {
        let current = mode.withLock { $0 }
        do {
            switch current {
            case .leader(let responder):
                guard HeldAnswer.isHeld(request) else { return try await responder(request, context) }
                return try await HeldAnswer.respond(request, context, routes: responder)
            case .follower(let url, let epoch):
                if request.uri.path == "/healthz" { return try API.json(["status": "ok"]) }
                guard let url, let forwarder else {
                    var error = APIError(.unavailable, "no leader has been elected yet; retry in a moment")
                    error.retryAfter = 1
                    throw error
                }
                if request.uri.path == "/readyz" && request.method == .get {
                    return try API.json(Readiness(role: .follower, leader: url, epoch: epoch))
                }
                return try await forwarder.forward(request, context, to: url)
            }
        } catch let error as APIError {
            return API.error(error, requestID: context.requestID)
        }
    }
}
