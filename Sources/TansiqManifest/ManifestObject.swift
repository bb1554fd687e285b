import TansiqModel

/// One decoded manifest document.
public enum ManifestObject: Sendable, Hashable {
    case ministry(Ministry)
    case application(Application)
    case capacityRequest(CapacityRequest)
    case secret(Secret)

    /// The document's kind.
    public var kind: Kind {
        switch self {
        case .ministry: .ministry
        case .application: .application
        case .capacityRequest: .capacityRequest
        case .secret: .secret
        }
    }

    /// The object's metadata.
    public var metadata: ObjectMeta {
        switch self {
        case .ministry(let m): m.metadata
        case .application(let a): a.metadata
        case .capacityRequest(let r): r.metadata
        case .secret(let s): s.metadata
        }
    }

    /// `Kind/name` or `Kind/ministry/name`: the identity duplicates are checked by.
    public var identity: String {
        if let ministry = metadata.ministry { return "\(kind.rawValue)/\(ministry)/\(metadata.name)" }
        return "\(kind.rawValue)/\(metadata.name)"
    }
}

/// A decoded object and where it was declared.
public struct LocatedObject: Sendable, Hashable {
    /// The object.
    public var object: ManifestObject
    /// Its document.
    public var location: SourceLocation
    /// Where some fields checked across documents were written (`metadata.name`,
    /// `metadata.ministry`, `spec.code`, `spec.priority`), by path.
    public var fields: [String: SourceLocation]

    /// Creates a located object.
    public init(object: ManifestObject, location: SourceLocation, fields: [String: SourceLocation] = [:]) {
        self.object = object
        self.location = location
        self.fields = fields
    }

    /// Where a field was written, else where the document starts.
    public func location(of path: String) -> SourceLocation { fields[path] ?? location }

    /// The paths `fields` records.
    static let trackedFields = [
        "metadata.name", "metadata.ministry", "spec.code", "spec.priority", "spec.image", "spec.expose",
        "spec.consumers",
    ]
}
