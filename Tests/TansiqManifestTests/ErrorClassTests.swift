import Testing

@testable import TansiqManifest

/// One case per class of error, each asserting the exact line, column and message.
@Suite("Manifest errors point at the offending node")
struct ErrorClassTests {
    static let cases: [(name: String, yaml: String, expected: String)] = [
        (
            "an unknown field is named with what is allowed",
            healthMinistry + "\n  colour: blue\n",
            "test.yaml:9:3: error: spec.colour: unknown field; allowed: code, displayName, quota, cohort, "
                + "borrowingLimit, lendingLimit, weight, priorities"
        ),
        (
            "a missing required field points at its mapping",
            """
            apiVersion: tansiq/v1
            kind: Ministry
            metadata:
              name: health
            spec:
              displayName: {en: Ministry of Health, ar: وزارة الصحة}
              quota: {cpu: 4, memory: 8Gi, storage: 100Gi, instances: 20}
            """,
            "test.yaml:6:3: error: spec.code: required field is missing"
        ),
        (
            "a wrong type says what was expected and what was found",
            healthMinistry.replacingOccurrences(of: "instances: 20", with: "instances: many"),
            "test.yaml:8:59: error: spec.quota.instances: expected an integer, got the string \"many\""
        ),
        (
            "a bad name says what a name may hold",
            healthMinistry.replacingOccurrences(of: "name: health", with: "name: Health_Ministry"),
            "test.yaml:4:9: error: metadata.name: \"Health_Ministry\" is not a valid name; use 1-63 lower-case "
                + "letters, digits and '-', starting and ending with a letter or digit"
        ),
        (
            "a bad quantity says why",
            healthMinistry.replacingOccurrences(of: "memory: 8Gi", with: "memory: 8GB"),
            "test.yaml:8:27: error: spec.quota.memory: \"8GB\" has unknown suffix \"GB\" (allowed: Ki, Mi, Gi, Ti, "
                + "Pi, Ei, k, M, G, T, P, E)"
        ),
        (
            "a bad government code shows the form",
            healthMinistry.replacingOccurrences(of: "GOV-MOH", with: "moh"),
            "test.yaml:6:9: error: spec.code: \"moh\" is not a government code; expected the form "
                + "^[A-Z]{2,8}(-[A-Z0-9]{2,12})+$, e.g. GOV-MOH"
        ),
        (
            "a weight finer than a thousandth is refused: shares are compared exactly",
            healthMinistry + "\n  weight: 0.0005\n",
            "test.yaml:9:11: error: spec.weight: 0.0005 must be at most 1000 with at most three decimals, e.g. 2.5"
        ),
        (
            "an unknown kind lists the kinds",
            "apiVersion: tansiq/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {}\n",
            "test.yaml:2:7: error: kind: \"Deployment\" is not one of Ministry, Application, CapacityRequest, Secret"
        ),
        (
            "an unknown apiVersion names the supported one",
            healthMinistry.replacingOccurrences(of: "tansiq/v1", with: "apps/v1"),
            "test.yaml:1:13: error: apiVersion: \"apps/v1\" is not supported; use tansiq/v1"
        ),
        (
            "a bad priority lists the priorities",
            healthMinistry + "\n---\n" + app("priority: urgent"),
            "test.yaml:16:13: error: spec.priority: \"urgent\" is not one of critical, high, standard, batch"
        ),
        (
            "a bad restart policy lists the policies",
            healthMinistry + "\n---\n" + app("restart: {policy: sometimes}"),
            "test.yaml:16:21: error: spec.restart.policy: \"sometimes\" is not one of always, on-failure, never"
        ),
        (
            "a bad taint effect lists the effects",
            healthMinistry + "\n---\n" + app("placement: {tolerations: [{key: gpu, effect: Evict}]}"),
            "test.yaml:16:48: error: spec.placement.tolerations[0].effect: \"Evict\" is not one of NoSchedule, NoExecute"
        ),
        (
            "a quota must name all four resources",
            healthMinistry.replacingOccurrences(of: ", storage: 100Gi, instances: 20", with: ""),
            "test.yaml:8:10: error: spec.quota: must name all four resources (cpu, memory, storage, instances); "
                + "missing storage, instances"
        ),
        (
            "an object declared twice points at the second and names the first",
            healthMinistry + "\n---\n" + healthMinistry.replacingOccurrences(of: "GOV-MOH", with: "GOV-MOHX"),
            "test.yaml:13:9: error: Ministry/health is declared twice; first at test.yaml:4:9"
        ),
        (
            "an application of an unknown ministry names it",
            app("priority: high").replacingOccurrences(of: "ministry: health", with: "ministry: defence"),
            "test.yaml:5:13: error: metadata.ministry: ministry \"defence\" is not declared in these manifests"
        ),
        (
            "a priority the ministry may not use names what it may use",
            healthMinistry + "\n---\n" + app("priority: critical"),
            "test.yaml:16:13: error: spec.priority: ministry health may not use priority \"critical\"; it may use "
                + "high, standard, batch"
        ),
        (
            "a duplicated key points at its second occurrence",
            healthMinistry + "\n  code: GOV-MOX\n",
            "test.yaml:9:3: error: YAML: duplicate key \"code\" in a mapping"
        ),
        (
            "a YAML syntax error gives libyaml's position",
            "apiVersion: tansiq/v1\nkind: [Ministry\n",
            "test.yaml:3:1: error: YAML: while parsing a flow sequence: did not find expected ',' or ']'"
        ),
        (
            "a health check naming an undeclared port lists the declared ones",
            healthMinistry + "\n---\n" + app("ports: [{name: http}]\n  health: {tcp: {port: web}}"),
            "test.yaml:17:24: error: spec.health.tcp.port: \"web\" is not a port of spec.ports (http)"
        ),
        (
            "an image without a registry says how to write one",
            healthMinistry + "\n---\n" + app("image: finance/e-payment:1.4"),
            "test.yaml:16:10: error: spec.image: \"finance/e-payment:1.4\": \"finance\" is not a registry host; write "
                + "HOST[:PORT]/PATH[:TAG] (a host has a dot or a port, or is localhost)"
        ),
        (
            "an exposed port must be one of spec.ports",
            healthMinistry + "\n---\n"
                + app("ports: [{name: http}]\n  expose: [{port: https, host: portal.gov.example}]"),
            "test.yaml:17:19: error: spec.expose[0].port: \"https\" is not a port of spec.ports (http)"
        ),
        (
            "an exposed host must be a DNS name",
            healthMinistry + "\n---\n" + app("ports: [{name: http}]\n  expose: [{port: http, host: Portal_Gov}]"),
            "test.yaml:17:31: error: spec.expose[0].host: \"Portal_Gov\" is not a DNS name (lower-case labels separated by dots)"
        ),
        (
            "a host and path is exposed once",
            healthMinistry + "\n---\n"
                + app(
                    "ports: [{name: http}]\n  expose: [{port: http, host: p.gov.example}, {port: http, host: p.gov.example}]"
                ),
            "test.yaml:17:47: error: spec.expose[1]: p.gov.example/ is exposed twice"
        ),
        (
            "two applications of a set may not publish the same host and path",
            healthMinistry + "\n---\n" + app("ports: [{name: http}]\n  expose: [{port: http, host: p.gov.example}]")
                + "\n---\n"
                + app("ports: [{name: http}]\n  expose: [{port: http, host: p.gov.example}]").replacingOccurrences(
                    of: "name: registry", with: "name: registry2"),
            "test.yaml:28:11: error: spec.expose: p.gov.example/ is exposed by Application/health/registry too"
        ),
        (
            "a consumer is another ministry",
            healthMinistry + "\n---\n" + app("consumers: [health]"),
            "test.yaml:16:14: error: spec.consumers: health is the application's own ministry"
        ),
        (
            "a drain timeout is a duration",
            healthMinistry + "\n---\n" + app("update: {drainTimeout: soon}"),
            "test.yaml:16:26: error: spec.update.drainTimeout: \"soon\" is not a duration (e.g. 500ms, 5s, 2m, 1h)"
        ),
        (
            "a document that is not a mapping says so",
            "- just\n- a list\n",
            "test.yaml:1:1: error: document: expected a mapping, got a list"
        ),
    ]

    @Test("each error class is reported once, at its node", arguments: cases)
    func reportsAtNode(name: String, yaml: String, expected: String) {
        let result = check(yaml)
        #expect(result.errors == [expected], "\(name)")
    }
}

/// An application of ministry `health` with one extra line in its spec (line 16 of the stream
/// when it follows `healthMinistry`).
func app(_ extra: String) -> String {
    """
    apiVersion: tansiq/v1
    kind: Application
    metadata:
      name: registry
      ministry: health
    spec:
      \(extra)
      resources: {cpu: 250m, memory: 256Mi}
      run: {command: ["/bin/sleep", "infinity"]}
    """
}
