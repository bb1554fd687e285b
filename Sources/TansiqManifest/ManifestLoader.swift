import Foundation
import TansiqModel

/// The outcome of reading manifest paths.
public struct LoadResult: Sendable {
    /// Every object decoded without error, in file order then document order.
    public var objects: [LocatedObject]
    /// Every error found in every file, plus the checks across documents.
    public var diagnostics: [Diagnostic]
    /// Paths that could not be read, each with the reason.
    public var unreadable: [String]
    /// The files read, in order (`-` for standard input).
    public var files: [String]
    /// The text of each file read, in the same order.
    public var texts: [String] = []
}

/// Reads manifest files and directories.
public enum ManifestLoader {
    /// Reads each path: a file as it is, a directory recursively (`.yaml` and `.yml` files, sorted
    /// by path), `-` as standard input (`standardInput`, read once). Parses every document, then
    /// checks the set as a whole against `cluster`.
    public static func load(
        paths: [String], cluster: ClusterFacts = ClusterFacts(), standardInput: () -> Data? = { nil }
    ) -> LoadResult {
        var result = LoadResult(objects: [], diagnostics: [], unreadable: [], files: [])
        var stdin: Data?
        for path in paths {
            if path == "-" {
                if stdin == nil { stdin = standardInput() ?? Data() }
                result.files.append("-")
                continue
            }
            switch files(at: path) {
            case .success(let found):
                if found.isEmpty { result.unreadable.append("\(path): no .yaml or .yml files in this directory") }
                result.files += found
            case .failure(let reason):
                result.unreadable.append("\(path): \(reason.message)")
            }
        }
        for file in result.files {
            guard let data = file == "-" ? stdin : FileManager.default.contents(atPath: file) else {
                result.unreadable.append("\(file): cannot be read")
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                result.diagnostics.append(Diagnostic(file: file, line: 1, column: 1, message: "not valid UTF-8 text"))
                continue
            }
            result.texts.append(text)
            let parsed = ManifestParser.parse(text, file: file == "-" ? "<stdin>" : file)
            result.objects += parsed.objects
            result.diagnostics += parsed.diagnostics
        }
        result.diagnostics += ManifestSetValidator.validate(result.objects, cluster: cluster)
        // File order, then position: a reader goes through each file once, top to bottom.
        let order = Dictionary(
            result.files.enumerated().map { ($0.element == "-" ? "<stdin>" : $0.element, $0.offset) },
            uniquingKeysWith: { a, _ in a })
        result.diagnostics = result.diagnostics.enumerated().sorted { a, b in
            let ka = (order[a.element.file] ?? Int.max, a.element.line, a.element.column, a.offset)
            let kb = (order[b.element.file] ?? Int.max, b.element.line, b.element.column, b.offset)
            return ka < kb
        }.map(\.element)
        return result
    }

    struct Unreadable: Error { var message: String }

    static func files(at path: String) -> Result<[String], Unreadable> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(Unreadable(message: "no such file or directory"))
        }
        if !isDirectory.boolValue {
            return FileManager.default.isReadableFile(atPath: path)
                ? .success([path]) : .failure(Unreadable(message: "permission denied"))
        }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            return .failure(Unreadable(message: "cannot list the directory"))
        }
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") else { continue }
            let full = "\(base)/\(relative)"
            var dir: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue { found.append(full) }
        }
        return .success(found.sorted())
    }
}
