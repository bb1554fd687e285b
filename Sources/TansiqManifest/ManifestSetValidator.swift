import TansiqModel

/// What the cluster already holds that a manifest set may refer to: its ministries.
/// Offline validation passes none; the controller passes its own.
public struct ClusterFacts: Sendable {
    /// Ministries by name.
    public var ministries: [String: Ministry]
    /// False when the cluster may hold ministries not listed (the caller cannot read them all):
    /// a reference to an unlisted one is then left to the controller to judge.
    public var complete: Bool

    /// Creates facts.
    public init(ministries: [String: Ministry] = [:], complete: Bool = true) {
        self.ministries = ministries
        self.complete = complete
    }
}

/// Checks across the documents of a set: duplicates, unique government codes, references to
/// ministries, and priorities a ministry may use.
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
        return diagnostics
    }
}
