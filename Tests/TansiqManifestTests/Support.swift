import Foundation
import TansiqManifest
import TansiqModel

/// The package's root, found from this file's path, so tests read `manifests/` and `schema/`.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A valid ministry document, for tests that need one beside the document under test.
let healthMinistry = """
    apiVersion: tansiq/v1
    kind: Ministry
    metadata:
      name: health
    spec:
      code: GOV-MOH
      displayName: {en: Ministry of Health, ar: وزارة الصحة}
      quota: {cpu: 4, memory: 8Gi, storage: 100Gi, instances: 20}
    """

/// Parses a stream and runs the checks across documents, as `tansiq validate` does.
func check(_ yaml: String, file: String = "test.yaml") -> (objects: [LocatedObject], errors: [String]) {
    let parsed = ManifestParser.parse(yaml, file: file)
    let setErrors = ManifestSetValidator.validate(parsed.objects, cluster: ClusterFacts())
    return (parsed.objects, (parsed.diagnostics + setErrors).map(\.description))
}

/// A temporary directory removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
