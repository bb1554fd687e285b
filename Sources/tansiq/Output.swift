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
