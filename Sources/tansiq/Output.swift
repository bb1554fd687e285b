import Foundation

/// Where the CLI writes: data to stdout, errors to stderr.
enum Output {
    /// Writes a line to stderr.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
