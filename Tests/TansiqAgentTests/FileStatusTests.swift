import Foundation
import Testing

@testable import TansiqAgent

@Suite("File status: sizes and times from lstat, and the log rotation that uses them")
struct FileStatusTests {
    /// A directory of its own, removed by the caller.
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-filestatus-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a file's size and modification time; 0 and nil for a missing file; a link is itself, not its target")
    func status() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/file"
        try Data(repeating: 7, count: 12_345).write(to: URL(fileURLWithPath: file))
        #expect(FileStatus.size(of: file) == 12_345)
        let modified = try #require(FileStatus.modified(file))
        #expect(abs(modified.timeIntervalSinceNow) < 60)
        let past = Date(timeIntervalSince1970: 1_700_000_000.5)
        try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: file)
        #expect(abs((FileStatus.modified(file)?.timeIntervalSince1970 ?? 0) - past.timeIntervalSince1970) < 0.001)

        #expect(FileStatus.size(of: directory + "/missing") == 0)
        #expect(FileStatus.modified(directory + "/missing") == nil)
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: file)
        #expect(FileStatus.size(of: directory + "/link") == Int64(file.utf8.count))
    }

    @Test("a log past its limit moves to .1 with its index and starts again empty; under it nothing changes")
    func rotation() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logs = InstanceLogs(directory: directory)
        let log = logs.current
        try Data("one\ntwo\n".utf8).write(to: URL(fileURLWithPath: log))
        InstanceLogs.checkpoint(log, size: 8, at: Date())
        let index = try String(contentsOfFile: InstanceLogs.index(of: log), encoding: .utf8)

        #expect(!Supervisor.rotate(log, size: FileStatus.size(of: log), limit: 8))
        #expect(FileStatus.size(of: log) == 8)
        #expect(!FileManager.default.fileExists(atPath: logs.previous))

        #expect(Supervisor.rotate(log, size: FileStatus.size(of: log), limit: 7))
        #expect(FileStatus.size(of: log) == 0)
        #expect(try String(contentsOfFile: logs.previous, encoding: .utf8) == "one\ntwo\n")
        #expect(try String(contentsOfFile: InstanceLogs.index(of: logs.previous), encoding: .utf8) == index)
        #expect(!FileManager.default.fileExists(atPath: InstanceLogs.index(of: log)))
    }
}
