import Foundation
import Hummingbird
import TansiqManifest
import TansiqModel

extension Routes {
    func registerApply(_ table: inout RouteTable) {
        table.add(.post, "/v1/apply") { request, context, caller in
            let dryRun = try request.flag("dryRun")
            let objects = try await manifests(in: request)
            let identities = objects.map(\.object.identity)
            let object = identities.count == 1 ? identities[0] : "\(identities.count) objects"
            return try await mutate(
                request, context, caller, action: dryRun ? "apply.dry-run" : "apply", object: object, dryRun: dryRun
            ) { registry, now, id throws(APIError) in
                try registry.planApply(objects, caller: caller, now: now, requestID: id)
            }
        }
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
