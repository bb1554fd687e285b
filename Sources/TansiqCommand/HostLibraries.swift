import Foundation

/// What a binary of this build needs from the host when an isolated instance runs it through
/// the host runtime: the directories of the shared libraries it loads that are not the system's
/// (the Swift runtime's, for a binary of this package). `tansiq dev up` and the end-to-end tests
/// allow these, with the build directory, as `tansiq-agent join --host-path`.
public enum HostLibraries {
    /// Directories `ldd` finds `binary`'s libraries in, outside `/usr`, `/lib` and `/lib64`.
    public static func directories(of binary: String) -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        process.arguments = [binary]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return [] }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var directories: [String] = []
        for line in output.split(separator: "\n") {
            guard let arrow = line.range(of: "=> /") else { continue }
            let path = line[line.index(before: arrow.upperBound)...].split(separator: " ").first.map(String.init) ?? ""
            let directory = (path as NSString).deletingLastPathComponent
            let system = ["/usr/", "/lib/", "/lib64/"].contains { directory.hasPrefix($0) || directory + "/" == $0 }
            if !system, !directory.isEmpty, !directories.contains(directory) { directories.append(directory) }
        }
        return directories
    }
}
