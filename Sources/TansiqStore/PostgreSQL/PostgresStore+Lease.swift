import Foundation
import Logging
import PostgresNIO

/// The lease a leader holds: whose it is and from which epoch. Every commit of a fenced store
/// checks, in its own transaction, that the lease row still says so.
public struct Fence: Sendable, Hashable {
    /// The controller holding the lease (unique per process start).
    public var holder: String
    /// The leadership term: incremented by every takeover.
    public var epoch: Int64

    public init(holder: String, epoch: Int64) {
        self.holder = holder
        self.epoch = epoch
    }
}

/// The lease row as it stands.
public struct LeaseView: Sendable, Hashable {
    /// The holder ("" before anyone held it).
    public var holder: String
    /// The holder's advertised URL.
    public var url: String
    /// The current term.
    public var epoch: Int64
    /// Milliseconds until it expires by the database's clock (0 or less: expired).
    public var remainingMilliseconds: Int64

    /// True while it has not expired.
    public var isHeld: Bool { remainingMilliseconds > 0 && !holder.isEmpty }

    public init(holder: String, url: String, epoch: Int64, remainingMilliseconds: Int64) {
        self.holder = holder
        self.url = url
        self.epoch = epoch
        self.remainingMilliseconds = remainingMilliseconds
    }
}

extension PostgresStore {
    /// Takes the lease if it has expired (by the database's clock), incrementing the epoch, for
    /// `ttl`; returns the new fence, or nil when another controller holds it.
    public func acquire(holder: String, url: String, ttl: Duration) async throws -> Fence? {
        let milliseconds = Self.milliseconds(ttl)
        return try await guarded("take the lease", timeout: ttl / 3) { [client, logger] in
            let rows = try await client.query(
                """
                UPDATE lease SET holder = \(holder), url = \(url), epoch = epoch + 1,
                    expires_at = now() + \(milliseconds)::bigint * interval '1 millisecond'
                WHERE name = 'leader' AND expires_at <= now() RETURNING epoch
                """, logger: logger)
            for try await epoch in rows.decode(Int64.self) { return Fence(holder: holder, epoch: epoch) }
            return nil
        }
    }

    /// Extends the lease by `ttl` from now; false when it is no longer `fence`'s (taken by
    /// another, or expired).
    public func renew(_ fence: Fence, ttl: Duration) async throws -> Bool {
        let milliseconds = Self.milliseconds(ttl)
        return try await guarded("renew the lease", timeout: ttl / 3) { [client, logger] in
            let rows = try await client.query(
                """
                UPDATE lease SET expires_at = now() + \(milliseconds)::bigint * interval '1 millisecond'
                WHERE name = 'leader' AND holder = \(fence.holder) AND epoch = \(fence.epoch) AND expires_at > now()
                RETURNING epoch
                """, logger: logger)
            for try await _ in rows.decode(Int64.self) { return true }
            return false
        }
    }

    /// Ends `fence`'s lease now, so that another controller takes it without waiting for it to
    /// expire (a clean shutdown).
    public func release(_ fence: Fence) async throws {
        try await guarded("release the lease") { [client, logger] in
            try await client.query(
                """
                UPDATE lease SET expires_at = now() - interval '1 millisecond'
                WHERE name = 'leader' AND holder = \(fence.holder) AND epoch = \(fence.epoch)
                """, logger: logger)
        }
    }

    /// The lease row now.
    public func lease() async throws -> LeaseView {
        try await guarded("read the lease") { [client, logger] in
            let rows = try await client.query(
                """
                SELECT holder, url, epoch,
                    GREATEST(-1, LEAST(86400000, floor(extract(epoch FROM (expires_at - now())) * 1000)))::bigint
                FROM lease WHERE name = 'leader'
                """, logger: logger)
            for try await (holder, url, epoch, remaining) in rows.decode((String, String, Int64, Int64).self) {
                return LeaseView(holder: holder, url: url, epoch: epoch, remainingMilliseconds: remaining)
            }
            throw StoreError.io("the lease row is missing")
        }
    }

    /// The fence every commit must carry from now on (nil: none; a store that requires one then
    /// commits nothing).
    public func hold(_ fence: Fence?) {
        self.fence.withLock { $0 = fence }
    }

    /// The refusal of a commit under a lease that is no longer `fence`'s.
    static func lost(_ fence: Fence) -> StoreError {
        StoreError.fenced("the lease of epoch \(fence.epoch) is no longer this controller's")
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
