import Foundation
import TansiqManifest
import TansiqModel
import TansiqWire

// Fuzz targets for the decoders that read what others send: the manifest decoder, the apply
// body (a JSON array of manifests), the agent's status body, and quantity and duration parsing.
//
// Built by scripts/fuzz-decoders.sh with `--sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING`,
// it is a libFuzzer binary (libFuzzer's main calls LLVMFuzzerTestOneInput) (`TANSIQ_FUZZ_TARGET=manifest tansiq-fuzz -runs=1000000 CORPUS`).
// Built plainly, `tansiq-fuzz TARGET FILE|DIR ...` runs every input once: the kept corpus
// (Fuzz/corpus) replayed as a regression test.

/// One decoder, fed arbitrary bytes. A crash, a hang or a broken round trip is a finding.
enum FuzzTarget: String, CaseIterable {
    case manifest, apply, status, quantity, duration

    func run(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        switch self {
        case .manifest:
            let (objects, diagnostics) = ManifestParser.parse(text, file: "fuzz")
            for diagnostic in diagnostics { precondition(diagnostic.line >= 0 && diagnostic.column >= 0) }
            _ = objects.count
        case .apply:
            _ = ManifestParser.parse(text, file: "body", arrayOfDocuments: true)
        case .status:
            _ = try? WireJSON.decoder().decode(AgentProtocol.Status.self, from: data)
        case .quantity:
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let value = String(line)
                // What parses formats to a text that parses to the same amount.
                if let cpu = try? Quantity.parseCPU(value) {
                    precondition((try? Quantity.parseCPU(Quantity.formatCPU(cpu))) == cpu, "cpu \(value)")
                }
                if let bytes = try? Quantity.parseBytes(value) {
                    precondition((try? Quantity.parseBytes(Quantity.formatBytes(bytes))) == bytes, "bytes \(value)")
                }
            }
        case .duration:
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if let span = try? Span.parse(String(line)) {
                    precondition((try? Span.parse(span.description)) == span, "duration \(line)")
                }
            }
        }
    }
}

#if FUZZING
    // Built with --sanitize=fuzzer the file is a library and libFuzzer's main drives this entry.
    let selected: FuzzTarget = {
        guard let name = ProcessInfo.processInfo.environment["TANSIQ_FUZZ_TARGET"],
            let target = FuzzTarget(rawValue: name)
        else {
            FileHandle.standardError.write(
                Data(
                    "set TANSIQ_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n"
                        .utf8))
            exit(2)
        }
        return target
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
        selected.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
        return 0
    }
#else
    /// The plain build: every input of the given files and directories once.
    @main
    struct Replay {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else {
                FileHandle.standardError.write(
                    Data(
                        ("usage: tansiq-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE|DIR ...\n"
                            + "(scripts/fuzz-decoders.sh builds it as a libFuzzer binary)\n").utf8))
                exit(2)
            }
            var count = 0
            for path in arguments.dropFirst() {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    FileHandle.standardError.write(Data("tansiq-fuzz: \(path): no such file or directory\n".utf8))
                    exit(2)
                }
                let files =
                    isDirectory.boolValue
                    ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map {
                        path + "/" + $0
                    }
                    : [path]
                for file in files {
                    guard let data = FileManager.default.contents(atPath: file) else { continue }
                    target.run(data)
                    count += 1
                }
            }
            print("\(target.rawValue): \(count) inputs ran")
        }
    }
#endif
