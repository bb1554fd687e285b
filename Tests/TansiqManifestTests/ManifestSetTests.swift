import Foundation
import TansiqModel
import Testing

@testable import TansiqManifest

@Suite("Manifest streams, files and sets")
struct ManifestSetTests {
    @Test("errors in two documents of one file are both reported, with lines counted from the file's start")
    func errorsInTwoDocuments() {
        let yaml = """
            # three documents; the first is fine
            \(healthMinistry)
            ---
            apiVersion: tansiq/v1
            kind: Application
            metadata: {name: registry, ministry: health}
            spec:
              replicas: -1
              resources: {cpu: 250m, memory: 256Mi}
              run: {command: [/bin/true]}
            ...
            ---
            apiVersion: tansiq/v1
            kind: CapacityRequest
            metadata: {name: more, ministry: health}
            spec:
              add: {cpu: 1}
              reason: ""
            """
        let result = check(yaml)
        #expect(
            result.errors == [
                "test.yaml:15:13: error: spec.replicas: -1 is out of range; must be between 0 and 10000",
                "test.yaml:25:11: error: spec.reason: must not be empty",
            ])
        #expect(result.objects.map(\.object.kind) == [.ministry])
        #expect(result.objects.first?.location.line == 2)
    }

    @Test("defaults of the manifest language are filled in")
    func defaults() throws {
        let result = check(healthMinistry + "\n---\n" + app("replicas: 1"))
        #expect(result.errors.isEmpty)
        guard case .application(let application) = result.objects.last?.object,
            case .ministry(let ministry) = result.objects.first?.object
        else {
            Issue.record("expected a ministry and an application")
            return
        }
        #expect(ministry.spec.weight == 1)
        #expect(ministry.spec.priorities == [.high, .standard, .batch])
        #expect(ministry.spec.cohort == nil)
        let spec = application.spec
        #expect(spec.priority == .standard)
        #expect(spec.resources == ResourceRequest(cpuMillis: 250, memoryBytes: 256 << 20, storageBytes: 0))
        #expect(spec.update == UpdateStrategy(maxSurge: 1, maxUnavailable: 0, progressDeadline: .minutes(10)))
        #expect(spec.restart == RestartPolicy(policy: .always, backoff: .seconds(1), maxBackoff: .minutes(5)))
        #expect(spec.health == nil && spec.stopAfterDisconnect == nil && spec.ports.isEmpty)
        #expect(application.metadata.ministry == "health")
    }

    @Test("a full application decodes every field")
    func fullApplication() throws {
        let file = SchemaAgreementTests.fixtures.appendingPathComponent("good-full.yaml").path
        let result = ManifestLoader.load(paths: [file])
        #expect(result.diagnostics.isEmpty)
        guard case .application(let app) = result.objects.first(where: { $0.object.kind == .application })?.object,
            case .capacityRequest(let request) = result.objects.last?.object
        else {
            Issue.record("expected an application and a capacity request")
            return
        }
        #expect(app.spec.ports == [PortSpec(name: "http", port: 0), PortSpec(name: "metrics", port: 9100)])
        #expect(app.spec.health?.probe == .http(path: "/healthz", port: "http"))
        #expect(app.spec.health?.timeout == Span(milliseconds: 500))
        #expect(app.spec.placement.tolerations.last == Toleration(key: "maintenance"))
        #expect(app.spec.placement.nodeSelector == ["disk": "ssd", "example.gov/tier": "gold"])
        #expect(app.spec.update.progressDeadline == Span.minutes(90))
        #expect(app.spec.stopAfterDisconnect == .seconds(90))
        #expect(request.spec.until.map(RFC3339.format) == "2027-06-30T00:00:00Z")
    }

    @Test("a directory is read recursively, .yaml and .yml only, sorted by path")
    func directories() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("b"), withIntermediateDirectories: true)
        try healthMinistry.write(to: dir.appendingPathComponent("b/ministry.yml"), atomically: true, encoding: .utf8)
        try app("replicas: 2").write(to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try "not yaml at all: [".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let result = ManifestLoader.load(paths: [dir.path])
        #expect(result.files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["a.yaml", "ministry.yml"])
        #expect(result.diagnostics.isEmpty)
        #expect(result.objects.count == 2)
    }

    @Test("unreadable paths are reported apart from manifest errors")
    func unreadable() throws {
        let result = ManifestLoader.load(paths: ["/no/such/place.yaml"])
        #expect(result.unreadable == ["/no/such/place.yaml: no such file or directory"])
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(ManifestLoader.load(paths: [dir.path]).unreadable.count == 1)
    }

    @Test("references resolve against the cluster's ministries, and codes stay unique across it")
    func clusterFacts() throws {
        let ministry = try #require(check(healthMinistry).objects.first)
        guard case .ministry(var existing) = ministry.object else { return }
        let application = ManifestParser.parse(app("priority: high"), file: "a.yaml").objects
        #expect(
            ManifestSetValidator.validate(application, cluster: ClusterFacts(ministries: ["health": existing])).isEmpty)
        existing.metadata.name = "other"
        let clash = ManifestSetValidator.validate([ministry], cluster: ClusterFacts(ministries: ["other": existing]))
        #expect(clash.map(\.message) == ["spec.code: \"GOV-MOH\" is already the code of ministry other in the cluster"])
    }

    @Test("comments, empty documents and document end markers are accepted")
    func streamSyntax() {
        let yaml = "# leading comment\n---\n---\n" + healthMinistry + "\n...\n---\n# only a comment\n"
        let result = check(yaml)
        #expect(result.errors.isEmpty)
        #expect(result.objects.count == 1)
        #expect(result.objects.first?.location.document == 1)  // the comment before the first --- is no document
    }
}
