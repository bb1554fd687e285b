import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A file's size and modification time from one `lstat`. Not FileManager's attributes: they
/// also look up the names of the file's owner and group (through the system's name services),
/// which was most of an idle agent's CPU when it checked its instances' logs every tick.
public enum FileStatus {
    /// The size of `path` in bytes; 0 when it does not exist.
    public static func size(of path: String) -> Int64 {
        status(path).map { Int64($0.st_size) } ?? 0
    }

    /// When `path` was last modified; nil when it does not exist.
    public static func modified(_ path: String) -> Date? {
        status(path).map {
            Date(timeIntervalSince1970: Double($0.st_mtim.tv_sec) + Double($0.st_mtim.tv_nsec) / 1e9)
        }
    }

    private static func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }
}
