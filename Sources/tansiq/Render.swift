import Foundation
import TansiqAPI
import TansiqModel
import Yams

/// JSON and YAML of the API's objects, exactly as the API sends them: integers as integers,
/// quantities and times as their canonical strings, UTF-8 text (Arabic included) as text, keys
/// sorted. Both go through the wire encoder, so what is printed is what the API answers.
enum Render {
    /// Pretty JSON.
    static func json(_ value: some Encodable) throws -> String {
        let encoder = WireJSON.encoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// One YAML document.
    static func yaml(_ value: some Encodable) throws -> String {
        let node = try WireJSON.decoder().decode(JSONValue.self, from: try WireJSON.encoder().encode(value)).node
        return try Yams.serialize(node: node, allowUnicode: true, sortKeys: true)
    }

    /// A YAML stream: one document per value, `---` between them.
    static func yamlStream(_ values: [some Encodable]) throws -> String {
        try values.map { try yaml($0) }.joined(separator: "---\n")
    }
}

extension JSONValue {
    /// The YAML node: strings that would read back as something else are quoted.
    var node: Yams.Node {
        switch self {
        case .null: Yams.Node("null", Tag(.null))
        case .bool(let value): Yams.Node(value ? "true" : "false", Tag(.bool))
        case .int(let value): Yams.Node(String(value), Tag(.int))
        case .double(let value): Yams.Node(String(value), Tag(.float))
        case .string(let value): .scalar(value.represented())
        case .array(let items): .sequence(.init(items.map(\.node)))
        case .object(let pairs): .mapping(.init(pairs.map { (Yams.Node($0.key), $0.value.node) }))
        }
    }
}
