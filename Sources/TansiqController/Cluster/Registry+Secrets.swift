import Foundation
import TansiqAPI
import TansiqModel
import TansiqStore

extension Registry {
    /// The applications of `ministry` that use its secret `name`, by name.
    func applications(using name: String, of ministry: String) -> [String] {
        state.applications.values.filter { $0.metadata.ministry == ministry && $0.spec.secretNames.contains(name) }
            .map(\.metadata.name).sorted()
    }

    /// Deletes a secret; one that applications use is refused (409) unless `force`.
    public func planDeleteSecret(
        ministry: String, name: String, force: Bool, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ChangeResult> {
        let object = "Secret/\(ministry)/\(name)"
        guard Access.canWrite(caller, kind: .secret, ministry: ministry) else {
            throw APIError(.forbidden, Access.refusal(caller, "delete \(object)"))
        }
        guard state.secrets["\(ministry)/\(name)"] != nil else { throw APIError(.notFound, "\(object) does not exist") }
        let users = applications(using: name, of: ministry)
        if !users.isEmpty && !force {
            throw APIError(
                .conflict,
                "\(object) is used by application(s) \(users.joined(separator: ", ")); delete it with force=true "
                    + "to stop them from receiving it")
        }
        return single(
            [.deleteSecret(ministry: ministry, name: name)], object: object, action: "delete", result: "deleted",
            caller: caller, now: now, requestID: requestID)
    }

    /// Every secret's data key wrapped again by `rewrap` (a rotation of the key-encryption key);
    /// the values and versions stay as they are.
    public func planRewrapSecrets(
        caller: Caller, now: Date, requestID: String, _ rewrap: (SecretRecord) throws -> SealedSecret
    ) throws(APIError) -> Outcome<RotationResult> {
        guard Access.isOperator(caller) else {
            throw APIError(.forbidden, Access.refusal(caller, "rotate the secrets key"))
        }
        var mutations: [Mutation] = []
        for record in state.secrets.values.sorted(by: { $0.key < $1.key }) {
            let sealed: SealedSecret
            do { sealed = try rewrap(record) } catch {
                throw APIError(.unavailable, "\(error)")
            }
            if sealed != record.sealed { mutations.append(.putSecret(SecretRecord(view: record.view, sealed: sealed))) }
        }
        let audit = AuditRecord(
            time: now, requestID: requestID, subject: caller.subject, role: caller.role.rawValue,
            action: "secrets.rotate-key", object: "Secrets", result: "rewrapped",
            message: "\(mutations.count) data key(s) wrapped under the new key")
        return Outcome(
            changeset: Changeset(basedOn: state.resourceVersion, mutations: mutations, audit: [audit]),
            value: RotationResult(rewrapped: mutations.count, secrets: state.secrets.count, keyID: ""))
    }
}
