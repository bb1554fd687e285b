/// An OCI image reference as DESIGN's "Running instances" writes it:
/// `HOST[:PORT]/PATH[:TAG][@sha256:HEX]`. The registry is always named (no short names that
/// would mean some default registry); the tag defaults to `latest`.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// `HOST[:PORT]` of the registry.
    public var registry: String
    /// The repository path within the registry (`finance/e-payment`).
    public var repository: String
    /// The tag, if one was written.
    public var tag: String?
    /// The pinned manifest digest (`sha256:HEX`), if one was written.
    public var digest: String?

    /// Creates a reference.
    public init(registry: String, repository: String, tag: String? = nil, digest: String? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// What the registry is asked for when nothing is pinned: the tag, else `latest`.
    public var tagOrLatest: String { tag ?? "latest" }

    /// The reference as written: registry, repository, then `:TAG` and `@DIGEST` where set.
    public var description: String {
        var text = registry + "/" + repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest }
        return text
    }

    /// The same image pinned to `digest` (`HOST/PATH@sha256:HEX`, the tag dropped).
    public func pinned(to digest: String) -> ImageReference {
        ImageReference(registry: registry, repository: repository, digest: digest)
    }

    /// Parses a reference; the error says which part is wrong.
    public static func parse(_ text: String) throws(QuantityError) -> ImageReference {
        var rest = Substring(text)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let value = String(rest[rest.index(after: at)...])
            guard isDigest(value) else {
                throw QuantityError("\"\(text)\": the digest must be sha256: and 64 lower-case hex digits")
            }
            digest = value
            rest = rest[..<at]
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw QuantityError(
                "\"\(text)\" names no registry; write HOST[:PORT]/PATH[:TAG] (e.g. registry.gov.example/finance/app:1.0)"
            )
        }
        let registry = String(rest[..<slash])
        guard isRegistry(registry) else {
            throw QuantityError(
                "\"\(text)\": \"\(registry)\" is not a registry host; write HOST[:PORT]/PATH[:TAG] "
                    + "(a host has a dot or a port, or is localhost)")
        }
        var path = rest[rest.index(after: slash)...]
        var tag: String?
        if let colon = path.lastIndex(of: ":") {
            let value = String(path[path.index(after: colon)...])
            guard isTag(value) else {
                throw QuantityError("\"\(text)\": \"\(value)\" is not a tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})")
            }
            tag = value
            path = path[..<colon]
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, components.allSatisfy(isPathComponent) else {
            throw QuantityError(
                "\"\(text)\": \"\(path)\" is not a repository path (lower-case letters and digits, "
                    + "separated by ., _, __, - or /)")
        }
        return ImageReference(registry: registry, repository: String(path), tag: tag, digest: digest)
    }

    /// `sha256:` and 64 lower-case hex digits.
    public static func isDigest(_ text: String) -> Bool {
        guard text.hasPrefix("sha256:") else { return false }
        let hex = text.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    static func isRegistry(_ host: String) -> Bool {
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) })
        else { return false }
        return host.contains(".") || host.contains(":") || host == "localhost"
    }

    static func isTag(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 128, first.isASCII, first.isLetter || first.isNumber || first == "_"
        else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    static func isPathComponent(_ text: Substring) -> Bool {
        guard let first = text.first, let last = text.last, isAlnum(first), isAlnum(last) else { return false }
        var separators = 0
        for character in text {
            if isAlnum(character) {
                separators = 0
            } else if "._-".contains(character) {
                separators += 1
                if character != "-" && separators > 2 { return false }
            } else {
                return false
            }
        }
        return !text.contains("..") && !text.contains("___")
    }

    static func isAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }
}

/// The uid and gid an instance runs as: its ministry's, given by the controller when the
/// ministry is created and never reused.
public struct RunAs: Sendable, Hashable, Codable {
    /// The user id.
    public var uid: Int
    /// The group id.
    public var gid: Int

    /// Creates a pair.
    public init(uid: Int, gid: Int) {
        self.uid = uid
        self.gid = gid
    }
}

/// How a node's agent isolates instances.
public enum Isolation: String, CaseIterable, Sendable, Codable {
    /// Every instance in its own runc container (DESIGN's "Running instances").
    case runc
    /// Bare processes, only on a development machine without runc (`--allow-unisolated`).
    case none
}
