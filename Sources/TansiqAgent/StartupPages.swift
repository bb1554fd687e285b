import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The code that only starting the agent ran — parsing its options, reading its state, setting up
/// TLS, adopting instances — stays resident for the life of the process, although a running agent
/// never executes it again. Once the agent has reported its first status, `release` asks the
/// kernel to reclaim the pages of its executable mappings (`MADV_PAGEOUT`: they are clean file
/// pages, dropped, never written anywhere), not to read ahead on them (`MADV_RANDOM`), and to drop
/// its binary's cached pages that nothing maps (`POSIX_FADV_DONTNEED`), so that what is resident
/// afterwards is what the running agent touches again. Writable and read-only
/// data mappings are left alone (their written pages are the agent's own memory).
public enum StartupPages {
    /// One mapping of `/proc/self/maps`.
    public struct Mapping: Equatable, Sendable {
        public var start: UInt
        public var end: UInt
        public var permissions: String
        public var path: String
    }

    /// The executable, file-backed mappings listed in `maps` (the text of `/proc/PID/maps`).
    public static func executableMappings(in maps: String) -> [Mapping] {
        maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { return nil }
            let bounds = fields[0].split(separator: "-")
            let path = fields[5].trimmingCharacters(in: .whitespaces)
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                start < end, fields[1].count == 4, fields[1].dropFirst(2).first == "x", path.hasPrefix("/"),
                !path.hasSuffix(" (deleted)")
            else { return nil }
            return Mapping(start: start, end: end, permissions: String(fields[1]), path: path)
        }
    }

    /// Advises the kernel over this process's executable mappings as above. Returns the bytes of
    /// the mappings advised; 0 where the kernel refuses (before Linux 5.4) or /proc is unreadable.
    @discardableResult
    public static func release() -> Int {
        #if os(Linux)
            // Read to the end: String(contentsOfFile:) returns only the first read of a /proc file.
            guard let maps = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() else { return 0 }
            var advised = 0
            let mappings = executableMappings(in: String(decoding: maps, as: UTF8.self))
            for mapping in mappings {
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
            return advised
        #else
            return 0
        #endif
    }
}
