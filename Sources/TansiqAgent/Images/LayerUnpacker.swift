import Foundation

/// Unpacks image layers (tar, optionally gzip) into a root filesystem, lowest layer first, as the
/// OCI image spec's "Applying Changesets" says: `.wh.NAME` removes NAME of the layers below,
/// `.wh..wh..opq` empties its directory of them. Every path stays inside the root: `..` stops at
/// the root and symbolic links met on the way are followed as if the root were `/`, so no entry
/// can write outside it. Device nodes are skipped (the runtime provides `/dev`).
struct LayerUnpacker {
    /// The root filesystem being built.
    let root: String
    /// Host paths this layer has written (an opaque directory keeps those).
    private var created: Set<String> = []
    /// Bytes of file contents written.
    private(set) var bytesWritten: Int64 = 0

    init(root: String) { self.root = root }

    /// Applies one layer.
    mutating func apply(layer file: String, gzip: Bool) throws {
        created = []
        let stream = try LayerStream(file: file, gzip: gzip)
        var reader = TarReader(stream: stream)
        while let entry = try reader.next() {
            do {
                try apply(entry, reader: &reader)
            } catch let error as AgentError {
                throw AgentError.io("layer entry \(entry.path): \(error.description)")
            }
        }
    }

    private mutating func apply(_ entry: TarEntry, reader: inout TarReader) throws {
        let components = Self.components(entry.path)
        guard let name = components.last else { return try reader.skipData() }  // the root itself
        guard name != ".." else { throw AgentError.io("a name ending in .. is refused") }
        let parent = try resolve(Array(components.dropLast()))
        if name == ".wh..wh..opq" {
            try reader.skipData()
            for child in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
            where !created.contains(parent + "/" + child) {
                try Self.remove(parent + "/" + child)
            }
            return
        }
        if name.hasPrefix(".wh.") {
            try reader.skipData()
            try Self.remove(parent + "/" + String(name.dropFirst(4)))
            return
        }
        let path = parent + "/" + name
        var existing = stat()
        let exists = lstat(path, &existing) == 0
        let isDirectory = exists && (existing.st_mode & S_IFMT) == S_IFDIR
        switch entry.type {
        case .directory:
            try reader.skipData()
            if exists && !isDirectory { try Self.remove(path) }
            if !isDirectory, mkdir(path, 0o700) != 0 { throw AgentError.io("mkdir: \(Self.errno)") }
        case .regular:
            if exists { try Self.remove(path) }
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw AgentError.io("create: \(Self.errno)") }
            defer { close(fd) }
            try reader.copyData { bytes in
                try bytes.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                        guard n > 0 else { throw AgentError.io("write: \(Self.errno)") }
                        offset += n
                    }
                }
            }
            bytesWritten += entry.size
        case .symlink:
            try reader.skipData()
            if exists { try Self.remove(path) }
            guard symlink(entry.linkTarget, path) == 0 else { throw AgentError.io("symlink: \(Self.errno)") }
        case .hardlink:
            try reader.skipData()
            let targetComponents = Self.components(entry.linkTarget)
            guard let targetName = targetComponents.last, targetName != ".." else {
                throw AgentError.io("hard link to \(entry.linkTarget) is refused")
            }
            let target = try resolve(Array(targetComponents.dropLast())) + "/" + targetName
            var targetStat = stat()
            guard lstat(target, &targetStat) == 0, (targetStat.st_mode & S_IFMT) != S_IFDIR else {
                throw AgentError.io("hard link to \(entry.linkTarget): no such file in the layers")
            }
            if exists { try Self.remove(path) }
            guard link(target, path) == 0 else { throw AgentError.io("link: \(Self.errno)") }
            created.insert(path)
            return
        case .fifo:
            try reader.skipData()
            if exists { try Self.remove(path) }
            guard mkfifo(path, 0o600) == 0 else { throw AgentError.io("mkfifo: \(Self.errno)") }
        case .device, .other:
            return try reader.skipData()
        }
        created.insert(path)
        lchown(path, uid_t(clamping: entry.uid), gid_t(clamping: entry.gid))
        if entry.type != .symlink { chmod(path, mode_t(entry.mode & 0o7777)) }
        var times = [
            timespec(tv_sec: Int(entry.mtime), tv_nsec: 0), timespec(tv_sec: Int(entry.mtime), tv_nsec: 0),
        ]
        utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// The host path of a directory given by components relative to the root, following
    /// symbolic links inside the root and creating missing directories.
    private mutating func resolve(_ components: [String]) throws -> String {
        var current: [String] = []
        var pending = Array(components.reversed())
        var links = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                _ = current.popLast()
                continue
            }
            let path = root + (current + [component]).map { "/" + $0 }.joined()
            var info = stat()
            if lstat(path, &info) != 0 {
                guard mkdir(path, 0o755) == 0 else { throw AgentError.io("mkdir \(path): \(Self.errno)") }
                current.append(component)
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                current.append(component)
            case S_IFLNK:
                links += 1
                guard links <= 40 else { throw AgentError.io("too many symbolic links") }
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
                if target.hasPrefix("/") { current = [] }
                pending.append(contentsOf: Self.components(target).reversed())
            default:
                throw AgentError.io("\(component) is not a directory")
            }
        }
        return root + current.map { "/" + $0 }.joined()
    }

    /// A tar path as components: no leading `/` or `./`, no empty or `.` parts.
    static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    /// Removes a file, link or directory tree (never following a link); absent is fine.
    static func remove(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            try FileManager.default.removeItem(atPath: path)
        } else if unlink(path) != 0 {
            throw AgentError.io("unlink \(path): \(errno)")
        }
    }

    static var errno: String { String(cString: strerror(Glibc.errno)) }
}

/// One entry of a tar stream.
struct TarEntry {
    enum EntryType { case regular, directory, symlink, hardlink, fifo, device, other }
    var path: String
    var type: EntryType
    var mode: Int
    var uid: Int
    var gid: Int
    var size: Int64
    var mtime: Int64
    var linkTarget: String
}

/// Reads ustar, GNU (long names) and PAX tar streams.
struct TarReader {
    let stream: LayerStream
    /// Bytes of the current entry's data not read yet, and its padding.
    private var remaining: Int64 = 0
    private var padding = 0

    init(stream: LayerStream) { self.stream = stream }

    /// The next entry (its data is read with `copyData` or `skipData`), or nil at the end.
    mutating func next() throws -> TarEntry? {
        if remaining > 0 || padding > 0 { try skipData() }
        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        while true {
            let header = try stream.read(512)
            if header.count < 512 || header.allSatisfy({ $0 == 0 }) { return nil }
            try Self.checkChecksum(header)
            let flag = header[156]
            let size = try Self.number(header[124..<136])
            switch flag {
            case UInt8(ascii: "L"), UInt8(ascii: "K"), UInt8(ascii: "x"), UInt8(ascii: "g"):
                guard size <= 1 << 20 else { throw AgentError.io("a tar extension header of \(size) bytes") }
                let data = try stream.readExactly(Int(size))
                try stream.skip(Self.pad(size))
                let text = Self.string(data[...])
                if flag == UInt8(ascii: "L") { longName = text }
                if flag == UInt8(ascii: "K") { longLink = text }
                if flag == UInt8(ascii: "x") { pax.merge(Self.paxRecords(data)) { _, new in new } }
                continue
            default:
                break
            }
            var name = Self.string(header[0..<100])
            let prefix = Self.string(header[345..<500])
            if header[257..<262].elementsEqual("ustar".utf8), !prefix.isEmpty { name = prefix + "/" + name }
            let type: TarEntry.EntryType =
                switch flag {
                case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): .regular
                case UInt8(ascii: "1"): .hardlink
                case UInt8(ascii: "2"): .symlink
                case UInt8(ascii: "3"), UInt8(ascii: "4"): .device
                case UInt8(ascii: "5"): .directory
                case UInt8(ascii: "6"): .fifo
                default: .other
                }
            let entrySize = pax["size"].flatMap { Int64($0) } ?? size
            let mode = try Self.number(header[100..<108])
            let uid = try Self.number(header[108..<116])
            let gid = try Self.number(header[116..<124])
            let mtime = try Self.number(header[136..<148])
            let entry = TarEntry(
                path: pax["path"] ?? longName ?? name, type: type, mode: Int(mode),
                uid: pax["uid"].flatMap { Int($0) } ?? Int(uid), gid: pax["gid"].flatMap { Int($0) } ?? Int(gid),
                size: type == .regular ? entrySize : 0,
                mtime: pax["mtime"].flatMap { Double($0) }.map { Int64($0) } ?? mtime,
                linkTarget: pax["linkpath"] ?? longLink ?? Self.string(header[157..<257]))
            remaining = type == .regular ? entrySize : 0
            // Other types may carry data too (rare); it is skipped with its padding.
            if type != .regular && entrySize > 0 && flag != UInt8(ascii: "1") && flag != UInt8(ascii: "2") {
                remaining = entrySize
            }
            padding = Self.pad(remaining)
            return entry
        }
    }

    /// Passes the current entry's data to `body` in chunks.
    mutating func copyData(_ body: ([UInt8]) throws -> Void) throws {
        while remaining > 0 {
            let chunk = try stream.read(Int(min(remaining, 1 << 16)))
            guard !chunk.isEmpty else { throw AgentError.io("the layer ends in the middle of a file") }
            try body(chunk)
            remaining -= Int64(chunk.count)
        }
        try stream.skip(padding)
        padding = 0
    }

    /// Skips the current entry's data.
    mutating func skipData() throws {
        if remaining > 0 { try stream.skip(Int(remaining)) }
        remaining = 0
        try stream.skip(padding)
        padding = 0
    }

    static func pad(_ size: Int64) -> Int { Int((512 - size % 512) % 512) }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    /// An octal field, or GNU's base-256 form (high bit set).
    static func number(_ bytes: ArraySlice<UInt8>) throws -> Int64 {
        if let first = bytes.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x7f)
            for byte in bytes.dropFirst() {
                guard value < Int64.max >> 8 else { throw AgentError.io("a tar number overflows") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        let text = string(bytes).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
        if text.isEmpty { return 0 }
        guard let value = Int64(text, radix: 8), value >= 0 else {
            throw AgentError.io("\"\(text)\" is not an octal tar number")
        }
        return value
    }

    static func checkChecksum(_ header: [UInt8]) throws {
        let stored = try number(header[148..<156])
        var sum: Int64 = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : Int64(byte) }
        guard stored == sum else { throw AgentError.io("a tar header's checksum is wrong: the layer is corrupt") }
    }

    /// `LENGTH KEY=VALUE\n` records.
    static func paxRecords(_ data: [UInt8]) -> [String: String] {
        var records: [String: String] = [:]
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > 0,
                index + length <= data.count
            else { break }
            let record = data[(space + 1)..<(index + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[..<equals], as: UTF8.self)] = String(
                    decoding: record[(equals + 1)...], as: UTF8.self)
            }
            index += length
        }
        return records
    }
}
