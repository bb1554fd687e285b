/// A label selector as kubectl writes them: requirements joined by commas, all of which must
/// hold — `k=v` (or `k==v`), `k!=v`, `k` (the label is set), `!k` (it is not).
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    /// One requirement.
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case exists(String)
        case absent(String)
    }

    public var requirements: [Requirement]

    /// Parses a selector; the error says which requirement is wrong.
    public init(_ text: String) throws(QuantityError) {
        var requirements: [Requirement] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            func key(_ text: Substring) throws(QuantityError) -> String {
                let key = text.trimmingCharacters(in: .whitespaces)
                guard Names.isLabelKey(key) else {
                    throw QuantityError("label selector \"\(text)\": \"\(key)\" is not a label key")
                }
                return key
            }
            if let range = item.range(of: "!=") {
                requirements.append(
                    .notEquals(try key(item[..<range.lowerBound]), String(item[range.upperBound...])))
            } else if let range = item.range(of: "==") ?? item.range(of: "=") {
                requirements.append(.equals(try key(item[..<range.lowerBound]), String(item[range.upperBound...])))
            } else if item.hasPrefix("!") {
                requirements.append(.absent(try key(item.dropFirst())))
            } else {
                guard !item.isEmpty else { throw QuantityError("label selector \"\(text)\": an empty requirement") }
                requirements.append(.exists(try key(Substring(item))))
            }
        }
        self.requirements = requirements
    }

    /// True when every requirement holds for `labels`.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .exists(let key): labels[key] != nil
            case .absent(let key): labels[key] == nil
            }
        }
    }

    public var description: String {
        requirements.map { requirement in
            switch requirement {
            case .equals(let key, let value): "\(key)=\(value)"
            case .notEquals(let key, let value): "\(key)!=\(value)"
            case .exists(let key): key
            case .absent(let key): "!\(key)"
            }
        }.joined(separator: ",")
    }
}
