import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TansiqModel

/// Why a call failed.
public enum ClientError: Error, Sendable, CustomStringConvertible {
    /// The controller could not be reached (refused, TLS, timeout).
    case unreachable(server: String, reason: String)
    /// The controller answered with an error envelope.
    case refused(APIFailure)
    /// The answer is not what the API promises.
    case malformed(String)

    public var description: String {
        switch self {
        case .unreachable(let server, let reason):
            "cannot reach \(server): \(reason); is the controller running? check --server"
        case .refused(let failure): failure.description
        case .malformed(let text): text
        }
    }
}

/// An error answer of the API: its status and the envelope's code, message and details.
public struct APIFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var details: [ErrorDetail]

    public init(status: Int, code: String, message: String, details: [ErrorDetail] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    /// The message with the status and code, then each detail on its own line with where it is.
    public var description: String {
        var lines = ["\(message) (\(status) \(code))"]
        for detail in details {
            let place = [detail.path, detail.line.map { "line \($0)" }].compactMap { $0 }.joined(separator: ", ")
            lines.append("  " + (place.isEmpty ? "" : place + ": ") + detail.message)
        }
        return lines.joined(separator: "\n")
    }
}

/// What a raw call answers.
public struct RawResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data

    public init(status: Int, headers: [(String, String)], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// The one HTTPS client of the API and the agent protocol: trust from a CA (file, PEM or
/// certificates), a bearer token for people, a client certificate for nodes, and every error
/// answer decoded into `APIFailure`. Given several servers (the controllers of one cluster), a
/// call that cannot reach one tries the next, and later calls start from the one that answered.
/// Thread-safe; close it with `shutdown()`.
public final class TansiqClient: Sendable {
    /// How the controller's certificate is trusted.
    public enum Trust: Sendable {
        /// The system's CAs.
        case system
        /// A PEM file of the cluster CA (hostnames are not checked: the CA is the cluster's own).
        case caFile(String)
        /// The cluster CA as PEM.
        case caPEM(String)
    }

    /// A client certificate and its key (PEM), for mutual TLS.
    public struct Identity: Sendable {
        public var certificatePEM: String
        public var keyPEM: String

        public init(certificatePEM: String, keyPEM: String) {
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
        }

        /// Read from files.
        public static func files(certificate: String, key: String) throws -> Identity {
            guard let certificatePEM = try? String(contentsOfFile: certificate, encoding: .utf8),
                let keyPEM = try? String(contentsOfFile: key, encoding: .utf8)
            else { throw ClientError.malformed("cannot read \(certificate) or \(key)") }
            return Identity(certificatePEM: certificatePEM, keyPEM: keyPEM)
        }
    }

    /// The controllers, `https://HOST:PORT` each, no trailing slash.
    public let servers: [String]
    /// The bearer token sent with every call, if any.
    public let token: String?
    private let http: HTTPClient
    /// The server tried first: the last one that answered.
    private let preferred = Locked(0)

    /// The server calls go to first.
    public var server: String { servers[preferred.withLock { $0 }] }

    /// A client of `server`. Throws `ClientError.malformed` when the CA or identity cannot be read.
    public convenience init(
        server: String, trust: Trust, token: String? = nil, identity: Identity? = nil,
        readTimeout: TimeAmount = .seconds(75)
    ) throws {
        try self.init(servers: [server], trust: trust, token: token, identity: identity, readTimeout: readTimeout)
    }

    /// A client of the controllers `servers` (at least one), tried in turn. Throws
    /// `ClientError.malformed` when there is none, or the CA or identity cannot be read.
    public init(
        servers: [String], trust: Trust, token: String? = nil, identity: Identity? = nil,
        readTimeout: TimeAmount = .seconds(75)
    ) throws {
        guard !servers.isEmpty else { throw ClientError.malformed("no server given") }
        self.servers = servers.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.token = token
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        do {
            switch trust {
            case .system:
                break
            case .caFile(let path):
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
                tls.certificateVerification = .noHostnameVerification
            case .caPEM(let pem):
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
                tls.certificateVerification = .noHostnameVerification
            }
        } catch {
            throw ClientError.malformed("cannot read the CA certificate: \(error)")
        }
        if let identity {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8))
                    .map { .certificate($0) }
                tls.privateKey = .privateKey(
                    try NIOSSLPrivateKey(bytes: Array(identity.keyPEM.utf8), format: .pem))
            } catch {
                throw ClientError.malformed("cannot read the client certificate or key: \(error)")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(10), read: readTimeout)
        // A controller that refuses the connection fails the call at once (the next server is
        // tried, or the caller retries on its own terms), not after retrying until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the connections; further calls fail.
    public func shutdown() async { try? await http.shutdown() }

    // MARK: Calls

    /// One call, whatever its status. Throws only when no controller can be reached: each is
    /// tried in turn, from the one that last answered, within `timeout` each.
    public func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json",
        headers: [(String, String)] = [], timeout: TimeAmount = .seconds(60), limit: Int = 64 << 20
    ) async throws -> RawResponse {
        let first = preferred.withLock { $0 }
        var failure: ClientError?
        for step in 0..<servers.count {
            let index = (first + step) % servers.count
            do {
                let response = try await send(
                    to: servers[index], method, path, body: body, contentType: contentType, headers: headers,
                    timeout: timeout, limit: limit)
                if index != first { preferred.withLock { $0 = index } }
                return response
            } catch let error as ClientError {
                failure = error
            }
        }
        throw failure ?? ClientError.unreachable(server: server, reason: "no server")
    }

    private func send(
        to server: String, _ method: HTTPMethod, _ path: String, body: Data?, contentType: String,
        headers: [(String, String)], timeout: TimeAmount, limit: Int
    ) async throws -> RawResponse {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: limit)
            return RawResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Data(bytes.readableBytesView))
        } catch {
            let text = "\(error)"
            throw ClientError.unreachable(
                server: server, reason: text.contains("onnection refused") ? "connection refused" : text)
        }
    }

    /// A GET whose answer is handed to `receive` as it arrives (an instance's logs, followed for
    /// as long as `timeout` allows); an error answer throws `ClientError.refused`. Each
    /// controller is tried in turn until one answers.
    public func stream(
        _ path: String, timeout: TimeAmount, receive: (ByteBuffer) async throws -> Void
    ) async throws {
        let first = preferred.withLock { $0 }
        var failure: ClientError?
        for step in 0..<servers.count {
            let index = (first + step) % servers.count
            var request = HTTPClientRequest(url: servers[index] + path)
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: timeout)
            } catch {
                failure = ClientError.unreachable(server: servers[index], reason: "\(error)")
                continue
            }
            if index != first { preferred.withLock { $0 = index } }
            guard (200..<300).contains(response.status.code) else {
                let bytes = try await response.body.collect(upTo: 1 << 20)
                try Self.check(
                    RawResponse(
                        status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                        body: Data(bytes.readableBytesView)))
                return
            }
            for try await chunk in response.body { try await receive(chunk) }
            return
        }
        throw failure ?? ClientError.unreachable(server: server, reason: "no server")
    }

    /// A call that must answer 2xx; its body decoded as `Answer`. An error answer throws
    /// `ClientError.refused` with the envelope.
    public func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json",
        timeout: TimeAmount = .seconds(60), as: Answer.Type = Answer.self
    ) async throws -> Answer {
        let response = try await send(method, path, body: body, contentType: contentType, timeout: timeout)
        try Self.check(response)
        do {
            return try WireJSON.decoder().decode(Answer.self, from: response.body)
        } catch {
            throw ClientError.malformed("\(method) \(path): the answer is not \(Answer.self): \(error)")
        }
    }

    /// `call` with a JSON body.
    public func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, json: some Encodable, timeout: TimeAmount = .seconds(60),
        as: Answer.Type = Answer.self
    ) async throws -> Answer {
        try await call(method, path, body: try WireJSON.encoder().encode(json), timeout: timeout, as: Answer.self)
    }

    /// Throws `ClientError.refused` for an answer outside 2xx.
    public static func check(_ response: RawResponse) throws {
        guard !(200..<300).contains(response.status) else { return }
        if let envelope = try? WireJSON.decoder().decode(ErrorEnvelope.self, from: response.body) {
            throw ClientError.refused(
                APIFailure(
                    status: response.status, code: envelope.error.code, message: envelope.error.message,
                    details: envelope.error.details))
        }
        throw ClientError.refused(
            APIFailure(
                status: response.status, code: "unknown",
                message: "the controller answered \(response.status): \(response.text.prefix(200))"))
    }

    /// A path segment or query value, percent-encoded.
    public static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }

    /// `?a=1&b=2` of the pairs whose value is set.
    public static func query(_ pairs: [(String, String?)]) -> String {
        let set = pairs.compactMap { pair in pair.1.map { "\(pair.0)=\(escape($0))" } }
        return set.isEmpty ? "" : "?" + set.joined(separator: "&")
    }
}
