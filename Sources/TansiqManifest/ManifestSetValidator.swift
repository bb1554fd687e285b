import TansiqModel

/// What the cluster already holds that a manifest set may refer to: its ministries and their
/// secrets. Offline validation passes none; the controller passes its own.
public struct ClusterFacts: Sendable {
    /// Ministries by name.
    public var ministries: [String: Ministry]
    /// False when the cluster may hold ministries not listed (the caller cannot read them all):
    /// a reference to an unlisted one is then left to the controller to judge.
    public var complete: Bool
    /// The names of the secrets of the ministries whose secrets are known, by ministry; a
    /// reference to a secret of a ministry not listed is left to the controller to judge.
    public var secrets: [String: Set<String>]

    /// Creates facts.
    public init(ministries: [String: Ministry] = [:], complete: Bool = true, secrets: [String: Set<String>] = [:]) {
        self.ministries = ministries
        self.complete = complete
        self.secrets = secrets
    }
}

/// Checks across the documents of a set: duplicates, unique government codes, references to
/// ministries and to secrets, and priorities a ministry may use.
public enum ManifestSetValidator {
    /// Errors of the set; each points at the document that has the problem.
    public static func validate(_ objects: [LocatedObject], cluster: ClusterFacts) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var seen: [String: SourceLocation] = [:]
        var codes: [String: (name: String, location: SourceLocation)] = [:]
        var ministries = cluster.ministries
        for item in objects {
            if let first = seen[item.object.identity] {
                diagnostics.append(
                    item.location(of: "metadata.name").diagnostic(
                        "\(item.object.identity) is declared twice; first at \(first.file):\(first.line):\(first.column)"
                    ))
                continue
            }
            seen[item.object.identity] = item.location(of: "metadata.name")
            guard case .ministry(let ministry) = item.object else { continue }
            ministries[ministry.metadata.name] = ministry
            if let other = codes[ministry.spec.code] {
                diagnostics.append(
                    item.location(of: "spec.code").diagnostic(
                        "spec.code: \"\(ministry.spec.code)\" is already the code of ministry \(other.name) "
                            + "(\(other.location.file):\(other.location.line):\(other.location.column))"))
            } else {
                codes[ministry.spec.code] = (ministry.metadata.name, item.location(of: "spec.code"))
            }
        }
        for (name, ministry) in cluster.ministries where seen["Ministry/\(name)"] == nil {
            if let other = codes[ministry.spec.code], other.name != name {
                diagnostics.append(
                    other.location.diagnostic(
                        "spec.code: \"\(ministry.spec.code)\" is already the code of ministry \(name) in the cluster"))
            }
        }
        for item in objects {
            guard let owner = item.object.metadata.ministry else { continue }
            guard let ministry = ministries[owner] else {
                if !cluster.complete { continue }
                diagnostics.append(
                    item.location(of: "metadata.ministry").diagnostic(
                        "metadata.ministry: ministry \"\(owner)\" is not declared in these manifests"
                            + (cluster.ministries.isEmpty ? "" : " nor in the cluster")))
                continue
            }
            if case .application(let app) = item.object, !ministry.spec.priorities.contains(app.spec.priority) {
                let allowed = ministry.spec.priorities.map(\.rawValue).joined(separator: ", ")
                diagnostics.append(
                    item.location(of: "spec.priority").diagnostic(
                        "spec.priority: ministry \(owner) may not use priority \"\(app.spec.priority.rawValue)\"; "
                            + "it may use \(allowed)"))
            }
        }
        diagnostics += secretReferences(objects, cluster: cluster)
        diagnostics += exposures(objects, ministries: ministries, complete: cluster.complete)
        return diagnostics
    }

    /// A host and path belong to one application of the set; consumers are other ministries that
    /// exist (in the set, or in the cluster when it is known whole).
    static func exposures(_ objects: [LocatedObject], ministries: [String: Ministry], complete: Bool) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var owners: [String: String] = [:]
        for item in objects {
            guard case .application(let app) = item.object else { continue }
            for expose in app.spec.expose ?? [] {
                let route = expose.host + expose.path
                if let other = owners[route], other != app.key {
                    diagnostics.append(
                        item.location(of: "spec.expose").diagnostic(
                            "spec.expose: \(route) is exposed by Application/\(other) too"))
                }
                owners[route] = app.key
            }
            for consumer in app.spec.consumers ?? [] {
                if consumer == app.metadata.ministry {
                    diagnostics.append(
                        item.location(of: "spec.consumers").diagnostic(
                            "spec.consumers: \(consumer) is the application's own ministry"))
                } else if ministries[consumer] == nil && complete {
                    diagnostics.append(
                        item.location(of: "spec.consumers").diagnostic(
                            "spec.consumers: ministry \"\(consumer)\" does not exist"))
                }
            }
        }
        return diagnostics
    }

    /// An application uses only secrets of its own ministry: declared in the set, or in the
    /// cluster. The message never says whether another ministry has a secret of that name.
    static func secretReferences(_ objects: [LocatedObject], cluster: ClusterFacts) -> [Diagnostic] {
        var declared = cluster.secrets
        for item in objects {
            if case .secret(let secret) = item.object, let ministry = secret.metadata.ministry {
                declared[ministry, default: []].insert(secret.metadata.name)
            }
        }
        var diagnostics: [Diagnostic] = []
        for item in objects {
            guard case .application(let app) = item.object, let ministry = app.metadata.ministry,
                let known = declared[ministry]
            else { continue }
            var references: [(path: String, name: String)] = []
            for (index, mount) in (app.spec.secrets ?? []).enumerated() {
                references.append(("spec.secrets[\(index)].name", mount.name))
            }
            for (variable, ref) in app.spec.run.secretEnv.sorted(by: { $0.key < $1.key }) {
                references.append(("spec.run.env.\(variable).secret", ref.secret))
            }
            for reference in references where !known.contains(reference.name) {
                diagnostics.append(
                    item.location(of: reference.path).diagnostic(
                        "\(reference.path): \"\(reference.name)\" is not a secret of ministry \(ministry) "
                            + "(an application may use only its own ministry's secrets)"))
            }
        }
        return diagnostics
    }
}
