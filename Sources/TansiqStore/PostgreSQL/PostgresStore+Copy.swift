import Foundation
import Logging
import PostgresNIO
import TansiqModel

/// What a copy of a cluster's store moved: each table's rows in the source and in the copy.
public struct CopyReport: Sendable {
    public struct Count: Sendable {
        public var table: String
        public var source: Int
        public var copied: Int
    }

    public var counts: [Count]

    /// True when every table has as many rows in the copy as in the source.
    public var matches: Bool { counts.allSatisfy { $0.source == $0.copied } }
}

extension PostgresStore {
    /// Copies everything `source` holds — objects, counters, the audit log as it is (positions
    /// and hashes kept, so it verifies as before), events and usage — into this store's database,
    /// which must hold no cluster, in one transaction; then counts each table on both sides.
    /// Throws `StoreError.invalid` when this database already holds a cluster.
    public func copy(from source: any Store) async throws -> CopyReport {
        let state = try await source.load()
        var records: [AuditRecord] = []
        while true {
            let page = try await source.audit(after: records.last?.seq ?? 0, limit: 10_000)
            if page.isEmpty { break }
            records += page
        }
        let audit = records
        let events = try await source.events(
            kind: nil, ministry: nil, name: nil, ministries: nil, limit: Int(EventsCapacity.rows))
        let usage = try await source.usage(from: .distantPast, to: .distantFuture)
        let days = try await source.usageDays(from: .distantPast, to: .distantFuture)
        let archived = try await source.auditArchived()
        let existing = try await load()
        guard existing.resourceVersion == 0, existing.tokens.isEmpty else {
            throw StoreError.invalid("\(url) already holds a cluster (version \(existing.resourceVersion))")
        }
        try await guarded("copy", timeout: .seconds(600)) {
            [client, logger, encoder = WireJSON.encoder()] in
            try await client.withTransaction(logger: logger) { connection in
                try await PostgresMeta.set("resource_version", state.resourceVersion, on: connection, logger: logger)
                try await PostgresMeta.set("instance_serial", state.instanceSerial, on: connection, logger: logger)
                try await PostgresMeta.set("ministry_serial", state.ministrySerial, on: connection, logger: logger)
                try await PostgresMeta.set(
                    "endpoints_version", state.endpointsVersion, on: connection, logger: logger)
                for chunk in Array(state.ministries.values).chunked(5000) {
                    try await MinistriesTable.table.upsert(chunk, on: connection, encoder: encoder, logger: logger)
                }
                for chunk in Array(state.applications.values).chunked(5000) {
                    try await ApplicationsTable.table.upsert(chunk, on: connection, encoder: encoder, logger: logger)
                }
                for chunk in Array(state.capacityRequests.values).chunked(5000) {
                    try await CapacityRequestsTable.table.upsert(
                        chunk, on: connection, encoder: encoder, logger: logger)
                }
                for chunk in Array(state.instances.values).chunked(5000) {
                    try await InstancesTable.table.upsert(chunk, on: connection, encoder: encoder, logger: logger)
                }
                for chunk in Array(state.tokens.values).chunked(5000) {
                    try await TokensTable.table.upsert(chunk, on: connection, encoder: encoder, logger: logger)
                }
                for chunk in Array(state.nodes.values).chunked(5000) {
                    try await NodesTable.table.upsert(chunk, on: connection, encoder: encoder, logger: logger)
                }
                for chunk in Array(state.secrets.values).chunked(5000) {
                    try await SecretsTable.table.upsert(chunk, on: connection, encoder: encoder, logger: logger)
                }
                for chunk in audit.chunked(5000) {
                    try await PostgresAuditTable.insert(chunk, on: connection, logger: logger)
                }
                for chunk in events.chunked(5000) {
                    try await PostgresEventsTable.insertNumbered(chunk, on: connection, logger: logger)
                }
                for chunk in usage.chunked(5000) {
                    try await PostgresUsageTable.append(chunk, on: connection, logger: logger)
                }
                for chunk in days.chunked(5000) {
                    try await PostgresUsageDaysTable.add(Array(chunk), on: connection, logger: logger)
                }
                if let archived {
                    try await PostgresAuditTable.setArchived(archived, on: connection, logger: logger)
                }
            }
        }
        // `load` also takes the copied log's head as the one to chain after.
        let copied = try await load()
        let counts = try await guarded("count") { [client, logger] in
            try await client.withConnection { connection in
                var counts: [String: Int] = [:]
                for table in ["audit", "events", "usage", "usage_days"] {
                    for try await n in try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), logger: logger
                    ).decode(Int64.self) {
                        counts[table] = Int(n)
                    }
                }
                return counts
            }
        }
        func row(_ table: String, _ source: Int, _ copied: Int) -> CopyReport.Count {
            CopyReport.Count(table: table, source: source, copied: copied)
        }
        return CopyReport(counts: [
            row("ministries", state.ministries.count, copied.ministries.count),
            row("applications", state.applications.count, copied.applications.count),
            row("capacity_requests", state.capacityRequests.count, copied.capacityRequests.count),
            row("instances", state.instances.count, copied.instances.count),
            row("tokens", state.tokens.count, copied.tokens.count),
            row("nodes", state.nodes.count, copied.nodes.count),
            row("secrets", state.secrets.count, copied.secrets.count),
            row("audit", audit.count, counts["audit"] ?? -1),
            row("events", events.count, counts["events"] ?? -1),
            row("usage", usage.count, counts["usage"] ?? -1),
            row("usage_days", days.count, counts["usage_days"] ?? -1),
            row("resource_version", Int(state.resourceVersion), Int(copied.resourceVersion)),
            row("instance_serial", Int(state.instanceSerial), Int(copied.instanceSerial)),
            row("ministry_serial", Int(state.ministrySerial), Int(copied.ministrySerial)),
        ])
    }
}

extension Array {
    /// The array in consecutive pieces of at most `size`.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
