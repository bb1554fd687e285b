import Foundation
import Hummingbird
import TansiqManifest
import TansiqModel
import TansiqRegistry

extension Routes {
    func registerApply(_ table: inout RouteTable) {
        table.add(.post, "/v1/apply") { request, context, caller in
            let dryRun = try request.flag("dryRun")
            let objects = try await manifests(in: request)
            let images = try await resolveImages(of: objects, caller: caller)
            let secrets = try await secretChanges(of: objects, caller: caller)
            let identities = objects.map(\.object.identity)
            let object = identities.count == 1 ? identities[0] : "\(identities.count) objects"
            return try await mutate(
                request, context, caller, action: dryRun ? "apply.dry-run" : "apply", object: object, dryRun: dryRun
            ) { registry, now, id throws(APIError) in
                try registry.planApply(
                    objects, caller: caller, now: now, requestID: id, images: images, secrets: secrets)
            }
        }
        // What applying would do now: apply's admission, the rollouts' first round and one
        // placement round on a copy of the live state; nothing is stored, nothing audited.
        table.add(.post, "/v1/plan") { request, context, caller in
            let objects = try await manifests(in: request)
            let images = try await resolveImages(of: objects, caller: caller)
            let secrets = try await secretChanges(of: objects, caller: caller)
            let registry = await cluster.current
            let now = now()
            let heartbeats = cluster.heartbeats
            let result = try registry.whatIf(
                objects, caller: caller, now: now, requestID: context.requestID, images: images, secrets: secrets,
                ready: { heartbeats.isReady($0, in: registry, now: now) })
            return try API.json(result)
        }
    }

    /// The digest each `spec.image` of the applications the caller may write names now (a tag
    /// resolved by the registry, a pinned digest as written). An image that cannot be resolved
    /// is a 422 naming it, with the registry's answer at `spec.image`.
    func resolveImages(of objects: [LocatedObject], caller: Caller) async throws -> [String: String] {
        var digests: [String: String] = [:]
        for item in objects {
            guard case .application(let app) = item.object, let image = app.spec.image, digests[image] == nil,
                Access.canWrite(caller, kind: item.object.kind, ministry: item.object.metadata.ministry)
            else { continue }
            do {
                digests[image] = try await registry.resolve(try ImageReference.parse(image))
            } catch {
                throw APIError(
                    .imageUnavailable,
                    "\(app.key): the image \(image) cannot be resolved to a digest; nothing was applied",
                    details: [
                        .init(
                            path: "documents[\(item.location.document)].spec.image",
                            line: item.location(of: "spec.image").line, column: item.location(of: "spec.image").column,
                            message: "\(error)")
                    ])
            }
        }
        return digests
    }

    /// The manifests of a body: a YAML stream, or a JSON array (or object) of manifests. Errors
    /// name the document by index and its line and column within the body.
    func manifests(in request: Request) async throws -> [LocatedObject] {
        let data = try await API.body(request)
        guard let text = String(data: data, encoding: .utf8) else {
            throw APIError(.invalid, "the body is not UTF-8 text")
        }
        let contentType = request.headers[.contentType] ?? ""
        let trimmed = text.drop(while: { $0.isWhitespace })
        let json = contentType.contains("json") || trimmed.first == "["
        let (objects, diagnostics) = ManifestParser.parse(text, file: "body", arrayOfDocuments: json)
        if !diagnostics.isEmpty {
            let documents = DocumentLines(yaml: json ? "" : text)
            throw APIError(
                .invalid, "the manifests are invalid; nothing was applied",
                details: diagnostics.map { diagnostic in
                    var detail = APIError.Detail(diagnostic)
                    if !json {
                        let prefix = "documents[\(documents.index(ofLine: diagnostic.line))]"
                        detail.path = detail.path.map { "\(prefix).\($0)" } ?? prefix
                    }
                    return detail
                })
        }
        if objects.isEmpty { throw APIError(.invalid, "the body holds no manifests") }
        return objects
    }
}

/// Which document of a YAML stream a line belongs to: documents start after `---` lines.
struct DocumentLines {
    private var starts: [Int] = []

    init(yaml: String) {
        var line = 1
        var sawContent = false
        for text in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if text.hasPrefix("---") {
                if sawContent { starts.append(line) }
                sawContent = false
            } else if !text.trimmingCharacters(in: .whitespaces).isEmpty && !text.hasPrefix("#") {
                sawContent = true
            }
            line += 1
        }
    }

    func index(ofLine line: Int) -> Int { starts.filter { $0 <= line }.count }
}
