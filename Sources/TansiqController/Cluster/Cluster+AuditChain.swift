import Crypto
import Foundation
import TansiqModel
import TansiqStore

extension Cluster {
    /// Most audit records `archiveAudit` moves in one call (one archive file).
    public static let auditArchiveBatch = 20_000

    /// Signs the audit chain's head into a checkpoint record with `key` (the cluster CA's), unless
    /// the head is already a checkpoint: nothing happened since the last one. Returns the head it
    /// signed, or nil when there was nothing to sign.
    @discardableResult
    public func checkpointAudit(key: P256.Signing.PrivateKey, at time: Date) async throws -> AuditChain.Head? {
        guard let head = await store.auditHead() else { return nil }
        // The archive ends with a checkpoint: a head archived is one.
        if try await store.auditArchived() == head { return nil }
        let last = try await store.audit(after: head.seq - 1, limit: 1).first
        if let last, last.seq == head.seq, AuditChain.isCheckpoint(last) { return nil }
        try await record([try AuditChain.checkpoint(of: head, key: key, at: time)])
        return head
    }

    /// Walks the audit log from record `from` — through the archive (`auditArchive`) for the
    /// records it holds, then the store — and checks its chain and its checkpoints' signatures
    /// against `key` (the cluster CA's), up to the last record this controller wrote.
    public func verifyAudit(from: Int64, key: P256.Signing.PublicKey) async throws -> AuditChainVerifier.Report {
        let archived = try await store.auditArchived()
        // Right after the archive, the first record kept must follow the last archived one.
        var verifier = AuditChainVerifier(
            key: key, from: from, anchor: archived.flatMap { $0.seq + 1 == from ? $0.hash : nil })
        var unreadable: String?
        if let archived, from <= archived.seq, let auditArchive {
            do { try AuditArchive.read(in: auditArchive, from: from) { verifier.feed($0) } } catch {
                unreadable = "\(error)"
            }
        }
        if let unreadable {
            // A line that is not a record: the record after the last one read was changed.
            var report = verifier.finish()
            if report.problem == nil {
                report.ok = false
                report.problem = AuditVerification.Problem(
                    kind: "changed", seq: (report.head?.seq ?? from - 1) + 1,
                    message: "the archive cannot be read: \(unreadable)")
            }
            return report
        }
        var after = max(from - 1, archived?.seq ?? 0)
        while verifier.problem == nil {
            let page = try await store.audit(after: after, limit: 2000)
            for record in page where !verifier.feed(record) { break }
            guard let last = page.last, page.count == 2000 else { break }
            after = last.seq
        }
        var report = verifier.finish(known: await store.auditHead())
        if var problem = report.problem, problem.kind == "removed", let archived, problem.seq <= archived.seq {
            problem.message +=
                " (records up to \(archived.seq) were archived: the archive in \(auditArchive ?? "-") lacks them)"
            report.problem = problem
        }
        return report
    }

    /// Moves the audit records older than `before` out of the store into the archive, up to the
    /// last checkpoint among them (what is archived ends with a signed head), at most `limit`
    /// records a call. Returns how many it moved (0: none is due, or no archive is set).
    @discardableResult
    public func archiveAudit(before: Date, limit: Int = Cluster.auditArchiveBatch) async throws -> Int {
        guard let auditArchive else { return 0 }
        var after = try await store.auditArchived()?.seq ?? 0
        var due: [AuditRecord] = []
        var through: Int64?
        scan: while due.count < limit {
            let want = min(2000, limit - due.count)
            let page = try await store.audit(after: after, limit: want)
            for record in page {
                guard record.time < before else { break scan }
                due.append(record)
                if AuditChain.isCheckpoint(record) { through = record.seq }
            }
            guard let last = page.last, page.count == want else { break }
            after = last.seq
        }
        guard let through else { return 0 }
        let records = due.prefix { $0.seq <= through }
        try AuditArchive.write(Array(records), into: auditArchive)
        try await store.removeAudit(through: through)
        return records.count
    }
}
