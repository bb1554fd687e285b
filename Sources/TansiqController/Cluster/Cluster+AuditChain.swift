import Crypto
import Foundation
import TansiqModel
import TansiqStore

extension Cluster {
    /// Signs the audit chain's head into a checkpoint record with `key` (the cluster CA's), unless
    /// the head is already a checkpoint: nothing happened since the last one. Returns the head it
    /// signed, or nil when there was nothing to sign.
    @discardableResult
    public func checkpointAudit(key: P256.Signing.PrivateKey, at time: Date) async throws -> AuditChain.Head? {
        guard let head = await store.auditHead() else { return nil }
        let last = try await store.audit(after: head.seq - 1, limit: 1).first
        if let last, last.seq == head.seq, AuditChain.isCheckpoint(last) { return nil }
        try await record([try AuditChain.checkpoint(of: head, key: key, at: time)])
        return head
    }

    /// Walks the audit log from record `from` and checks its chain and its checkpoints' signatures
    /// against `key` (the cluster CA's), up to the last record this controller wrote.
    public func verifyAudit(from: Int64, key: P256.Signing.PublicKey) async throws -> AuditChainVerifier.Report {
        var verifier = AuditChainVerifier(key: key, from: from)
        var after = max(0, from - 1)
        while true {
            let page = try await store.audit(after: after, limit: 2000)
            for record in page where !verifier.feed(record) { break }
            guard verifier.problem == nil, let last = page.last, page.count == 2000 else { break }
            after = last.seq
        }
        return verifier.finish(known: await store.auditHead())
    }
}
