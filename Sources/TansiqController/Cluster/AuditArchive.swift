import Foundation
import TansiqModel

/// The audit log's archive: records moved out of the store, in files of JSON lines
/// (`audit-FIRST-LAST.jsonl`, the positions zero-padded to 20 digits so that names sort), each
/// record as `GET /v1/audit` shows it — hashes included, so the chain verifies across the files
/// and on into the store. A file is written whole (a `.part` file fsynced, then renamed) before
/// its records leave the store.
public enum AuditArchive {
    /// The name of the file holding records `first` to `last`.
    static func fileName(first: Int64, last: Int64) -> String {
        "audit-\(padded(first))-\(padded(last)).jsonl"
    }

    private static func padded(_ value: Int64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// The archive's files in `directory` with the positions their names give, oldest first
    /// (none when the directory does not exist).
    public static func files(in directory: String) -> [(first: Int64, last: Int64, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int64, Int64, String)? in
            guard name.hasPrefix("audit-"), name.hasSuffix(".jsonl") else { return nil }
            let parts = name.dropFirst("audit-".count).dropLast(".jsonl".count).split(separator: "-")
            guard parts.count == 2, let first = Int64(parts[0]), let last = Int64(parts[1]), first <= last else {
                return nil
            }
            return (first, last, directory + "/" + name)
        }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// Writes `records` (consecutive, oldest first) to their file in `directory`, durably.
    static func write(_ records: [AuditRecord], into directory: String) throws {
        guard let first = records.first?.seq, let last = records.last?.seq else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = WireJSON.encoder()
        var data = Data()
        for record in records {
            data += try encoder.encode(record)
            data.append(UInt8(ascii: "\n"))
        }
        let path = directory + "/" + fileName(first: first, last: last)
        let part = path + ".part"
        guard FileManager.default.createFile(atPath: part, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: part])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: part))
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
        guard rename(part, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let dir = open(directory, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// The archived records from position `from` on, file by file, oldest first; `body` returns
    /// false to stop. Throws when a file cannot be read or holds a line that is not a record.
    static func read(in directory: String, from: Int64, _ body: (AuditRecord) -> Bool) throws {
        let decoder = WireJSON.decoder()
        for file in files(in: directory) where file.last >= from {
            let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
            var line = 0
            for slice in data.split(separator: UInt8(ascii: "\n")) {
                line += 1
                let record: AuditRecord
                do { record = try decoder.decode(AuditRecord.self, from: slice) } catch {
                    throw AuditArchiveError.unreadable("\(file.path):\(line): not an audit record")
                }
                if record.seq < from { continue }
                if !body(record) { return }
            }
        }
    }
}

/// An archive file that cannot be read.
enum AuditArchiveError: Error, CustomStringConvertible {
    case unreadable(String)

    var description: String {
        switch self {
        case .unreadable(let message): message
        }
    }
}
