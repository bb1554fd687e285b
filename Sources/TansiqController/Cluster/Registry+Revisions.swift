import Foundation
import TansiqAPI
import TansiqManifest
import TansiqModel

extension Registry {
    /// The application, or 404.
    func application(ministry: String, name: String) throws(APIError) -> Application {
        guard let app = state.applications["\(ministry)/\(name)"] else {
            throw APIError(.notFound, "Application/\(ministry)/\(name) does not exist")
        }
        return app
    }

    /// Changes an application's replicas alone, admitted like an apply (its image stays pinned to
    /// the digest it runs: scaling never rolls out).
    public func planScale(
        ministry: String, name: String, replicas: Int, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ApplyResult> {
        var app = try application(ministry: ministry, name: name)
        guard (0...10_000).contains(replicas) else {
            throw APIError(
                .invalid, "replicas must be from 0 to 10000", details: [.init(path: "replicas", message: "\(replicas)")]
            )
        }
        app.spec.replicas = replicas
        return try planApply(
            [Self.located(app, "scale")], caller: caller, now: now, requestID: requestID,
            images: Self.pinned(app.spec.image, app.status?.imageDigest))
    }

    /// Applies again the template of generation `generation` (default: the one before the
    /// current), with the digest it ran, as a new generation; replicas stay as they are.
    public func planRollback(
        ministry: String, name: String, generation: Int64?, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ApplyResult> {
        var app = try application(ministry: ministry, name: name)
        let revisions = app.status?.revisions ?? []
        let current = app.status?.targetGeneration ?? app.metadata.generation ?? 1
        let chosen =
            generation.map { wanted in revisions.first { $0.generation == wanted } }
            ?? revisions.last { $0.generation < current }
        guard let revision = chosen else {
            throw APIError(
                .notFound,
                generation.map { "Application/\(ministry)/\(name) keeps no revision of generation \($0)" }
                    ?? "Application/\(ministry)/\(name) has no earlier generation to go back to")
        }
        let replicas = app.spec.replicas
        app.spec = revision.spec
        app.spec.replicas = replicas
        return try planApply(
            [Self.located(app, "rollback")], caller: caller, now: now, requestID: requestID,
            images: Self.pinned(revision.spec.image, revision.imageDigest))
    }

    /// The application as if written in a manifest (its stored version, so a change since is a conflict).
    static func located(_ app: Application, _ source: String) -> LocatedObject {
        var manifest = Application(metadata: app.metadata, spec: app.spec)
        manifest.metadata.generation = nil
        return LocatedObject(
            object: .application(manifest), location: SourceLocation(file: source, document: 0, line: 1, column: 1))
    }

    static func pinned(_ image: String?, _ digest: String?) -> [String: String] {
        guard let image, let digest else { return [:] }
        return [image: digest]
    }
}
