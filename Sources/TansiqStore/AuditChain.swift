import Crypto
import Foundation
import TansiqModel

/// The audit log as a hash chain: every record carries the SHA-256 of the record before it and
/// of its own content, and checkpoint records sign the chain's head with the cluster CA's key.
/// A record changed, removed or inserted behind the controller's back breaks the chain at that
/// record; a chain rehashed from some record on no longer matches the next checkpoint's signature.
///
/// The hash of record `seq` is SHA-256 over `tansiq-audit-v1` followed by netstrings
/// (`LEN:BYTES,`) of `prevHash`, `seq` in decimal, `time` as RFC 3339 with milliseconds in UTC,
/// `requestID`, `subject`, `role`, `action`, `object`, `result` and `message` (`~` when there is
/// none), in hexadecimal (docs/contracts.md repeats it, so anyone can check a log).
public enum AuditChain {
    /// The `prevHash` of the first record.
    public static let genesis = String(repeating: "0", count: 64)
    /// The action of a checkpoint record.
    public static let checkpointAction = "audit.checkpoint"
    /// The subject of a checkpoint record: the controller, its only writer.
    public static let checkpointSubject = "tansiq-controller"

    /// The hash of `record` at position `seq` after a record whose hash is `prevHash`.
    public static func hash(of record: AuditRecord, seq: Int64, prevHash: String) -> String {
        var bytes = Array("tansiq-audit-v1".utf8)
        func field(_ text: String) {
            let utf8 = Array(text.utf8)
            bytes += Array("\(utf8.count):".utf8) + utf8 + [UInt8(ascii: ",")]
        }
        field(prevHash)
        field(String(seq))
        field(RFC3339.formatMilliseconds(record.time))
        for text in [record.requestID, record.subject, record.role, record.action, record.object, record.result] {
            field(text)
        }
        if let message = record.message { field(message) } else { bytes.append(UInt8(ascii: "~")) }
        return hex(SHA256.hash(data: bytes))
    }

    /// `records` (new, in order) numbered from `seq + 1` and chained after a record whose hash
    /// is `previous`.
    public static func chained(_ records: [AuditRecord], after seq: Int64, previous: String) -> [AuditRecord] {
        var seq = seq
        var previous = previous
        return records.map { record in
            var record = record
            seq += 1
            record.seq = seq
            record.prevHash = previous
            record.hash = hash(of: record, seq: seq, prevHash: previous)
            previous = record.hash!
            return record
        }
    }

    /// The last record of a log: its position and hash.
    public typealias Head = AuditVerification.Head

    /// What a checkpoint signs: the head's position and hash.
    static func checkpointPayload(_ head: Head) -> Data {
        Data("tansiq-audit-checkpoint\n\(head.seq)\n\(head.hash)".utf8)
    }

    /// A checkpoint record signing `head` with `key` (the cluster CA's), at `time`.
    public static func checkpoint(of head: Head, key: P256.Signing.PrivateKey, at time: Date) throws -> AuditRecord {
        let signature = try key.signature(for: checkpointPayload(head)).derRepresentation.base64EncodedString()
        return AuditRecord(
            time: time, requestID: "audit-checkpoint", subject: checkpointSubject, role: "-",
            action: checkpointAction, object: "Audit/\(head.seq)", result: "signed",
            message: "sha256=\(head.hash) signature=\(signature)")
    }

    /// True for a checkpoint record (the controller's, the only writer of that action).
    public static func isCheckpoint(_ record: AuditRecord) -> Bool {
        record.action == checkpointAction && record.subject == checkpointSubject
    }

    /// The head a checkpoint record signs and its signature, or nil when it is not well formed.
    static func signed(by record: AuditRecord) -> (head: Head, signature: Data)? {
        guard record.object.hasPrefix("Audit/"), let seq = Int64(record.object.dropFirst("Audit/".count)),
            let message = record.message
        else { return nil }
        let parts = message.split(separator: " ")
        guard parts.count == 2, parts[0].hasPrefix("sha256="), parts[1].hasPrefix("signature="),
            let signature = Data(base64Encoded: String(parts[1].dropFirst("signature=".count)))
        else { return nil }
        return (Head(seq: seq, hash: String(parts[0].dropFirst("sha256=".count))), signature)
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { byte in
            let s = String(byte, radix: 16)
            return byte < 16 ? "0" + s : s
        }.joined()
    }
}

/// Walks an audit log record by record (`feed`, oldest first, then `finish`) and names the
/// first record that was changed, removed or inserted. Pure: no I/O, the records come in pages.
public struct AuditChainVerifier: Sendable {
    /// What was found wrong, at which record.
    public typealias Problem = AuditVerification.Problem
    /// The verdict.
    public typealias Report = AuditVerification

    private let key: P256.Signing.PublicKey
    private let from: Int64
    private var expected: Int64
    private var previous: String?
    private var checked = 0
    private var checkpoints = 0
    private var signedThrough: Int64 = 0
    /// Checkpoint records after `signedThrough` (the one that signed it).
    private var checkpointsAfterSigned: Int64 = 0
    private var head: AuditChain.Head?
    /// Problem found so far; once set, `feed` ignores what follows.
    public private(set) var problem: Problem?
    /// Recent hashes by position, to check the heads checkpoints sign (taken moments before them).
    private var recent: [Int64: String] = [:]
    private static let recentWindow: Int64 = 65_536

    /// A verifier that starts at record `from` (1: the whole log) and checks checkpoints with
    /// `key`, the cluster CA's public key. From the first record, its `prevHash` must be the
    /// genesis; from a later one, `anchor` (the hash of the record before, when known: the last
    /// one archived), or else the first record's `prevHash` is taken as given.
    public init(key: P256.Signing.PublicKey, from: Int64 = 1, anchor: String? = nil) {
        self.key = key
        self.from = max(1, from)
        self.expected = max(1, from)
        self.previous = from <= 1 ? AuditChain.genesis : anchor
    }

    /// Checks the next record. Returns false once a problem is found (what follows is not needed).
    @discardableResult
    public mutating func feed(_ record: AuditRecord) -> Bool {
        guard problem == nil else { return false }
        guard record.seq >= expected else { return true }
        if record.seq > expected {
            let range =
                record.seq - 1 > expected ? "records \(expected) to \(record.seq - 1) are" : "record \(expected) is"
            return fail("removed", expected, "\(range) missing: record \(record.seq) follows record \(expected - 1)")
        }
        let stated = record.hash ?? ""
        let prevHash = record.prevHash ?? ""
        let linked = previous == nil || prevHash == previous
        let computed = AuditChain.hash(of: record, seq: record.seq, prevHash: prevHash)
        if computed != stated {
            if linked { return fail("changed", record.seq, "its content does not match its hash") }
            return fail(
                "inserted", record.seq,
                "it does not follow record \(record.seq - 1) and its hash does not match its content")
        }
        if !linked {
            if let before = recent[record.seq - 2], before == prevHash {
                return fail(
                    "inserted", record.seq - 1,
                    "it is not part of the chain: record \(record.seq) follows record \(record.seq - 2)")
            }
            return fail(
                "changed", record.seq - 1,
                "record \(record.seq) does not follow it: it was rewritten with a new hash")
        }
        if AuditChain.isCheckpoint(record) {
            guard let (signed, signature) = AuditChain.signed(by: record),
                let ecdsa = try? P256.Signing.ECDSASignature(derRepresentation: signature),
                key.isValidSignature(ecdsa, for: AuditChain.checkpointPayload(signed))
            else { return fail("changed", record.seq, "the checkpoint's signature does not verify") }
            if let known = recent[signed.seq] {
                if known != signed.hash {
                    let first = max(signedThrough + 1, from)
                    return fail(
                        "changed", first,
                        "a record from \(first) to \(signed.seq) was changed and the chain rehashed: "
                            + "checkpoint \(record.seq) signed another hash for record \(signed.seq)")
                }
                checkpoints += 1
                if signed.seq >= signedThrough {
                    signedThrough = signed.seq
                    checkpointsAfterSigned = 0
                }
            }
        }
        if AuditChain.isCheckpoint(record) { checkpointsAfterSigned += 1 }
        previous = stated
        head = AuditChain.Head(seq: record.seq, hash: stated)
        recent[record.seq] = stated
        recent[record.seq - Self.recentWindow] = nil
        expected = record.seq + 1
        checked += 1
        return true
    }

    /// The verdict, given the head the controller itself last wrote (`known`, nil when not known):
    /// a log that ends before it was cut short.
    public mutating func finish(known: AuditChain.Head? = nil) -> Report {
        if problem == nil, let known, known.seq >= from {
            if (head?.seq ?? from - 1) < known.seq {
                let first = (head?.seq ?? from - 1) + 1
                fail(
                    "removed", first,
                    "the log ends at record \(first - 1), the controller wrote up to record \(known.seq)")
            } else if let seen = recent[known.seq], seen != known.hash {
                fail("changed", known.seq, "its hash differs from the one the controller wrote")
            }
        }
        let last = head?.seq ?? (from - 1)
        return Report(
            ok: problem == nil, from: from, checked: checked, head: head, checkpoints: checkpoints,
            signedThrough: signedThrough,
            unsigned: max(0, last - max(signedThrough, from - 1) - checkpointsAfterSigned), problem: problem)
    }

    @discardableResult
    private mutating func fail(_ kind: String, _ seq: Int64, _ message: String) -> Bool {
        problem = Problem(kind: kind, seq: seq, message: message)
        return false
    }
}
