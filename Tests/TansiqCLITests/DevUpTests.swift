import Foundation
import TansiqTestSupport
import Testing

/// `tansiq dev up` as a person runs it: the real binaries, the example manifests.
@Suite("tansiq dev up", .serialized)
struct DevUpTests {
    @Test(
        "dev up, run by its name from PATH elsewhere, runs the example manifests, the CLI reads them, and Ctrl-C leaves no process behind"
    )
    func upAndDown() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-devup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataDir = dir.appendingPathComponent("data").path
        let output = dir.appendingPathComponent("out.txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let port = 20000 + Int(getpid() % 20000)
        var environment = ProcessInfo.processInfo.environment
        environment["TANSIQ_CONFIG"] = dir.appendingPathComponent("config.yaml").path
        // As someone who installed the binaries runs it: by name, found on PATH, from another directory.
        environment["PATH"] = productsDirectory.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "tansiq", "dev", "up", "-f", packageRoot.appendingPathComponent("manifests").path, "--data-dir", dataDir,
            "--port",
            String(port),
        ]
        process.environment = environment
        process.currentDirectoryURL = dir
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(120)
        while !text.contains("Ctrl-C stops the cluster") && process.isRunning && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        }
        #expect(text.contains("Ctrl-C stops the cluster"), "\(text)")
        #expect(text.contains("finance/e-payment 3/3"), "the example services run")
        // The CLI reads the cluster through the context dev up wrote.
        let get = try await runProcess(
            productsDirectory.appendingPathComponent("tansiq"), ["get", "nodes"], environment: environment)
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout.split(separator: "\n").count == 4, "a header and three nodes: \(get.stdout)")
        #expect(get.stdout.contains("dev-agent-2") && get.stdout.contains("Ready"))
        kill(process.processIdentifier, SIGINT)
        let stopBy = Date().addingTimeInterval(60)
        while process.isRunning && Date() < stopBy { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        // Processes whose command line names the data dir: the controller and the agents.
        let left = (try FileManager.default.contentsOfDirectory(atPath: "/proc")).filter { entry in
            guard Int32(entry) != nil,
                let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(dataDir)
        }
        #expect(left.isEmpty, "controller or agents left behind: pids \(left)")
        // The instances the agents started, by the pids their state files recorded.
        struct Saved: Decodable {
            struct Process: Decodable { var pid: Int32 }
            var process: Process?
        }
        for index in 0..<3 {
            let state = dataDir + "/agent-\(index)/state.json"
            let saved = FileManager.default.contents(atPath: state).flatMap {
                try? JSONDecoder().decode([String: Saved].self, from: $0)
            }
            for (id, instance) in saved ?? [:] {
                guard let pid = instance.process?.pid, pid > 0 else { continue }
                #expect(!HostFacts.isRunning(pid), "instance \(id) (pid \(pid)) left running")
            }
        }
        // No container is left in any agent's runc root, recorded in its state file or not.
        if let runc = HostFacts.runc {
            for index in 0..<3 {
                let listed = try await runProcess(
                    URL(fileURLWithPath: runc), ["--root", dataDir + "/agent-\(index)/runc", "list", "-q"])
                #expect(
                    listed.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                    "containers left in agent-\(index)'s runc root: \(listed.stdout)")
            }
        }
        #expect((try String(contentsOf: output, encoding: .utf8)).contains("stopped; the cluster's data is in"))
    }
}
