import Logging
import PostgresNIO

/// The PostgreSQL schema, versioned like the SQLite one: each migration runs once, in order, in
/// one transaction with the others that are missing, under an advisory lock so that controllers
/// starting together migrate once. Applied versions are kept in `schema_migrations`.
enum PostgresSchema {
    /// The advisory lock that serialises migrations (any constant the cluster uses alone).
    static let migrationLock: Int64 = 0x7461_6E73_6971

    /// Versions in order, with their statements.
    static let migrations: [(version: String, statements: [String])] = [
        (
            "v1",
            [
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
                """
                INSERT INTO meta VALUES ('resource_version', 0), ('instance_serial', 0), ('ministry_serial', 0)
                """,
            ] + objectTables.flatMap(\.self) + [
                """
                CREATE TABLE audit (
                    seq BIGINT PRIMARY KEY, time TEXT NOT NULL, request_id TEXT NOT NULL, subject TEXT NOT NULL,
                    role TEXT NOT NULL, action TEXT NOT NULL, object TEXT NOT NULL, result TEXT NOT NULL,
                    message TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)
                """,
                // Append-only: the controller's own statements cannot change or remove a record.
                """
                CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$
                """,
                """
                CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
                FOR EACH ROW EXECUTE FUNCTION audit_append_only()
                """,
                """
                CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
                FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()
                """,
                """
                CREATE TABLE events (
                    seq BIGSERIAL PRIMARY KEY, time TEXT NOT NULL, kind TEXT NOT NULL, ministry TEXT,
                    name TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL)
                """,
                "CREATE INDEX events_object ON events(kind, name)",
                "CREATE INDEX events_ministry ON events(ministry)",
                """
                CREATE TABLE usage (
                    seq BIGSERIAL PRIMARY KEY, ministry TEXT NOT NULL, application TEXT NOT NULL,
                    instance TEXT NOT NULL, guaranteed BOOLEAN NOT NULL, from_ms BIGINT NOT NULL,
                    to_ms BIGINT NOT NULL, cpu_millis BIGINT NOT NULL, memory_bytes BIGINT NOT NULL,
                    storage_bytes BIGINT NOT NULL)
                """,
                "CREATE INDEX usage_span ON usage(to_ms, from_ms)",
                // The leader lease (one row): who leads, from which epoch, until when (the
                // database's clock), and where the others reach it.
                """
                CREATE TABLE lease (
                    name TEXT PRIMARY KEY, holder TEXT NOT NULL, url TEXT NOT NULL, epoch BIGINT NOT NULL,
                    expires_at TIMESTAMPTZ NOT NULL)
                """,
                "INSERT INTO lease VALUES ('leader', '', '', 0, 'epoch')",
            ]
        ),
        ("v2-secrets", SecretsTable.table.createStatements),
        ("v3-endpoints-version", ["INSERT INTO meta VALUES ('endpoints_version', 0)"]),
        (
            "v4-history",
            [
                // The last record removed to the archive; the trigger lets deletions through up to it.
                "CREATE TABLE audit_archive (id INT PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL)",
                """
                CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        IF OLD.seq <= COALESCE((SELECT seq FROM audit_archive WHERE id = 1), 0) THEN
                            RETURN OLD;
                        END IF;
                    END IF;
                    RAISE EXCEPTION 'the audit log is append-only';
                END $$
                """,
                PostgresUsageDaysTable.create,
            ]
        ),
    ]

    /// The `CREATE TABLE` and indexes of every object table.
    static var objectTables: [[String]] {
        [
            MinistriesTable.table.createStatements, ApplicationsTable.table.createStatements,
            CapacityRequestsTable.table.createStatements, InstancesTable.table.createStatements,
            TokensTable.table.createStatements, NodesTable.table.createStatements,
        ]
    }

    /// Applies the migrations `connection`'s database lacks; returns the versions applied.
    @discardableResult
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            var applied: Set<String> = []
            for try await version in try await connection.query(
                "SELECT version FROM schema_migrations", logger: logger
            ).decode(String.self) {
                applied.insert(version)
            }
            var done: [String] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version) VALUES (\(migration.version))", logger: logger)
                done.append(migration.version)
            }
            return done
        }
    }
}
