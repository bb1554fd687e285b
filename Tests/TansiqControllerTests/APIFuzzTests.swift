import Foundation
import TansiqTestSupport
import Testing

/// API fuzzing from docs/openapi.yaml with schemathesis against the real controller, once per
/// role (scripts/fuzz-api.sh): every answer matches the document for its status, none is a 5xx,
/// and no ministry role's answer carries another ministry's names or ids.
@Suite("API fuzzing with schemathesis")
struct APIFuzzTests {
    @Test(
        "a bounded schemathesis pass per role finds no 5xx, no answer outside the document, no other ministry's data",
        .enabled(if: HostFacts.schemathesis != nil, "schemathesis is needed (pip install schemathesis)"))
    func fuzz() async throws {
        try await LiveController.with { live in
            let manifests = packageRoot.appendingPathComponent("manifests").path
            let files =
                ["ministries.yaml"]
                + (try FileManager.default.contentsOfDirectory(atPath: manifests)).filter {
                    $0.hasSuffix(".yaml") && $0 != "ministries.yaml"
                }.sorted()
            for file in files {
                let body = try String(contentsOfFile: manifests + "/" + file, encoding: .utf8)
                let reply = try await live.call(
                    .POST, "/v1/apply", token: live.operatorToken, body: body, contentType: "application/yaml")
                #expect(reply.status == 200, "\(file): \(reply.body)")
            }
            let run = try await runProcess(
                packageRoot.appendingPathComponent("scripts/fuzz-api.sh"),
                [
                    "--server", live.baseURL, "--ca", live.dataDir + "/ca.crt", "--operator-token",
                    live.dataDir + "/operator.token", "--max-examples", "10", "--seed", "1",
                ], timeout: 900)
            #expect(run.status == 0, "\(run.stdout.suffix(6000))\n\(run.stderr.suffix(2000))")
            #expect(run.stdout.components(separatedBy: "== schemathesis as ").count == 5, "four roles ran")
        }
    }
}
