import Foundation

#if canImport(Glibc)
    import CMalloc
    import Glibc
#endif

/// The code that only starting ran — the agent's (parsing its options, reading its state, setting
/// up TLS, adopting instances) or an instance's (pulling and unpacking its image, writing its
/// bundle, runc) — stays resident for the life of the process, although a running agent does not
/// execute it again until the next start. So once the agent has reported its first status, and
/// again once it has been quiet for `quiet` after a change to its instances (`isDue`), `release`
/// asks the kernel to reclaim the clean file pages of its mappings (`MADV_PAGEOUT`: dropped,
/// never written anywhere) — the code of the binary and its libraries, and the binary's data
/// mappings, whose pages only read are file pages like code — not to read ahead on them
/// (`MADV_RANDOM`; Linux 6.18 reads around a fault in an executable mapping whatever the advice), to
/// drop its binary's cached pages that nothing maps (`POSIX_FADV_DONTNEED`), and hands the
/// allocator's free pages back (`malloc_trim`). What is resident afterwards is what the running
/// agent touches again. Pages it wrote are its own memory and stay (on a node with swap, those of
/// the binary's data mappings it has not touched since may go to swap).
public enum StartupPages {
    /// How long the agent's instances must have been left alone before the pages their starts
    /// touched are released again.
    public static let quiet: TimeInterval = 30

    /// One mapping of `/proc/self/maps`.
    public struct Mapping: Equatable, Sendable {
        public var start: UInt
        public var end: UInt
        public var permissions: String
        public var path: String

        /// Executable: code.
        public var isExecutable: Bool { permissions.dropFirst(2).first == "x" }
    }

    /// The file-backed mappings listed in `maps` (the text of `/proc/PID/maps`) that `release`
    /// advises: the executable ones of any file, and every one of `binary` (the agent's own).
    public static func releasable(in maps: String, binary: String) -> [Mapping] {
        maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { return nil }
            let bounds = fields[0].split(separator: "-")
            let path = fields[5].trimmingCharacters(in: .whitespaces)
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                start < end, fields[1].count == 4, path.hasPrefix("/"), !path.hasSuffix(" (deleted)")
            else { return nil }
            let mapping = Mapping(start: start, end: end, permissions: String(fields[1]), path: path)
            return mapping.isExecutable || path == binary ? mapping : nil
        }
    }

    /// Whether a release is due: before the first, and once the instances have been left alone
    /// for `quiet` since they last changed after the last release.
    public static func isDue(releasedAt: Date?, changedAt: Date?, now: Date, quiet: TimeInterval = quiet) -> Bool {
        guard let releasedAt else { return true }
        guard let changedAt, changedAt >= releasedAt else { return false }
        return now.timeIntervalSince(changedAt) >= quiet
    }

    /// Advises the kernel over this process's mappings as above. Returns the bytes of the
    /// mappings advised; 0 where the kernel refuses (before Linux 5.4) or /proc is unreadable.
    @discardableResult
    public static func release() -> Int {
        #if os(Linux)
            // Read to the end: String(contentsOfFile:) returns only the first read of a /proc file.
            guard let maps = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() else { return 0 }
            var advised = 0
            let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            for mapping in releasable(in: String(decoding: maps, as: UTF8.self), binary: binary) {
                guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
                let length = Int(mapping.end - mapping.start)
                _ = madvise(address, length, MADV_RANDOM)
                if madvise(address, length, 21 /* MADV_PAGEOUT */) == 0 { advised += length }
            }
            // What starting read ahead of the agent's binary but never mapped would otherwise be
            // mapped again around the next fault: its cached pages that nothing maps go too (not
            // those of shared libraries, which other processes read).
            let file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
            if file >= 0 {
                _ = posix_fadvise(file, 0, 0, POSIX_FADV_DONTNEED)
                close(file)
            }
            _ = malloc_trim(0)
            return advised
        #else
            return 0
        #endif
    }
}
