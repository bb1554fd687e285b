import Foundation

/// An instance's output as its node keeps it: `output.log` (what the instance writes, appended)
/// and `output.log.1` (the part rotated out), each with an index of checkpoints — `MILLIS SIZE`
/// lines the agent appends every upkeep tick (250 ms) when the log grew — so that `since` finds
/// where the lines written after a time begin, to within a tick.
struct InstanceLogs: Sendable {
    /// The instance's directory (`instances/ID`).
    let directory: String

    var current: String { directory + "/output.log" }
    var previous: String { current + ".1" }
    static func index(of log: String) -> String { log + ".index" }

    /// True while the instance's directory is kept (its log is readable).
    var exists: Bool { FileManager.default.fileExists(atPath: directory) }

    /// Records that `log` had `size` bytes at `time` (a checkpoint of its index).
    static func checkpoint(_ log: String, size: Int64, at time: Date) {
        let line = "\(Int64(time.timeIntervalSince1970 * 1000)) \(size)\n"
        let index = Self.index(of: log)
        if let handle = FileHandle(forWritingAtPath: index) {
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data(line.utf8))
            try? handle.close()
        } else {
            FileManager.default.createFile(
                atPath: index, contents: Data(line.utf8), attributes: [.posixPermissions: 0o600])
        }
    }

    /// The offset of `log` from which its bytes were written after `since`: the size at its last
    /// checkpoint before `since` (0 without one).
    static func offset(of log: String, since: Date) -> Int64 {
        guard let text = try? String(contentsOfFile: index(of: log), encoding: .utf8) else { return 0 }
        let limit = Int64(since.timeIntervalSince1970 * 1000)
        var offset: Int64 = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let millis = Int64(fields[0]), let size = Int64(fields[1]) else { continue }
            if millis < limit { offset = max(offset, size) } else { break }
        }
        return offset
    }

    /// The bytes of `path` from `offset` to `end` (its end when nil).
    static func bytes(of path: String, from offset: Int64, to end: Int64? = nil) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: UInt64(max(0, offset)))) != nil else { return Data() }
        if let end {
            return (try? handle.read(upToCount: Int(max(0, end - offset)))) ?? Data()
        }
        return (try? handle.readToEnd()) ?? Data()
    }

    /// What the log holds now — the rotated part, then the current one — from the first line
    /// written after `since` (when given), its last `tail` lines (when given); and how far into
    /// the current log that read reached (where following carries on).
    func read(tail: Int?, since: Date?) -> (text: Data, end: Int64) {
        let end = FileStatus.size(of: current)
        var data = Data()
        for (log, limit) in [(previous, FileStatus.size(of: previous)), (current, end)] {
            var start: Int64 = since.map { Self.offset(of: log, since: $0) } ?? 0
            start = min(start, limit)
            // A checkpoint may fall inside a line: the whole line is shown (looking back 64 KiB at most).
            if start > 0 {
                let window = max(0, start - 65536)
                let before = Self.bytes(of: log, from: window, to: start)
                if let newline = before.lastIndex(of: 0x0A) {
                    start = window + Int64(newline - before.startIndex) + 1
                } else if window == 0 {
                    start = 0
                }
            }
            data.append(Self.bytes(of: log, from: start, to: limit))
        }
        if let tail { data = Self.lastLines(data, tail) }
        return (data, end)
    }

    /// The last `count` lines of `data` (a last line without its newline counts).
    static func lastLines(_ data: Data, _ count: Int) -> Data {
        guard count > 0 else { return Data() }
        var seen = 0
        var index = data.endIndex
        if index > data.startIndex, data[data.index(before: index)] == 0x0A { index = data.index(before: index) }
        while index > data.startIndex {
            let before = data.index(before: index)
            if data[before] == 0x0A {
                seen += 1
                if seen == count { return Data(data[index...]) }
            }
            index = before
        }
        return data
    }
}
