import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import TansiqModel

/// Why a registry call failed, in words an operator can act on.
public enum RegistryError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The registry could not be reached (connection refused, TLS, timeout).
    case unreachable(String)
    /// The registry answered, but not with what was asked for (404, 401, 5xx).
    case refused(String)
    /// What the registry sent is not what its digest says, or not a valid document.
    case invalid(String)

    public var description: String {
        switch self {
        case .unreachable(let m), .refused(let m), .invalid(let m): m
        }
    }
}

/// How a controller or an agent reaches registries: the system's CAs plus `--registry-ca`
/// files over HTTPS, plain HTTP for the hosts named with `--insecure-registry`.
public struct RegistryAccess: Sendable, Hashable, Codable {
    /// PEM files of CAs trusted beside the system's.
    public var caFiles: [String]
    /// `HOST:PORT`s reached over plain HTTP.
    public var insecure: [String]

    public init(caFiles: [String] = [], insecure: [String] = []) {
        self.caFiles = caFiles
        self.insecure = insecure
    }
}

/// A client of the OCI distribution API: how registries are reached. Each use opens a session
/// (its connections and tokens) and closes it after, so nothing outlives the work.
public struct RegistryClient: Sendable {
    let access: RegistryAccess

    /// A client; throws when a CA file cannot be read.
    public init(access: RegistryAccess) throws {
        for file in access.caFiles where !FileManager.default.isReadableFile(atPath: file) {
            throw RegistryError.invalid("--registry-ca \(file): cannot read the file")
        }
        self.access = access
    }

    /// Runs `body` with a session, closed after.
    public func session<T: Sendable>(_ body: @Sendable (RegistrySession) async throws -> T) async throws -> T {
        let session = RegistrySession(access: access)
        do {
            let value = try await body(session)
            await session.close()
            return value
        } catch {
            await session.close()
            throw error
        }
    }

    /// The manifest digest a reference names now (see `RegistrySession.resolve`).
    public func resolve(_ image: ImageReference) async throws -> String {
        if let digest = image.digest { return digest }
        return try await session { try await $0.resolve(image) }
    }
}

/// Connections to registries and the Bearer tokens they handed out: resolves tags to digests,
/// fetches manifests and blobs, verifying every byte against its digest. Anonymous, or
/// Bearer-token challenge auth.
public final class RegistrySession: Sendable {
    private let http: HTTPClient
    private let access: RegistryAccess
    /// Bearer tokens by `registry/repository`, reused until refused.
    private let tokens = Locked<[String: String]>([:])

    init(access: RegistryAccess) {
        self.access = access
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.additionalTrustRoots = access.caFiles.map { .file($0) }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Releases the connections.
    func close() async { try? await http.shutdown() }

    private func base(_ image: ImageReference) -> String {
        (access.insecure.contains(image.registry) ? "http://" : "https://") + image.registry + "/v2/"
            + image.repository
    }

    /// The manifest digest a reference names now: its pinned digest, else the registry's
    /// answer to `HEAD /v2/PATH/manifests/TAG` (`Docker-Content-Digest`; the digest of the body
    /// of a GET when a registry leaves that header out).
    public func resolve(_ image: ImageReference) async throws -> String {
        if let digest = image.digest { return digest }
        let url = base(image) + "/manifests/" + image.tagOrLatest
        let head = try await send(.HEAD, url, image: image, accept: MediaType.manifestAccept)
        if let digest = head.headers.first(name: "Docker-Content-Digest"), ImageReference.isDigest(digest) {
            return digest
        }
        let (data, _) = try await collect(.GET, url, image: image, accept: MediaType.manifestAccept, limit: 4 << 20)
        return Self.digest(of: data)
    }

    /// The manifest (or index) with `digest`, checked against it, and its media type.
    public func manifest(_ image: ImageReference, digest: String) async throws -> (Data, ImageManifest) {
        let (data, contentType) = try await collect(
            .GET, base(image) + "/manifests/" + digest, image: image, accept: MediaType.manifestAccept,
            limit: 4 << 20)
        let actual = Self.digest(of: data)
        guard actual == digest else {
            throw RegistryError.invalid("manifest \(digest) of \(image) arrived as \(actual): refused")
        }
        return (data, try ImageManifest.parse(data, contentType: contentType))
    }

    /// Downloads blob `digest` to `file` (through a temporary file renamed over it once the
    /// bytes match the digest), reporting the bytes received so far. A blob whose bytes do not
    /// match is removed and refused.
    public func download(
        _ image: ImageReference, digest: String, to file: String, progress: @Sendable (Int64) -> Void
    ) async throws {
        let response = try await send(.GET, base(image) + "/blobs/" + digest, image: image, accept: [])
        let temporary = file + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw RegistryError.invalid("cannot write \(temporary)") }
        var hasher = SHA256()
        var received: Int64 = 0
        do {
            for try await buffer in response.body {
                let bytes = Data(buffer.readableBytesView)
                hasher.update(data: bytes)
                try handle.write(contentsOf: bytes)
                received += Int64(bytes.count)
                progress(received)
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            unlink(temporary)
            throw RegistryError.unreachable("blob \(digest) of \(image): the download broke off: \(error)")
        }
        let actual = "sha256:" + hasher.finalize().hex
        guard actual == digest else {
            unlink(temporary)
            throw RegistryError.invalid(
                "blob \(digest) of \(image) does not match its digest (its bytes hash to \(actual)): refused")
        }
        guard rename(temporary, file) == 0 else { throw RegistryError.invalid("cannot rename \(temporary)") }
    }

    /// `sha256:HEX` of `data`.
    public static func digest(of data: some DataProtocol) -> String { "sha256:" + SHA256.hash(data: data).hex }

    // MARK: Requests

    private func collect(
        _ method: HTTPMethod, _ url: String, image: ImageReference, accept: [String], limit: Int
    ) async throws -> (Data, String?) {
        let response = try await send(method, url, image: image, accept: accept)
        do {
            let body = try await response.body.collect(upTo: limit)
            return (Data(body.readableBytesView), response.headers.first(name: "Content-Type"))
        } catch {
            throw RegistryError.unreachable("\(url): the answer broke off or exceeds \(limit) bytes: \(error)")
        }
    }

    /// Sends a request, answering a Bearer challenge once; throws unless the answer is 2xx.
    private func send(
        _ method: HTTPMethod, _ url: String, image: ImageReference, accept: [String]
    ) async throws -> HTTPClientResponse {
        let scope = image.registry + "/" + image.repository
        var response = try await execute(method, url, accept: accept, token: tokens.withLock { $0[scope] })
        if response.status == .unauthorized,
            let challenge = response.headers.first(name: "WWW-Authenticate").flatMap(BearerChallenge.init)
        {
            _ = try? await response.body.collect(upTo: 1 << 16)
            let token = try await fetchToken(challenge, image: image)
            tokens.withLock { $0[scope] = token }
            response = try await execute(method, url, accept: accept, token: token)
        }
        guard (200..<300).contains(response.status.code) else {
            let body = (try? await response.body.collect(upTo: 1 << 16)).map { String(buffer: $0) } ?? ""
            throw RegistryError.refused(Self.refusal(url: url, status: response.status, body: body))
        }
        return response
    }

    private func execute(
        _ method: HTTPMethod, _ url: String, accept: [String], token: String?
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if !accept.isEmpty { request.headers.add(name: "Accept", value: accept.joined(separator: ", ")) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        do {
            return try await http.execute(request, timeout: .seconds(60))
        } catch {
            throw RegistryError.unreachable("\(url): cannot reach the registry: \(error)")
        }
    }

    /// The token a Bearer challenge's realm hands out for pulling the repository.
    private func fetchToken(_ challenge: BearerChallenge, image: ImageReference) async throws -> String {
        guard var components = URLComponents(string: challenge.realm) else {
            throw RegistryError.refused("the registry's token realm \(challenge.realm) is not a URL")
        }
        var items = components.queryItems ?? []
        if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
        items.append(URLQueryItem(name: "scope", value: challenge.scope ?? "repository:\(image.repository):pull"))
        components.queryItems = items
        guard let url = components.string else { throw RegistryError.refused("bad token realm \(challenge.realm)") }
        let response = try await execute(.GET, url, accept: ["application/json"], token: nil)
        let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data($0.readableBytesView) } ?? Data()
        guard response.status == .ok else {
            throw RegistryError.refused(
                Self.refusal(url: url, status: response.status, body: String(decoding: body, as: UTF8.self)))
        }
        struct Answer: Decodable {
            var token: String?
            var access_token: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: body),
            let token = answer.token ?? answer.access_token
        else { throw RegistryError.refused("the token service \(challenge.realm) answered no token") }
        return token
    }

    /// "GET URL: 404 Not Found: manifest unknown" from a registry's error document.
    static func refusal(url: String, status: HTTPResponseStatus, body: String) -> String {
        struct Errors: Decodable {
            struct Item: Decodable {
                var code: String?
                var message: String?
            }
            var errors: [Item]
        }
        let said = (try? JSONDecoder().decode(Errors.self, from: Data(body.utf8)))?.errors
            .map { [$0.code, $0.message].compactMap { $0 }.joined(separator: " ") }.joined(separator: "; ")
        return "\(url): the registry answered \(status.code) \(status.reasonPhrase)" + (said.map { ": \($0)" } ?? "")
    }
}

/// `WWW-Authenticate: Bearer realm="…",service="…",scope="…"`.
struct BearerChallenge {
    var realm: String
    var service: String?
    var scope: String?

    init?(_ header: String) {
        guard header.lowercased().hasPrefix("bearer ") else { return nil }
        var values: [String: String] = [:]
        var rest = Substring(header.dropFirst(7))
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: " ,"))
            rest = rest[rest.index(after: equals)...]
            let value: Substring
            if rest.first == "\"" {
                rest = rest.dropFirst()
                let end = rest.firstIndex(of: "\"") ?? rest.endIndex
                value = rest[..<end]
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end]
                rest = rest[end...]
            }
            values[key.lowercased()] = String(value)
        }
        guard let realm = values["realm"] else { return nil }
        self.realm = realm
        service = values["service"]
        scope = values["scope"]
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex.
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

extension SHA256.Digest {
    var hex: String { Array(self).hex }
}
