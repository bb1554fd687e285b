import Foundation
import TansiqRegistry
import TansiqStore
import TansiqTestSupport
import Testing
import Yams

@testable import TansiqController

@Suite("The OpenAPI document")
struct OpenAPITests {
    static let path = packageRoot.appendingPathComponent("docs/openapi.yaml").path

    /// `METHOD /path` of every operation the document describes.
    static func documented() throws -> Set<String> {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head"]
        return Set(
            paths.flatMap { path, operations in
                operations.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" }
            })
    }

    @Test("every route the server registers is documented, and every documented route is served")
    func routesMatch() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-openapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cluster = try await Cluster(store: try SQLiteStore(path: dir.appendingPathComponent("tansiq.db").path))
        let served = Set(
            ControllerServer(
                cluster: cluster, metrics: .bootstrap(), ca: Harness.ca,
                registry: try RegistryClient(access: RegistryAccess()), keyring: Harness.keyring
            ).routes.map {
                "\($0.method) \($0.path)"
            })
        let documented = try Self.documented()
        #expect(served.subtracting(documented).isEmpty, "served but not documented")
        #expect(documented.subtracting(served).isEmpty, "documented but not served")
        try await cluster.close()
    }

    @Test("the document is valid OpenAPI 3")
    func validDocument() async throws {
        let check = """
            import sys, yaml
            from openapi_spec_validator import validate
            validate(yaml.safe_load(open(sys.argv[1])))
            """
        let result = try await runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", check, Self.path])
        #expect(result.status == 0, "\(result.stderr)")
    }
}
