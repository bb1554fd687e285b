import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TansiqModel

/// The CLI's calls to the controller, with messages a person understands.
struct APIClient {
    let connection: Connection
    let client: HTTPClient

    init(_ connection: Connection) throws {
        self.connection = connection
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = connection.ca {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            } catch {
                throw CLIError.failed("cannot read the CA certificate \(ca)")
            }
            tls.certificateVerification = .noHostnameVerification
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    func shutdown() async { try? await client.shutdown() }

    /// A call; the status and body. A transport failure becomes a sentence and exit status 1.
    func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json"
    ) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: connection.server + path)
        request.method = method
        if let token = connection.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            return (Int(response.status.code), Data(bytes.readableBytesView))
        } catch {
            let reason = "\(error)".contains("onnection refused") ? "connection refused" : "\(error)"
            throw CLIError.failed(
                "cannot reach \(connection.server): \(reason); is the controller running? check --server")
        }
    }

    /// A call that must succeed; its JSON body. A refusal becomes the server's sentence and exit 1.
    func json(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json"
    )
        async throws -> Any
    {
        let (status, data) = try await send(method, path, body: body, contentType: contentType)
        guard (200..<300).contains(status) else { throw CLIError.refused(status: status, body: data) }
        return (try? JSONSerialization.jsonObject(with: data)) ?? [:]
    }
}

/// Why a command failed.
enum CLIError: Error, CustomStringConvertible {
    /// Something went wrong (exit 1).
    case failed(String)
    /// The server said no (exit 1; 400 of a manifest is exit 2).
    case refused(status: Int, body: Data)

    var description: String {
        switch self {
        case .failed(let message): return message
        case .refused(let status, let body):
            let error = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? [String: Any]
            var lines = [error?["message"] as? String ?? "the controller answered \(status)"]
            for detail in error?["details"] as? [[String: Any]] ?? [] {
                let place = [detail["path"] as? String, (detail["line"] as? Int).map { "line \($0)" }]
                    .compactMap { $0 }.joined(separator: ", ")
                lines.append("  " + (place.isEmpty ? "" : place + ": ") + (detail["message"] as? String ?? ""))
            }
            return lines.joined(separator: "\n")
        }
    }

    var exitCode: Int32 {
        if case .refused(400, _) = self { return 2 }
        return 1
    }
}

extension Output {
    /// Runs a command body, printing a CLIError and exiting with its status.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as CLIError {
            Output.error("error: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}
