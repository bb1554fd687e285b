import Foundation
import Logging
import PostgresNIO
import TansiqModel

/// `meta`: the store's counters.
enum PostgresMeta {
    static func all(on connection: PostgresConnection, logger: Logger) async throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for try await (key, value) in try await connection.query("SELECT key, value FROM meta", logger: logger)
            .decode((String, Int64).self)
        {
            result[key] = value
        }
        return result
    }

    /// What a commit reads first, in one round trip: whether the lease still names `fence` (nil:
    /// no fence to check), the counters with their rows locked until the transaction ends
    /// (commits queue behind each other), and the audit log's last position. The lease row is
    /// locked `FOR SHARE`, so a takeover waits for this commit and follows it.
    struct Prelude {
        var fenced: Bool
        var counters: [String: Int64]
        var lastAudit: Int64
    }

    static func prelude(_ fence: Fence?, on connection: PostgresConnection, logger: Logger) async throws -> Prelude {
        let holder = fence?.holder ?? ""
        let epoch = fence?.epoch ?? 0
        let check = fence != nil
        let rows = try await connection.query(
            """
            WITH lease_held AS (
                SELECT epoch FROM lease
                WHERE name = 'leader' AND holder = \(holder) AND epoch = \(epoch) AND expires_at > now() FOR SHARE),
            counters AS (SELECT key, value FROM meta FOR UPDATE)
            SELECT NOT \(check) OR EXISTS (SELECT 1 FROM lease_held),
                (SELECT value FROM counters WHERE key = 'resource_version'),
                (SELECT value FROM counters WHERE key = 'instance_serial'),
                (SELECT value FROM counters WHERE key = 'ministry_serial'),
                (SELECT value FROM counters WHERE key = 'endpoints_version'),
                (SELECT COALESCE(MAX(seq), 0) FROM audit)
            """, logger: logger)
        for try await (held, version, instances, ministries, endpoints, audit) in rows.decode(
            (Bool, Int64?, Int64?, Int64?, Int64?, Int64).self)
        {
            return Prelude(
                fenced: !held,
                counters: [
                    "resource_version": version ?? 0, "instance_serial": instances ?? 0,
                    "ministry_serial": ministries ?? 0, "endpoints_version": endpoints ?? 0,
                ], lastAudit: audit)
        }
        throw StoreError.io("the commit's first query answered nothing")
    }

    /// Moves the counters a changeset sets, refusing any that would go backwards, in one statement.
    static func advance(
        _ changeset: Changeset, from counters: [String: Int64], on connection: PostgresConnection, logger: Logger
    ) async throws {
        let stored = counters["resource_version"] ?? 0
        var keys: [String] = []
        var values: [Int64] = []
        if let next = changeset.resourceVersion {
            guard next > stored else { throw StoreError.conflict("version \(next) does not follow \(stored)") }
            keys.append("resource_version")
            values.append(next)
        }
        if let serial = changeset.instanceSerial {
            guard serial >= counters["instance_serial"] ?? 0 else {
                throw StoreError.conflict("instance serial \(serial) goes backwards")
            }
            keys.append("instance_serial")
            values.append(serial)
        }
        if let serial = changeset.ministrySerial {
            guard serial >= counters["ministry_serial"] ?? 0 else {
                throw StoreError.conflict("ministry serial \(serial) goes backwards")
            }
            keys.append("ministry_serial")
            values.append(serial)
        }
        if let version = changeset.endpointsVersion {
            guard version > counters["endpoints_version"] ?? 0 else {
                throw StoreError.conflict("endpoints version \(version) does not move forward")
            }
            keys.append("endpoints_version")
            values.append(version)
        }
        guard !keys.isEmpty else { return }
        try await connection.query(
            """
            UPDATE meta SET value = u.value FROM unnest(\(keys)::text[], \(values)::bigint[]) AS u(key, value)
            WHERE meta.key = u.key
            """, logger: logger)
    }

    static func set(_ key: String, _ value: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("UPDATE meta SET value = \(value) WHERE key = \(key)", logger: logger)
    }
}

/// `audit`: the append-only log, chained by hash as SQLite's (`AuditChain`); triggers refuse
/// updates, deletions and truncation.
enum PostgresAuditTable {
    /// Appends `records`, numbered and chained after `head` (what this store last wrote or read):
    /// from the larger of its position and the table's last (`last`), so a row inserted behind the store's
    /// back is never overwritten, and stands out in the chain.
    static func append(
        _ records: [AuditRecord], after head: AuditChain.Head?, last: Int64, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> AuditChain.Head? {
        guard !records.isEmpty else { return head }
        let chained = AuditChain.chained(
            records, after: max(head?.seq ?? 0, last), previous: head?.hash ?? AuditChain.genesis)
        try await insert(chained, on: connection, logger: logger)
        return chained.last.map { AuditChain.Head(seq: $0.seq, hash: $0.hash!) }
    }

    /// Inserts records as they are: numbered and chained already (`append`, or a copy of a log).
    static func insert(
        _ chained: some Collection<AuditRecord>, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !chained.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(chained.map(\.seq))
        binds.append(chained.map { RFC3339.formatMilliseconds($0.time) })
        binds.append(chained.map(\.requestID))
        binds.append(chained.map(\.subject))
        binds.append(chained.map(\.role))
        binds.append(chained.map(\.action))
        binds.append(chained.map(\.object))
        binds.append(chained.map(\.result))
        // A message may be absent: the flag array says which are.
        binds.append(chained.map { $0.message ?? "" })
        binds.append(chained.map { $0.message == nil })
        binds.append(chained.map { $0.prevHash ?? "" })
        binds.append(chained.map { $0.hash ?? "" })
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO audit (seq, time, request_id, subject, role, action, object, result, message,
                        prev_hash, hash)
                    SELECT seq, time, request_id, subject, role, action, object, result,
                        CASE WHEN no_message THEN NULL ELSE message END, prev_hash, hash
                    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                        $7::text[], $8::text[], $9::text[], $10::boolean[], $11::text[], $12::text[])
                        AS u(seq, time, request_id, subject, role, action, object, result, message, no_message,
                        prev_hash, hash)
                    """, binds: binds), logger: logger)
    }

    /// The last row's position and hash; when every record was archived, the last archived one's.
    static func head(on connection: PostgresConnection, logger: Logger) async throws -> AuditChain.Head? {
        for try await (seq, hash) in try await connection.query(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", logger: logger
        ).decode((Int64, String).self) {
            return AuditChain.Head(seq: seq, hash: hash)
        }
        return try await archived(on: connection, logger: logger)
    }

    /// The last record removed to the archive.
    static func archived(on connection: PostgresConnection, logger: Logger) async throws -> AuditChain.Head? {
        for try await (seq, hash) in try await connection.query(
            "SELECT seq, hash FROM audit_archive WHERE id = 1", logger: logger
        ).decode((Int64, String).self) {
            return AuditChain.Head(seq: seq, hash: hash)
        }
        return nil
    }

    /// Removes the records up to checkpoint record `seq` (see `Store.removeAudit(through:)`).
    static func removeThrough(_ seq: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        guard let record = try await after(seq - 1, limit: 1, on: connection, logger: logger).first,
            record.seq == seq
        else { throw StoreError.invalid("audit record \(seq) is not in the store") }
        guard AuditChain.isCheckpoint(record), let hash = record.hash else {
            throw StoreError.invalid("audit record \(seq) is not a checkpoint: the log is archived through one only")
        }
        try await setArchived(AuditChain.Head(seq: seq, hash: hash), on: connection, logger: logger)
        try await connection.query("DELETE FROM audit WHERE seq <= \(seq)", logger: logger)
    }

    /// Records `head` as the last record archived.
    static func setArchived(_ head: AuditChain.Head, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO audit_archive (id, seq, hash) VALUES (1, \(head.seq), \(head.hash))
            ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash
            """, logger: logger)
    }

    static func after(
        _ seq: Int64, limit: Int, on connection: PostgresConnection, logger: Logger
    ) async throws
        -> [AuditRecord]
    {
        var records: [AuditRecord] = []
        let rows = try await connection.query(
            """
            SELECT seq, time, request_id, subject, role, action, object, result, message, prev_hash, hash
            FROM audit WHERE seq > \(seq) ORDER BY seq LIMIT \(Int64(limit))
            """, logger: logger)
        for try await (seq, time, requestID, subject, role, action, object, result, message, prevHash, hash)
            in rows.decode(
                (Int64, String, String, String, String, String, String, String, String?, String, String).self)
        {
            records.append(
                AuditRecord(
                    seq: seq, time: RFC3339.parse(time) ?? Date(timeIntervalSince1970: 0), requestID: requestID,
                    subject: subject, role: role, action: action, object: object, result: result, message: message,
                    prevHash: prevHash, hash: hash))
        }
        return records
    }
}

/// `events`: objects' short histories, pruned beyond `capacity` rows like SQLite's.
enum PostgresEventsTable {
    /// Inserts events with the positions they have (a copy of another store's), and moves the
    /// sequence past them.
    static func insertNumbered(
        _ events: some Collection<Event>, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !events.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(events.map(\.seq))
        binds.append(events.map { RFC3339.formatMilliseconds($0.time) })
        binds.append(events.map(\.kind))
        binds.append(events.map { $0.ministry ?? "" })
        binds.append(events.map(\.name))
        binds.append(events.map(\.reason))
        binds.append(events.map(\.message))
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO events (seq, time, kind, ministry, name, reason, message)
                    SELECT seq, time, kind, NULLIF(ministry, ''), name, reason, message
                    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                        AS u(seq, time, kind, ministry, name, reason, message)
                    """, binds: binds), logger: logger)
        try await connection.query(
            "SELECT setval(pg_get_serial_sequence('events', 'seq'), (SELECT MAX(seq) FROM events))", logger: logger)
    }

    static func append(
        _ events: [Event], keeping capacity: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !events.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(events.map { RFC3339.formatMilliseconds($0.time) })
        binds.append(events.map(\.kind))
        binds.append(events.map { $0.ministry ?? "" })
        binds.append(events.map(\.name))
        binds.append(events.map(\.reason))
        binds.append(events.map(\.message))
        var last: Int64 = 0
        for try await seq in try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO events (time, kind, ministry, name, reason, message)
                    SELECT time, kind, NULLIF(ministry, ''), name, reason, message
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
                        WITH ORDINALITY AS u(time, kind, ministry, name, reason, message, n)
                    ORDER BY n RETURNING seq
                    """, binds: binds), logger: logger
        ).decode(Int64.self) {
            last = max(last, seq)
        }
        if last % 1000 < Int64(events.count) {
            try await connection.query("DELETE FROM events WHERE seq <= \(last - capacity)", logger: logger)
        }
    }

    static func query(
        kind: String?, ministry: String?, name: String?, ministries: Set<String>?, limit: Int,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> [Event] {
        var clauses: [String] = []
        var binds = PostgresBindings()
        func bind(_ value: String) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        if let kind { clauses.append("kind = \(bind(kind))") }
        if let ministry { clauses.append("ministry = \(bind(ministry))") }
        if let name { clauses.append("name = \(bind(name))") }
        if let ministries {
            binds.append(ministries.sorted())
            clauses.append("(ministry IS NULL OR ministry = ANY($\(binds.count)::text[]))")
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        binds.append(Int64(limit))
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT seq, time, kind, ministry, name, reason, message FROM events \(filter)
                    ORDER BY seq DESC LIMIT $\(binds.count)
                    """, binds: binds), logger: logger)
        var events: [Event] = []
        for try await (seq, time, kind, ministry, name, reason, message) in rows.decode(
            (Int64, String, String, String?, String, String, String).self)
        {
            events.append(
                Event(
                    seq: seq, time: RFC3339.parse(time) ?? Date(timeIntervalSince1970: 0), kind: kind,
                    ministry: ministry, name: name, reason: reason, message: message))
        }
        return events.reversed()
    }
}

/// `usage`: closed intervals of instances holding resources, in integer milliseconds.
enum PostgresUsageTable {
    static func append(
        _ records: some Collection<UsageRecord>, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !records.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(records.map(\.ministry))
        binds.append(records.map(\.application))
        binds.append(records.map(\.instance))
        binds.append(records.map(\.guaranteed))
        binds.append(records.map { UsageMilliseconds.of($0.from) })
        binds.append(records.map { UsageMilliseconds.of($0.to) })
        binds.append(records.map(\.cpuMillis))
        binds.append(records.map(\.memoryBytes))
        binds.append(records.map(\.storageBytes))
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO usage (ministry, application, instance, guaranteed, from_ms, to_ms, cpu_millis,
                        memory_bytes, storage_bytes)
                    SELECT ministry, application, instance, guaranteed, from_ms, to_ms, cpu_millis, memory_bytes,
                        storage_bytes
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::bigint[],
                        $7::bigint[], $8::bigint[], $9::bigint[]) WITH ORDINALITY
                        AS u(ministry, application, instance, guaranteed, from_ms, to_ms, cpu_millis, memory_bytes,
                        storage_bytes, n)
                    ORDER BY n
                    """, binds: binds), logger: logger)
    }

    static func overlapping(
        from: Date, to: Date, on connection: PostgresConnection, logger: Logger
    ) async throws
        -> [UsageRecord]
    {
        try await records(
            PostgresQuery(
                unsafeSQL: """
                    SELECT seq, ministry, application, instance, guaranteed, from_ms, to_ms, cpu_millis,
                        memory_bytes, storage_bytes
                    FROM usage WHERE to_ms > \(UsageMilliseconds.of(from)) AND from_ms < \(UsageMilliseconds.of(to))
                    ORDER BY seq
                    """), on: connection, logger: logger
        ).map(\.record)
    }

    private static func records(
        _ query: PostgresQuery, on connection: PostgresConnection, logger: Logger
    ) async throws -> [(seq: Int64, record: UsageRecord)] {
        let rows = try await connection.query(query, logger: logger)
        var records: [(seq: Int64, record: UsageRecord)] = []
        for try await (seq, ministry, application, instance, guaranteed, fromMs, toMs, cpu, memory, storage)
            in rows.decode((Int64, String, String, String, Bool, Int64, Int64, Int64, Int64, Int64).self)
        {
            records.append(
                (
                    seq,
                    UsageRecord(
                        ministry: ministry, application: application, instance: instance, guaranteed: guaranteed,
                        from: UsageMilliseconds.date(fromMs), to: UsageMilliseconds.date(toMs), cpuMillis: cpu,
                        memoryBytes: memory, storageBytes: storage)
                ))
        }
        return records
    }

    /// Folds intervals that ended before `before` into `usage_days`, at most `limit` (see
    /// `Store.rollUpUsage`); rows another controller is folding are left to it.
    static func rollUp(
        endedBefore before: Date, limit: Int, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        let found = try await records(
            PostgresQuery(
                unsafeSQL: """
                    SELECT seq, ministry, application, instance, guaranteed, from_ms, to_ms, cpu_millis,
                        memory_bytes, storage_bytes
                    FROM usage WHERE to_ms < \(UsageMilliseconds.of(before)) ORDER BY seq LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                    """), on: connection, logger: logger)
        guard !found.isEmpty else { return 0 }
        try await PostgresUsageDaysTable.add(UsageDay.fold(found.map(\.record)), on: connection, logger: logger)
        try await connection.query("DELETE FROM usage WHERE seq = ANY(\(found.map(\.seq)))", logger: logger)
        return found.count
    }
}

/// `usage_days`: closed usage folded per ministry, UTC day and kind (`UsageDay`), exact sums in
/// `NUMERIC`.
enum PostgresUsageDaysTable {
    static let create = """
        CREATE TABLE usage_days (
            ministry TEXT NOT NULL, day BIGINT NOT NULL, guaranteed BOOLEAN NOT NULL,
            cpu_millicore_seconds NUMERIC NOT NULL, memory_byte_seconds NUMERIC NOT NULL,
            storage_byte_seconds NUMERIC NOT NULL, instance_seconds NUMERIC NOT NULL,
            PRIMARY KEY (ministry, day, guaranteed))
        """

    /// Adds `days` to the days kept (inserting those not kept yet), in one statement.
    static func add(_ days: [UsageDay], on connection: PostgresConnection, logger: Logger) async throws {
        guard !days.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(days.map(\.ministry))
        binds.append(days.map(\.day))
        binds.append(days.map(\.guaranteed))
        binds.append(days.map { "\($0.cpuMillicoreSeconds)" })
        binds.append(days.map { "\($0.memoryByteSeconds)" })
        binds.append(days.map { "\($0.storageByteSeconds)" })
        binds.append(days.map { "\($0.instanceSeconds)" })
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO usage_days AS d (ministry, day, guaranteed, cpu_millicore_seconds,
                        memory_byte_seconds, storage_byte_seconds, instance_seconds)
                    SELECT ministry, day, guaranteed, cpu::numeric, memory::numeric, storage::numeric,
                        instances::numeric
                    FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::text[], $5::text[], $6::text[],
                        $7::text[]) AS u(ministry, day, guaranteed, cpu, memory, storage, instances)
                    ON CONFLICT (ministry, day, guaranteed) DO UPDATE SET
                        cpu_millicore_seconds = d.cpu_millicore_seconds + EXCLUDED.cpu_millicore_seconds,
                        memory_byte_seconds = d.memory_byte_seconds + EXCLUDED.memory_byte_seconds,
                        storage_byte_seconds = d.storage_byte_seconds + EXCLUDED.storage_byte_seconds,
                        instance_seconds = d.instance_seconds + EXCLUDED.instance_seconds
                    """, binds: binds), logger: logger)
    }

    static func overlapping(
        from: Date, to: Date, on connection: PostgresConnection, logger: Logger
    ) async throws -> [UsageDay] {
        let low = UsageDay.second(from) - UsageDay.seconds
        let high = Int64(to.timeIntervalSince1970.rounded(.up))
        let rows = try await connection.query(
            """
            SELECT ministry, day, guaranteed, cpu_millicore_seconds::text, memory_byte_seconds::text,
                storage_byte_seconds::text, instance_seconds::text
            FROM usage_days WHERE day > \(low) AND day < \(high) ORDER BY day, ministry, guaranteed
            """, logger: logger)
        var days: [UsageDay] = []
        for try await (ministry, day, guaranteed, cpu, memory, storage, instances) in rows.decode(
            (String, Int64, Bool, String, String, String, String).self)
        {
            func sum(_ text: String) throws -> Decimal {
                guard let value = UsageDay.sum(text) else {
                    throw StoreError.io("usage_days holds \(text), not a decimal integer")
                }
                return value
            }
            days.append(
                UsageDay(
                    ministry: ministry, day: day, guaranteed: guaranteed, cpuMillicoreSeconds: try sum(cpu),
                    memoryByteSeconds: try sum(memory), storageByteSeconds: try sum(storage),
                    instanceSeconds: try sum(instances)))
        }
        return days
    }
}
