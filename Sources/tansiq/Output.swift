import ArgumentParser
import Foundation

/// Where the CLI writes: data to stdout, errors to stderr.
enum Output {
    /// Writes text to stdout at once (unbuffered, so a line per change shows also in a file or pipe).
    static func line(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    /// Writes a line to stderr.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// `-f FILE|DIR`, repeatable and required: the manifests a command reads.
struct ManifestFiles: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("filename")],
        help: ArgumentHelp("A manifest file or a directory of them (recursive); repeatable.", valueName: "file|dir"))
    var filename: [String] = []

    func validate() throws {
        if filename.isEmpty { throw ValidationError("Missing expected argument '-f <filename>'") }
    }
}
