import ArgumentParser
import Foundation

/// Where the CLI writes: data to stdout, errors to stderr. Writes go straight to the file
/// descriptors (no buffering, so a line per change shows also in a file or a pipe); a reader
/// that closed the pipe (`tansiq get ... | head -1`) ends the command quietly with status 0.
enum Output {
    /// Ignores SIGPIPE, so a closed pipe is an EPIPE error this writer handles, not a kill.
    static func prepare() { signal(SIGPIPE, SIG_IGN) }

    /// Writes text to stdout at once.
    static func line(_ text: String, terminator: String = "\n") { write(1, text + terminator) }

    /// Writes a line to stderr.
    static func error(_ line: String) { write(2, line + "\n") }

    private static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                // The reader is gone: nothing more can be said; end quietly.
                if errno == EPIPE { exit(0) }
                return
            }
            offset += written
        }
    }

    /// True when stdout is a terminal (progress rewrites its line; colour may be used).
    static let isTerminal = isatty(1) == 1

    /// Colour only on a terminal, and never with `NO_COLOR` set.
    static let colour = isTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    /// `text` in an ANSI colour when colour is on.
    static func paint(_ text: String, _ code: Int) -> String { colour ? "\u{1b}[\(code)m\(text)\u{1b}[0m" : text }

    /// A phase coloured by how it is: green ready, yellow on its way, red in trouble.
    static func phase(_ text: String) -> String {
        switch text {
        case "Healthy", "Running", "Ready", "Complete", "Approved": paint(text, 32)
        case "Pending", "Assigned", "Starting", "Terminating", "Joining", "Progressing": paint(text, 33)
        case "Unhealthy", "Exited", "OOMKilled", "Failed", "Lost", "NotReady", "Denied": paint(text, 31)
        default: text
        }
    }
}

/// A line that says how a long wait is going: rewritten in place on a terminal, one line per
/// change when stdout is a file or a pipe.
struct Progress {
    private var last = ""

    mutating func update(_ text: String) {
        guard text != last else { return }
        if Output.isTerminal {
            Output.line("\r\u{1b}[2K" + text, terminator: "")
        } else {
            Output.line(text)
        }
        last = text
    }

    /// Ends the progress line (on a terminal) with `text`.
    mutating func finish(_ text: String) {
        if Output.isTerminal {
            Output.line("\r\u{1b}[2K" + text)
        } else {
            Output.line(text)
        }
        last = text
    }
}

/// `-f FILE|DIR`, repeatable and required: the manifests a command reads; `-f -` reads stdin.
struct ManifestFiles: ParsableArguments {
    @Option(
        name: [.customShort("f"), .customLong("filename")],
        help: ArgumentHelp(
            "A manifest file or a directory of them (recursive), or - for stdin; repeatable.", valueName: "file|dir|-"))
    var filename: [String] = []

    func validate() throws {
        if filename.isEmpty { throw ValidationError("Missing expected argument '-f <filename>'") }
    }
}
