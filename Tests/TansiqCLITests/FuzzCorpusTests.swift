import Foundation
import TansiqTestSupport
import Testing

/// The libFuzzer corpus kept in Fuzz/corpus, replayed through every decoder by the plainly built
/// `tansiq-fuzz` (scripts/fuzz-decoders.sh runs it as a fuzzer): what once was found stays fixed.
@Suite("Fuzz corpus replayed")
struct FuzzCorpusTests {
    @Test(
        "every kept input of every decoder runs without a crash or a broken round trip",
        arguments: ["manifest", "apply", "status", "quantity", "duration"])
    func replay(target: String) async throws {
        let corpus = packageRoot.appendingPathComponent("Fuzz/corpus/\(target)").path
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus)
        #expect(!files.isEmpty, "a corpus to start from")
        let run = try await runProcess(productsDirectory.appendingPathComponent("tansiq-fuzz"), [target, corpus])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "\(target): \(files.count) inputs ran\n")
    }

    @Test("an unknown target is a usage error")
    func unknown() async throws {
        let run = try await runProcess(productsDirectory.appendingPathComponent("tansiq-fuzz"), ["yaml", "/tmp"])
        #expect(run.status == 2 && run.stderr.hasPrefix("usage: tansiq-fuzz "))
    }
}
