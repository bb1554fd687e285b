import TansiqModel
import Yams

/// Decodes one YAML document into a manifest object, strictly: every unknown field, missing
/// required field, wrong type and bad value is reported with its path, and the document yields
/// no object when it has any error.
struct DocumentDecoder {
    let r: NodeReader

    init(sink: DiagnosticSink) { r = NodeReader(sink: sink) }

    func decode(_ root: YAMLNode) -> ManifestObject? {
        let before = r.sink.diagnostics.count
        let object = decodeEnvelope(root)
        return r.sink.diagnostics.count == before ? object : nil
    }

    private func decodeEnvelope(_ root: YAMLNode) -> ManifestObject? {
        // `status` and the controller's metadata (generation, times) are what `tansiq get -o yaml`
        // prints: accepted and ignored, so that its output applies back unchanged. A secret reads
        // `keys`, `size`, `version`, `updatedBy` and `updatedAt` beside its metadata, likewise.
        let readOnly = ["status", "keys", "size", "version", "updatedBy", "updatedAt"]
        guard let doc = r.mapping(root, "", allowed: ["apiVersion", "kind", "metadata", "spec"] + readOnly) else {
            return nil
        }
        if let node = doc.required("apiVersion"), let version = r.string(node, "apiVersion"), version != apiVersion {
            r.sink.report(node, "apiVersion: \"\(version)\" is not supported; use \(apiVersion)")
        }
        guard let kindNode = doc.required("kind"), let kindName = r.string(kindNode, "kind") else {
            // Without a kind the rest cannot be checked against a shape.
            return nil
        }
        guard let kind = Kind(rawValue: kindName) else {
            let allowed = Kind.allCases.map(\.rawValue).joined(separator: ", ")
            r.sink.report(kindNode, "kind: \"\(kindName)\" is not one of \(allowed)")
            return nil
        }
        let metadata = doc.required("metadata").flatMap { decodeMetadata($0, owned: kind != .ministry) }
        if kind == .secret {
            // A secret's values may be left out: the stored ones stay.
            let spec = decodeSecretSpec(doc["spec"])
            guard let metadata, let spec else { return nil }
            return .secret(Secret(metadata: metadata, spec: spec))
        }
        for key in ["keys", "size", "version", "updatedBy", "updatedAt"] where doc.has(key) {
            r.sink.report(doc[key]!, "\(key): unknown field for kind \(kind.rawValue)")
        }
        let specNode = doc.required("spec")
        switch kind {
        case .ministry:
            let spec = specNode.flatMap(decodeMinistrySpec)
            guard let metadata, let spec else { return nil }
            return .ministry(Ministry(metadata: metadata, spec: spec))
        case .application:
            let spec = specNode.flatMap(decodeApplicationSpec)
            guard let metadata, let spec else { return nil }
            return .application(Application(metadata: metadata, spec: spec))
        case .capacityRequest:
            let spec = specNode.flatMap(decodeCapacityRequestSpec)
            guard let metadata, let spec else { return nil }
            return .capacityRequest(CapacityRequest(metadata: metadata, spec: spec))
        case .secret:
            return nil
        }
    }

    private func decodeMetadata(_ node: YAMLNode, owned: Bool) -> ObjectMeta? {
        let readOnly = ["resourceVersion", "generation", "createdAt", "updatedAt"]
        let allowed = (owned ? ["name", "ministry", "labels"] : ["name", "labels"]) + readOnly
        guard let m = r.mapping(node, "metadata", allowed: allowed) else { return nil }
        let name = m.required("name").flatMap { r.dnsLabel($0, m.path("name")) }
        var ministry: String?
        var ok = true
        if owned {
            ministry = m.required("ministry").flatMap { r.dnsLabel($0, m.path("ministry")) }
            ok = ministry != nil
        }
        let labels = m["labels"].map { r.labels($0, m.path("labels")) } ?? [:]
        let version = m["resourceVersion"].map { r.int($0, m.path("resourceVersion"), in: 0...Int.max) } ?? .some(nil)
        guard let name, ok, let labels, let version else { return nil }
        return ObjectMeta(name: name, ministry: ministry, labels: labels, resourceVersion: version.map(Int64.init))
    }

    // MARK: Resources

    /// A full resource vector: every dimension required (a ministry's quota).
    func decodeQuota(_ node: YAMLNode, _ path: String) -> Resources? {
        let dims = Resources.Dimension.allCases.map(\.rawValue)
        guard let f = r.mapping(node, path, allowed: dims) else { return nil }
        let missing = dims.filter { !f.has($0) }
        if !missing.isEmpty {
            r.sink.report(
                node,
                "\(path): must name all four resources (cpu, memory, storage, instances); missing "
                    + missing.joined(separator: ", "))
        }
        let limits = decodeLimitValues(f)
        guard missing.isEmpty, let limits else { return nil }
        return limits.filled(with: .zero)
    }

    /// A partial resource vector: only named dimensions (limits, requested increases).
    func decodeLimits(_ node: YAMLNode, _ path: String, nonEmpty: Bool = false) -> ResourceLimits? {
        guard let f = r.mapping(node, path, allowed: Resources.Dimension.allCases.map(\.rawValue)) else { return nil }
        guard let limits = decodeLimitValues(f) else { return nil }
        if nonEmpty && limits.isEmpty {
            r.sink.report(node, "\(path): must name at least one of cpu, memory, storage, instances")
            return nil
        }
        return limits
    }

    private func decodeLimitValues(_ f: Fields) -> ResourceLimits? {
        var ok = true
        func read<T>(_ key: String, _ parse: (YAMLNode, String) -> T?) -> T? {
            guard let node = f[key] else { return nil }
            let value = parse(node, f.path(key))
            if value == nil { ok = false }
            return value
        }
        let limits = ResourceLimits(
            cpuMillis: read("cpu", r.cpu), memoryBytes: read("memory", r.bytes),
            storageBytes: read("storage", r.bytes),
            instances: read("instances") { r.int($0, $1, in: 0...Int.max).map(Int64.init) })
        return ok ? limits : nil
    }

    /// Runs `parse` on an optional field, distinguishing "absent" (default) from "invalid" (nil).
    func optional<T>(_ f: Fields, _ key: String, default value: T, _ parse: (YAMLNode, String) -> T?) -> T? {
        guard let node = f[key] else { return value }
        return parse(node, f.path(key))
    }
}
