import Foundation

/// The package's root, found from this file's path.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// What a run of a binary printed and how it ended.
public struct RunResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// The directory of the built products: the test bundle (or the benchmark) sits beside the binaries.
public let productsDirectory: URL = {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    func holdsProducts(_ url: URL) -> Bool {
        ["tansiq", "tansiq-controller"].contains {
            FileManager.default.isExecutableFile(atPath: url.appendingPathComponent($0).path)
        }
    }
    url.deleteLastPathComponent()
    while url.path != "/" && !holdsProducts(url) { url.deleteLastPathComponent() }
    return url
}()

/// The whole text of a file of /proc (or /sys): these report a size of 0, and
/// `String(contentsOfFile:)` returns only what the first read gave (one page of /proc/PID/smaps).
public func procText(_ path: String) -> String {
    String(decoding: FileHandle(forReadingAtPath: path)?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
}

/// One mapping of a process's address space, as /proc/PID/smaps lists it, with its resident bytes.
public struct ResidentMapping: Sendable {
    /// `r-xp` and the like.
    public var permissions: String
    /// The file mapped (`[heap]`, `[stack]` and the like as written), nil for anonymous memory.
    public var path: String?
    public var residentBytes: Int

    /// Executable and backed by a file: code.
    public var isFileCode: Bool { permissions.dropFirst(2).first == "x" && path?.hasPrefix("/") == true }
}

/// The mappings of process `pid` (`self` for this one) with their resident bytes.
public func residentMappings(_ pid: String) -> [ResidentMapping] {
    var mappings: [ResidentMapping] = []
    for line in procText("/proc/\(pid)/smaps").split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if let first = fields.first, first.contains("-"), !first.hasSuffix(":"), fields.count >= 5 {
            let path = fields.count >= 6 ? fields[5...].joined(separator: " ") : nil
            mappings.append(ResidentMapping(permissions: String(fields[1]), path: path, residentBytes: 0))
        } else if fields.first == "Rss:", fields.count >= 2, let kB = Int(fields[1]), !mappings.isEmpty {
            mappings[mappings.count - 1].residentBytes += kB * 1024
        }
    }
    return mappings
}

/// The kB figures of /proc/PID/status of process `pid` (`self` for this one), in bytes: VmRSS and
/// its parts RssAnon (the process's own memory), RssFile (pages of its binary and libraries) and
/// RssShmem, VmHWM and the like.
public func processMemory(_ pid: String) -> [String: Int] {
    var figures: [String: Int] = [:]
    for line in procText("/proc/\(pid)/status").split(separator: "\n") where line.hasSuffix(" kB") {
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let kB = Int(parts[1].dropLast(3).trimmingCharacters(in: .whitespaces)) else {
            continue
        }
        figures[String(parts[0])] = kB * 1024
    }
    return figures
}

/// Runs a built product with arguments, from the package root, and waits (bounded) for it.
public func run(_ product: String, _ arguments: [String], timeout: TimeInterval = 30) async throws -> RunResult {
    try await runProcess(productsDirectory.appendingPathComponent(product), arguments, timeout: timeout)
}

/// Runs any executable with arguments, from the package root, and waits (bounded) for it —
/// without holding a thread of the concurrency pool, which the other tests' tasks (simulated
/// nodes reporting on time) need.
public func runProcess(
    _ executable: URL, _ arguments: [String], timeout: TimeInterval = 30, stdin: String? = nil,
    environment: [String: String]? = nil
) async throws -> RunResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let stdin {
        let input = Pipe()
        process.standardInput = input
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
    }
    process.currentDirectoryURL = packageRoot
    var variables = environment ?? ProcessInfo.processInfo.environment
    variables["NO_COLOR"] = "1"
    variables["COLUMNS"] = "100"
    process.environment = variables
    // Files, not pipes: a child that fills a pipe no one reads would block.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let outURL = dir.appendingPathComponent("stdout")
    let errURL = dir.appendingPathComponent("stderr")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    let ended = AsyncStream<Void>.makeStream()
    process.terminationHandler = { _ in ended.continuation.finish() }
    try process.run()
    let killer = Task {
        try await Task.sleep(for: .seconds(timeout))
        process.terminate()
    }
    for await _ in ended.stream {}
    killer.cancel()
    try out.close()
    try err.close()
    return RunResult(
        status: process.terminationStatus, stdout: try String(contentsOf: outURL, encoding: .utf8),
        stderr: try String(contentsOf: errURL, encoding: .utf8))
}

/// Waits until `condition` holds, checking every `every` (100 ms), at most `timeout`; its last answer.
public func eventually(
    _ timeout: Duration, every: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: every)
    }
    return try await condition()
}
