import TansiqModel
import Yams

/// Parses a YAML stream (one or many documents, comments, `---` and `...`) into manifest objects.
public enum ManifestParser {
    /// Objects of the stream and every error found in it. A document with an error yields no
    /// object; a YAML syntax error ends the stream there (YAML cannot resume after one).
    ///
    /// - Parameters:
    ///   - text: the YAML stream.
    ///   - file: the name diagnostics carry (a path, or `body` for a request body).
    ///   - arrayOfDocuments: true for a JSON array of manifests (the API's JSON body): each element
    ///     of a top-level sequence is a document.
    public static func parse(
        _ text: String, file: String, arrayOfDocuments: Bool = false
    ) -> (objects: [LocatedObject], diagnostics: [Diagnostic]) {
        let sink = DiagnosticSink(file: file)
        let decoder = DocumentDecoder(sink: sink)
        var objects: [LocatedObject] = []
        do {
            let parser = try Parser(yaml: text)
            var index = 0
            var pending: [YAMLNode] = []
            while let root = pending.isEmpty ? try parser.nextRoot() : pending.removeFirst() {
                if arrayOfDocuments, let elements = root.sequence, pending.isEmpty, index == 0 {
                    pending = Array(elements)
                    if pending.isEmpty { break }
                    continue
                }
                defer { index += 1 }
                if NodeReader.isNull(root) { continue }  // an empty document
                let mark = root.mark
                let location = SourceLocation(
                    file: file, document: index, line: mark?.line ?? 1, column: mark?.column ?? 1)
                if let object = decoder.decode(root) {
                    var fields: [String: SourceLocation] = [:]
                    for path in LocatedObject.trackedFields {
                        let keys = path.split(separator: ".").map(String.init)
                        if let mark = keys.reduce(Optional(root), { $0?.mapping?[$1] })?.mark {
                            fields[path] = SourceLocation(
                                file: file, document: index, line: mark.line, column: mark.column)
                        }
                    }
                    for (path, mark) in Self.secretReferences(in: root) {
                        fields[path] = SourceLocation(file: file, document: index, line: mark.line, column: mark.column)
                    }
                    objects.append(LocatedObject(object: object, location: location, fields: fields))
                }
            }
        } catch let error as YamlError {
            let position = secondOccurrence(of: error, in: text) ?? error.mark.map { ($0.line, $0.column) } ?? (1, 1)
            sink.report(line: position.line, column: position.column, "YAML: \(error.problem)")
        } catch {
            sink.report(mark: nil, "YAML: \(error)")
        }
        let sorted = sink.diagnostics.enumerated().sorted {
            ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
        }
        return (objects, sorted.map(\.element))
    }

    /// Yams marks a duplicated key at its first occurrence; the mistake is the second one. In a
    /// block mapping that is the next line with the same key at the same column.
    static func secondOccurrence(of error: YamlError, in text: String) -> (line: Int, column: Int)? {
        guard case .duplicatedKeysInMapping(let keys, let context) = error, let key = keys.first else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let column = context.mark.column
        guard context.mark.line >= 1, context.mark.line < lines.count else { return nil }
        for index in context.mark.line..<lines.count {
            let line = Array(lines[index].unicodeScalars)
            guard line.count >= column else { continue }
            let rest = String(String.UnicodeScalarView(line[(column - 1)...]))
            let prefix = String(String.UnicodeScalarView(line[..<(column - 1)]))
            guard prefix.allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            if rest.hasPrefix("\(key):") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") {
                return (index + 1, column)
            }
        }
        return nil
    }

    /// Where an application names a secret: `spec.secrets[I].name` and `spec.run.env.VAR.secret`.
    static func secretReferences(in root: YAMLNode) -> [(String, Mark)] {
        guard let spec = root.mapping?["spec"]?.mapping else { return [] }
        var found: [(String, Mark)] = []
        for (index, item) in (spec["secrets"]?.sequence ?? []).enumerated() {
            if let mark = item.mapping?["name"]?.mark { found.append(("spec.secrets[\(index)].name", mark)) }
        }
        for (key, value) in spec["run"]?.mapping?["env"]?.mapping ?? [:] {
            if let name = key.string, let mark = value.mapping?["secret"]?.mark {
                found.append(("spec.run.env.\(name).secret", mark))
            }
        }
        return found
    }
}

extension YamlError {
    /// Where the problem is, when libyaml said.
    var mark: Mark? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark
        case .duplicatedKeysInMapping(_, let context): context.mark
        default: nil
        }
    }

    /// The problem without libyaml's position suffix.
    var problem: String {
        switch self {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.joined(separator: ": ")
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in a mapping"
        case .reader(let problem, _, _, _): return problem
        case .dataCouldNotBeDecoded: return "the file is not valid UTF-8"
        default: return "\(self)"
        }
    }
}
