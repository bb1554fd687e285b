import TansiqModel
import Yams

/// Collects diagnostics for one file while its documents are decoded.
final class DiagnosticSink {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    /// Records an error at a node's mark (line 1, column 1 when the node has none).
    func report(_ node: YAMLNode?, _ message: String) {
        report(mark: node?.mark, message)
    }

    func report(mark: Mark?, _ message: String) {
        report(line: mark?.line ?? 1, column: mark?.column ?? 1, message)
    }

    func report(line: Int, column: Int, _ message: String) {
        diagnostics.append(Diagnostic(file: file, line: line, column: column, message: message))
    }
}

/// Reads typed values out of a YAML node tree, reporting each problem once with its field path
/// and returning nil for the value so decoding can go on and find the next problem.
struct NodeReader {
    let sink: DiagnosticSink

    /// A short description of what a node holds, for "expected X, got Y".
    static func describe(_ node: YAMLNode) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return "null"
            case Tag.Name.bool.rawValue: return "the boolean \(scalar.string)"
            case Tag.Name.int.rawValue, Tag.Name.float.rawValue: return "the number \(scalar.string)"
            default: return "the string \"\(scalar.string)\""
            }
        }
    }

    static func isNull(_ node: YAMLNode) -> Bool {
        node.scalar != nil && node.tag.description == Tag.Name.null.rawValue
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    // MARK: Mappings

    /// Opens a mapping whose keys must be among `allowed`; reports a non-mapping or unknown keys.
    func mapping(_ node: YAMLNode, _ path: String, allowed: [String]) -> Fields? {
        guard let mapping = node.mapping else {
            sink.report(node, "\(path.isEmpty ? "document" : path): expected a mapping, got \(Self.describe(node))")
            return nil
        }
        var values: [String: (key: YAMLNode, value: YAMLNode)] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string, key.tag.description == Tag.Name.str.rawValue else {
                sink.report(key, "\(path.isEmpty ? "document" : path): keys must be strings, got \(Self.describe(key))")
                continue
            }
            if !allowed.contains(name) {
                sink.report(
                    key, "\(Self.join(path, name)): unknown field; allowed: \(allowed.joined(separator: ", "))")
                continue
            }
            values[name] = (key, value)
        }
        return Fields(reader: self, node: node, path: path, values: values)
    }

    /// Opens a free-form mapping of strings to nodes (labels, env, nodeSelector).
    func entries(_ node: YAMLNode, _ path: String) -> [(key: String, keyNode: YAMLNode, value: YAMLNode)]? {
        guard let mapping = node.mapping else {
            sink.report(node, "\(path): expected a mapping, got \(Self.describe(node))")
            return nil
        }
        var result: [(String, YAMLNode, YAMLNode)] = []
        for (key, value) in mapping {
            guard let name = key.scalar?.string, key.tag.description == Tag.Name.str.rawValue else {
                sink.report(key, "\(path): keys must be strings, got \(Self.describe(key))")
                continue
            }
            result.append((name, key, value))
        }
        return result
    }

    /// A list's items with their paths.
    func list(_ node: YAMLNode, _ path: String) -> [(path: String, node: YAMLNode)]? {
        guard let sequence = node.sequence else {
            sink.report(node, "\(path): expected a list, got \(Self.describe(node))")
            return nil
        }
        return sequence.enumerated().map { ("\(path)[\($0.offset)]", $0.element) }
    }

    /// The items of a list, each decoded by `decode`, none twice (`twice` says what is repeated);
    /// nil when an item is bad or repeated (each reported).
    func distinct<Item: Equatable>(
        _ items: [(path: String, node: YAMLNode)], _ decode: (YAMLNode, String) -> Item?,
        twice: (Item) -> String
    ) -> [Item]? {
        var result: [Item] = []
        var ok = true
        for item in items {
            guard let value = decode(item.node, item.path) else {
                ok = false
                continue
            }
            if result.contains(value) {
                sink.report(item.node, "\(item.path): \(twice(value)) is listed twice")
                ok = false
            }
            result.append(value)
        }
        return ok ? result : nil
    }

    // MARK: Scalars

    /// A string scalar (quoted or plain that YAML reads as a string).
    /// A boolean (`true` or `false`).
    func bool(_ node: YAMLNode, _ path: String) -> Bool? {
        guard let scalar = node.scalar, node.tag.description == Tag.Name.bool.rawValue else {
            sink.report(node, "\(path): expected true or false, got \(Self.describe(node))")
            return nil
        }
        switch scalar.string.lowercased() {
        case "true": return true
        case "false": return false
        default:
            sink.report(node, "\(path): expected true or false, got \(scalar.string)")
            return nil
        }
    }

    func string(_ node: YAMLNode, _ path: String) -> String? {
        guard let scalar = node.scalar, node.tag.description == Tag.Name.str.rawValue else {
            sink.report(node, "\(path): expected a string, got \(Self.describe(node))")
            return nil
        }
        return scalar.string
    }

    /// A non-empty string.
    func nonEmptyString(_ node: YAMLNode, _ path: String) -> String? {
        guard let s = string(node, path) else { return nil }
        if s.isEmpty {
            sink.report(node, "\(path): must not be empty")
            return nil
        }
        return s
    }

    /// An integer within `range`.
    func int(_ node: YAMLNode, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard let scalar = node.scalar, node.tag.description == Tag.Name.int.rawValue, let value = Int(scalar.string)
        else {
            sink.report(node, "\(path): expected an integer, got \(Self.describe(node))")
            return nil
        }
        guard range.contains(value) else {
            let bound =
                range.upperBound == Int.max
                ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            sink.report(node, "\(path): \(value) is out of range; must be \(bound)")
            return nil
        }
        return value
    }

    /// A positive number (integer or decimal).
    func positiveNumber(_ node: YAMLNode, _ path: String) -> Double? {
        let tag = node.tag.description
        guard let scalar = node.scalar, tag == Tag.Name.int.rawValue || tag == Tag.Name.float.rawValue,
            let value = Double(scalar.string)
        else {
            sink.report(node, "\(path): expected a number, got \(Self.describe(node))")
            return nil
        }
        guard value > 0, value.isFinite else {
            sink.report(node, "\(path): \(scalar.string) must be a positive number")
            return nil
        }
        return value
    }

    /// A DNS label.
    func dnsLabel(_ node: YAMLNode, _ path: String) -> String? {
        guard let s = string(node, path) else { return nil }
        guard Names.isDNSLabel(s) else {
            sink.report(
                node,
                "\(path): \"\(s)\" is not a valid name; use 1-63 lower-case letters, digits and '-', "
                    + "starting and ending with a letter or digit")
            return nil
        }
        return s
    }

    /// One of an enumeration's raw values.
    func oneOf<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ path: String, _: E.Type) -> E?
    where E.RawValue == String {
        guard let s = string(node, path) else { return nil }
        guard let value = E(rawValue: s) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            sink.report(node, "\(path): \"\(s)\" is not one of \(allowed)")
            return nil
        }
        return value
    }

    /// The text of a quantity: a string or a plain number.
    private func quantityText(_ node: YAMLNode, _ path: String, example: String) -> String? {
        let tag = node.tag.description
        guard let scalar = node.scalar,
            [Tag.Name.str.rawValue, Tag.Name.int.rawValue, Tag.Name.float.rawValue].contains(tag)
        else {
            sink.report(node, "\(path): expected a quantity such as \(example), got \(Self.describe(node))")
            return nil
        }
        return scalar.string
    }

    /// A cpu quantity in millicores.
    func cpu(_ node: YAMLNode, _ path: String) -> Int64? {
        guard let text = quantityText(node, path, example: "2, 0.5 or 500m") else { return nil }
        do { return try Quantity.parseCPU(text) } catch {
            sink.report(node, "\(path): \(error.message)")
            return nil
        }
    }

    /// A memory or storage quantity in bytes.
    func bytes(_ node: YAMLNode, _ path: String) -> Int64? {
        guard let text = quantityText(node, path, example: "512Mi, 4Gi or 1G") else { return nil }
        do { return try Quantity.parseBytes(text) } catch {
            sink.report(node, "\(path): \(error.message)")
            return nil
        }
    }

    /// A duration such as `5s`.
    func span(_ node: YAMLNode, _ path: String) -> Span? {
        guard let text = string(node, path) else { return nil }
        do { return try Span.parse(text) } catch {
            sink.report(node, "\(path): \(error.message)")
            return nil
        }
    }

    /// A list of strings.
    func stringList(_ node: YAMLNode, _ path: String, nonEmpty: Bool = false) -> [String]? {
        guard let items = list(node, path) else { return nil }
        if nonEmpty && items.isEmpty {
            sink.report(node, "\(path): must not be empty")
            return nil
        }
        let values = items.map { string($0.node, $0.path) }
        return values.contains(where: { $0 == nil }) ? nil : values.compactMap { $0 }
    }

    /// A mapping of label keys to label values.
    func labels(_ node: YAMLNode, _ path: String) -> [String: String]? {
        guard let entries = entries(node, path) else { return nil }
        var result: [String: String] = [:]
        var ok = true
        for entry in entries {
            let entryPath = Self.join(path, entry.key)
            guard Names.isLabelKey(entry.key) else {
                sink.report(entry.keyNode, "\(entryPath): \"\(entry.key)\" is not a valid label key")
                ok = false
                continue
            }
            guard let value = string(entry.value, entryPath) else {
                ok = false
                continue
            }
            guard Names.isLabelValue(value) else {
                sink.report(
                    entry.value,
                    "\(entryPath): \"\(value)\" is not a valid label value; use up to 63 letters, "
                        + "digits, '.', '_' and '-', starting and ending with a letter or digit")
                ok = false
                continue
            }
            result[entry.key] = value
        }
        return ok ? result : nil
    }
}

/// The fields of one mapping, with the path that names them in diagnostics.
struct Fields {
    let reader: NodeReader
    let node: YAMLNode
    let path: String
    let values: [String: (key: YAMLNode, value: YAMLNode)]

    /// The value of an optional field; nil when absent or null.
    subscript(key: String) -> YAMLNode? {
        guard let value = values[key]?.value, !NodeReader.isNull(value) else { return nil }
        return value
    }

    /// The value of a required field; reports it missing (at the mapping) when absent or null.
    func required(_ key: String) -> YAMLNode? {
        if let value = self[key] { return value }
        let mark = values[key]?.value.mark ?? node.mark
        reader.sink.report(mark: mark, "\(self.path(key)): required field is missing")
        return nil
    }

    /// The path of a field.
    func path(_ key: String) -> String { NodeReader.join(path, key) }

    /// True when the field is present and not null.
    func has(_ key: String) -> Bool { self[key] != nil }
}
