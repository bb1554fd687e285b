import Foundation
import Testing

@testable import TansiqManifest

/// The published JSON Schema and the decoder agree: on every example manifest, and on a set of
/// good and bad documents. The schema is checked by Python's `jsonschema` (no Swift validator is
/// available); `.ci/run` installs it.
@Suite("JSON Schema agrees with the decoder")
struct SchemaAgreementTests {
    static let fixtures = packageRoot.appendingPathComponent("Tests/TansiqManifestTests/Fixtures/schema")

    static func files(in directory: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        var found: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            if relative.hasSuffix(".yaml") { found.append(directory.appendingPathComponent(relative).path) }
        }
        return found.sorted()
    }

    /// Runs the schema checker and returns each file's verdict.
    static func schemaVerdicts(_ files: [String]) throws -> [String: Bool] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", packageRoot.appendingPathComponent("scripts/check_schema.py").path,
                packageRoot.appendingPathComponent("schema/tansiq-v1.schema.json").path,
            ] + files
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "check_schema.py failed: \(errorText)")
        let json = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
        return json.compactMapValues { $0["valid"] as? Bool }
    }

    static func decoderAccepts(_ file: String) -> Bool {
        let result = ManifestLoader.load(paths: [file])
        return result.diagnostics.isEmpty && result.unreadable.isEmpty
    }

    @Test("every example manifest validates against the schema and the decoder")
    func examplesValidate() throws {
        let files = Self.files(in: packageRoot.appendingPathComponent("manifests"))
        try #require(files.count >= 5)
        let verdicts = try Self.schemaVerdicts(files)
        for file in files {
            #expect(verdicts[file] == true, "schema refuses \(file)")
        }
        let all = ManifestLoader.load(paths: [packageRoot.appendingPathComponent("manifests").path])
        #expect(all.diagnostics.map(\.description) == [])
    }

    @Test("the schema and the decoder give the same verdict on good and bad documents")
    func verdictsAgree() throws {
        let files = Self.files(in: Self.fixtures)
        try #require(files.count >= 20)
        let verdicts = try Self.schemaVerdicts(files)
        for file in files {
            let name = URL(fileURLWithPath: file).lastPathComponent
            let expected = name.hasPrefix("good-")
            #expect(verdicts[file] == expected, "schema verdict on \(name)")
            #expect(Self.decoderAccepts(file) == expected, "decoder verdict on \(name)")
        }
    }
}
