import ArgumentParser
import Foundation
import TansiqManifest
import TansiqModel

/// `tansiq validate -f FILE|DIR`: parse and check manifests offline.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check manifests offline: syntax, shapes, quantities, names and references.",
        discussion: """
            Prints one line per kind on success. Every error of every file is printed to stderr as
            FILE:LINE:COLUMN: error: MESSAGE. Exit status: 0 valid, 2 invalid, 1 a path unreadable.
            """
    )

    @OptionGroup var files: ManifestFiles

    func run() async throws {
        let result = ManifestLoader.load(
            paths: files.filename, standardInput: { FileHandle.standardInput.readDataToEndOfFile() })
        for line in result.unreadable { Output.error(line) }
        for diagnostic in result.diagnostics { Output.error(diagnostic.description) }
        if !result.unreadable.isEmpty { throw ExitCode(1) }
        if !result.diagnostics.isEmpty {
            let files = Set(result.diagnostics.map(\.file)).count
            Output.error("\(result.diagnostics.count) error(s) in \(files) file(s)")
            throw ExitCode(2)
        }
        for line in ValidationSummary.lines(result.objects) { Output.line(line) }
    }
}

/// One line per kind: how many, and their names.
enum ValidationSummary {
    static func lines(_ objects: [LocatedObject]) -> [String] {
        Kind.allCases.compactMap { kind in
            let names = objects.filter { $0.object.kind == kind }.map { item in
                item.object.metadata.ministry.map { "\($0)/\(item.object.metadata.name)" } ?? item.object.metadata.name
            }
            guard !names.isEmpty else { return nil }
            return "\(kind.rawValue): \(names.count) valid (\(names.joined(separator: ", ")))"
        }
    }
}
