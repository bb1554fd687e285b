import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TansiqAPI
import TansiqModel

/// Shared pieces of the HTTP layer: limits, JSON answers and the error envelope.
public enum API {
    /// The largest body the API reads (413 beyond it).
    public static let maxBodySize = 4 << 20

    /// A JSON answer.
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        // Written directly for the values that can (instances, assignment answers); an encoder is
        // made only for the others.
        let data = try WireJSON.encode(value, with: WireJSON.encoder())
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `{"items": [...]}`.
    static func list<T: Codable & Sendable>(_ items: [T]) throws -> Response { try json(ItemList(items: items)) }

    /// The error envelope of DESIGN.md.
    static func error(_ error: APIError, requestID: String) -> Response {
        let envelope = ErrorEnvelope(
            error: .init(code: error.code.rawValue, message: error.message, details: error.details))
        let data = (try? WireJSON.encoder().encode(envelope)) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[.requestID] = requestID
        if error.code == .unauthenticated { headers[.wwwAuthenticate] = "Bearer realm=\"tansiq\"" }
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: HTTPResponse.Status(code: error.code.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Reads the whole body, refusing more than `limit` bytes with 413.
    static func body(_ request: Request, limit: Int = maxBodySize) async throws -> Data {
        // A declared length over the limit is refused before a byte of the body is read.
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError(.tooLarge, "the body is larger than \(limit / 1024) KiB")
        }
        var request = request  // collecting consumes the body
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.tooLarge, "the body is larger than \(limit / 1024) KiB")
        } catch is NIOTooManyBytesError {
            throw APIError(.tooLarge, "the body is larger than \(limit / 1024) KiB")
        }
    }

    /// Decodes a JSON body into `T`, with a 400 that says where it went wrong.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        try decode(T.self, from: try await body(request))
    }

    /// Decodes JSON into `T`, with a 400 that says where it went wrong.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try WireJSON.decoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError(.invalid, "the body is not a valid \(String(describing: T.self)): \(error.sentence)")
        }
    }
}

extension HTTPField.Name {
    /// `X-Request-ID`.
    static let requestID = HTTPField.Name("X-Request-ID")!
}

extension DecodingError {
    /// Where and why, without Swift type dumps.
    var sentence: String {
        func path(_ context: Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "the body" : String(p.drop(while: { $0 == "." }))
        }
        switch self {
        case .keyNotFound(let key, let context): return "\(path(context)): missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context)): \(context.debugDescription)"
        @unknown default: return "not valid JSON"
        }
    }
}
