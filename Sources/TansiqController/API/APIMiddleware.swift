import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TansiqModel

/// Wraps every request: gives it an id, turns every error into DESIGN.md's envelope (no stack
/// traces, no internals), audits every refusal (401, 403) that no change has audited already —
/// reads included — and counts the request by route and status.
struct APIMiddleware: RouterMiddleware {
    typealias Context = ControllerContext
    let metrics: ControllerMetrics
    let cluster: Cluster
    let now: @Sendable () -> Date

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            if !error.audited && [.forbidden, .unauthenticated, .rateLimited].contains(error.code) {
                await audit(error, request, context)
            }
            response = Self.envelope(for: error, request, context)
        } catch {
            response = Self.envelope(for: error, request, context)
        }
        response.headers[.requestID] = context.requestID
        metrics.request(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code,
            since: start)
        return response
    }

    private func audit(_ error: APIError, _ request: Request, _ context: Context) async {
        let caller = context.caller.identity
        let record = AuditRecord(
            time: now(), requestID: context.requestID, subject: caller?.subject ?? "-", role: caller?.role ?? "-",
            action: request.method == .get ? "read" : request.method.rawValue.lowercased(),
            object: request.uri.path, result: error.code.rawValue, message: error.message)
        do {
            try await cluster.record([record])
        } catch {
            context.logger.error("cannot audit a refusal", metadata: ["error": "\(error)"])
        }
    }

    /// The envelope answering `error`, for every error but a refusal to audit (logged when it is
    /// the controller's own failure).
    static func envelope(for error: any Error, _ request: Request, _ context: Context) -> Response {
        switch error {
        case let error as APIError:
            return API.error(error, requestID: context.requestID)
        case let error as HTTPError:
            return API.error(Self.translate(error, request), requestID: context.requestID)
        case let error as StoreUnavailable:
            context.logger.error("store failure", metadata: ["error": "\(error.underlying)"])
            return API.error(
                APIError(.unavailable, "the store cannot take writes now; retry later"), requestID: context.requestID)
        default:
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            // DESIGN.md's codes have no 500: an unexpected failure answers `unavailable` (503),
            // with the request id to find it in the logs, never the error itself.
            return API.error(
                APIError(.unavailable, "the request failed inside the controller (request \(context.requestID))"),
                requestID: context.requestID)
        }
    }

    static func translate(_ error: HTTPError, _ request: Request) -> APIError {
        switch error.status {
        case .notFound: APIError(.notFound, "no route \(request.method.rawValue) \(request.uri.path)")
        case .contentTooLarge: APIError(.tooLarge, "the body is larger than \(API.maxBodySize / 1024) KiB")
        case .methodNotAllowed: APIError(.notFound, "no route \(request.method.rawValue) \(request.uri.path)")
        case .unauthorized: APIError(.unauthenticated, error.body ?? "a bearer token is required")
        default: APIError(.invalid, error.body ?? "the request cannot be read")
        }
    }
}

/// A store failure surfaced to a request (503).
struct StoreUnavailable: Error {
    let underlying: any Error
}
