import Foundation
import TansiqModel
import Yams

extension DocumentDecoder {
    func decodeCapacityRequestSpec(_ node: YAMLNode) -> CapacityRequestSpec? {
        guard let f = r.mapping(node, "spec", allowed: ["add", "reason", "until"]) else { return nil }
        let add = f.required("add").flatMap { decodeLimits($0, f.path("add"), nonEmpty: true) }
        let reason = f.required("reason").flatMap { r.nonEmptyString($0, f.path("reason")) }
        let until = optional(f, "until", default: Date?.none) { decodeTime($0, $1).map(Optional.some) }
        guard let add, let reason, let until else { return nil }
        return CapacityRequestSpec(add: add, reason: reason, until: until)
    }

    /// An RFC 3339 time; YAML reads an unquoted one as a timestamp, which is accepted too.
    func decodeTime(_ node: YAMLNode, _ path: String) -> Date? {
        let tag = node.tag.description
        guard let scalar = node.scalar, tag == Tag.Name.str.rawValue || tag == Tag.Name.timestamp.rawValue else {
            r.sink.report(node, "\(path): expected an RFC 3339 time, got \(NodeReader.describe(node))")
            return nil
        }
        guard let date = RFC3339.parse(scalar.string) else {
            r.sink.report(
                node, "\(path): \"\(scalar.string)\" is not an RFC 3339 time (e.g. 2027-06-30T00:00:00Z)")
            return nil
        }
        return date
    }
}
