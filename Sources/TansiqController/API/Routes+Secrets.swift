import Foundation
import Hummingbird
import TansiqAPI
import TansiqManifest
import TansiqModel

extension Routes {
    /// Secrets are written through `POST /v1/apply` and read here: names, keys, size, version and
    /// who changed them when — never a value, to any role.
    func registerSecrets(_ table: inout RouteTable) {
        table.add(.get, "/v1/ministries/{ministry}/secrets") { request, context, caller in
            let ministry = context.parameter("ministry")
            _ = try await readable(ministry, caller)
            return try await list(request, labels: { secret, _ in secret.metadata.labels }) { registry in
                registry.state.secrets.values.filter { $0.view.metadata.ministry == ministry }
                    .map(\.view).sorted { $0.metadata.name < $1.metadata.name }
            }
        }
        table.add(.get, "/v1/ministries/{ministry}/secrets/{name}") { _, context, caller in
            let ministry = context.parameter("ministry")
            let name = context.parameter("name")
            let registry = try await readable(ministry, caller)
            guard let record = registry.state.secrets["\(ministry)/\(name)"] else {
                throw APIError(.notFound, "Secret/\(ministry)/\(name) does not exist")
            }
            return try API.json(record.view)
        }
        table.add(.delete, "/v1/ministries/{ministry}/secrets/{name}") { request, context, caller in
            let ministry = context.parameter("ministry")
            let name = context.parameter("name")
            let force = try request.flag("force")
            return try await mutate(request, context, caller, action: "delete", object: "Secret/\(ministry)/\(name)") {
                registry, now, id throws(APIError) in
                try registry.planDeleteSecret(
                    ministry: ministry, name: name, force: force, caller: caller, now: now, requestID: id)
            }
        }
        // The key-encryption key is rotated by `tansiq-controller rotate-secrets-key`, which puts
        // the new key in the data directory (it never crosses the wire) and then calls this.
        table.add(.post, "/v1/secrets/rotate-key") { request, context, caller in
            try require(Access.isOperator(caller), caller, "rotate the secrets key")
            do {
                try keyring.beginRotation()
            } catch {
                throw APIError(
                    .conflict,
                    "no rotation is prepared: \(error) (run `tansiq-controller rotate-secrets-key` on the leader's host)"
                )
            }
            let keyring = self.keyring
            let now = now()
            var result = try await cluster.change(
                audit: audit(request, context, caller, action: "secrets.rotate-key", object: "Secrets")
            ) { registry throws(APIError) in
                try registry.planRewrapSecrets(caller: caller, now: now, requestID: context.requestID) { record in
                    try keyring.rewrap(record.sealed, for: record.key)
                }
            }
            do {
                try keyring.finishRotation()
            } catch {
                throw APIError(.unavailable, "the data keys were wrapped under the new key, but \(error)")
            }
            result.keyID = keyring.currentID
            return try API.json(result)
        }
    }

    /// The new values of the secrets of an apply the caller may write, sealed; a secret whose values
    /// are those stored is left out (unchanged). Values are never written anywhere in clear.
    func secretChanges(of objects: [LocatedObject], caller: Caller) async throws -> [String: SecretChange] {
        let stored = await cluster.current.state.secrets
        var changes: [String: SecretChange] = [:]
        for item in objects {
            guard case .secret(let secret) = item.object, let data = secret.spec.data,
                Access.canWrite(caller, kind: .secret, ministry: secret.metadata.ministry)
            else { continue }
            let values = data.compactMapValues(Secret.bytes)
            let before = stored[secret.key].flatMap { try? keyring.open($0.sealed, for: secret.key) }
            if before == values { continue }
            let sealed: SealedSecret
            do {
                sealed = try keyring.seal(values, for: secret.key)
            } catch {
                throw APIError(.unavailable, "Secret/\(secret.key) cannot be sealed: \(error)")
            }
            changes[secret.key] = SecretChange(
                sealed: sealed, keys: values.keys.sorted(), size: values.values.reduce(0) { $0 + $1.count },
                summary: Self.summary(from: before, to: values))
        }
        return changes
    }

    /// What changed between two sets of values, by key name only.
    static func summary(from before: [String: Data]?, to after: [String: Data]) -> String {
        let old = before ?? [:]
        let added = after.keys.filter { old[$0] == nil }.sorted()
        let changed = after.keys.filter { old[$0] != nil && old[$0] != after[$0] }.sorted()
        let removed = old.keys.filter { after[$0] == nil }.sorted()
        let parts = [("added", added), ("changed", changed), ("removed", removed)].filter { !$0.1.isEmpty }
            .map { "\($0.0) \($0.1.joined(separator: ", "))" }
        if before == nil && after.isEmpty { return "created with no keys" }
        return parts.isEmpty ? "values replaced" : parts.joined(separator: "; ")
    }

    /// `answer` with the values of the secrets its instances use, opened for this node only.
    func deliverSecrets(_ answer: AgentProtocol.Assignments, registry: Registry) throws -> AgentProtocol.Assignments {
        var answer = answer
        for index in answer.instances.indices {
            let assignment = answer.instances[index]
            guard let app = registry.state.applications["\(assignment.ministry)/\(assignment.application)"],
                !app.spec.secretNames.isEmpty
            else { continue }
            var delivered: [AgentProtocol.AssignedSecret] = []
            for name in app.spec.secretNames.sorted() {
                let key = "\(assignment.ministry)/\(name)"
                // A secret deleted with force: the instance no longer receives it.
                guard let record = registry.state.secrets[key] else { continue }
                let values: [String: Data]
                do {
                    values = try keyring.open(record.sealed, for: key)
                } catch {
                    throw APIError(.unavailable, "\(error)")
                }
                delivered.append(
                    AgentProtocol.AssignedSecret(
                        name: name, version: record.view.version,
                        mount: app.spec.secrets?.first { $0.name == name }?.mount,
                        data: values.mapValues { $0.base64EncodedString() }))
            }
            answer.instances[index].secrets = delivered
        }
        return answer
    }
}
