import ArgumentParser
import Foundation
import TansiqAPI
import TansiqController
import TansiqStore

/// `tansiq-controller migrate`: an SQLite cluster copied into PostgreSQL.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a cluster's SQLite store into an empty PostgreSQL database, verified table by table.",
        discussion: """
            Stop the controller first. Copies every object, the counters, the audit log as it is (it
            verifies as before), events and usage from DIR/tansiq.db into the database, in one
            transaction, then counts each table on both sides and prints them; exit 1 when a count
            differs or the database already holds a cluster. Afterwards run the controllers with
            --store URL, each with a copy of DIR (its PKI files; tansiq.db is no longer used).
            """)

    @Option(name: .customLong("from"), help: "The data directory of the SQLite cluster.")
    var from: String

    @Option(name: .customLong("to"), help: "The PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DB.")
    var to: String

    func validate() throws {
        do { _ = try PostgresURL(to) } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
        let dir = DataDirectory(path: from)
        guard FileManager.default.fileExists(atPath: dir.database) else {
            printError("\(dir.database) does not exist: --from must be the data directory of an SQLite cluster")
            throw ExitCode(1)
        }
        do {
            let source = try SQLiteStore(path: dir.database)
            let target = try await PostgresStore(url: try PostgresURL(to), timeout: .seconds(30))
            let report: CopyReport
            do {
                report = try await target.copy(from: source)
            } catch {
                try? await source.close()
                try? await target.close()
                throw error
            }
            try await source.close()
            try await target.close()
            print("TABLE              SQLITE  POSTGRESQL")
            for count in report.counts {
                let name = count.table.padding(toLength: 18, withPad: " ", startingAt: 0)
                let left = String(count.source).leftPadded(6)
                print(
                    "\(name) \(left)  \(String(count.copied).leftPadded(10))\(count.source == count.copied ? "" : "  MISMATCH")"
                )
            }
            guard report.matches else {
                printError("the copy does not match its source")
                throw ExitCode(1)
            }
            print("copied \(dir.database) into \(PostgresURL.redacted(to)); run the controllers with --store")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

/// `tansiq-controller backup`: an online snapshot of the SQLite store.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Snapshot the SQLite store to a file while the controller runs.",
        discussion: """
            Uses SQLite's online backup: the controller keeps serving. To restore, stop the
            controller and put the file in place of DIR/tansiq.db (with DIR's PKI files as they
            were). A cluster on PostgreSQL is backed up with pg_dump, and restored with psql or
            pg_restore into an empty database.
            """)

    @Option(name: .customLong("data-dir"), help: "The controller's data directory.")
    var dataDir: String

    @Option(name: .customLong("to"), help: "The file to write (it must not exist).")
    var to: String

    func run() async throws {
        do {
            try SQLiteStore.backup(databaseAt: DataDirectory(path: dataDir).database, to: to)
            print("backed up \(DataDirectory(path: dataDir).database) to \(to)")
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// `tansiq-controller rotate-secrets-key`: every secret's data key wrapped under a new key.
struct RotateSecretsKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secrets-key",
        abstract: "Wrap every secret's data key under a new key-encryption key, without downtime.",
        discussion: """
            Run it on the host of the controller that leads (with several controllers, on the leader's host).
            Writes a new key as DIR/secrets.key.next (32 random bytes, 0600; an interrupted rotation's is
            reused) and asks the controller at --server to wrap every data key under it in one commit; the
            controller then renames it to DIR/secrets.key — the old key's file is gone and no longer needed.
            Values, versions and running instances are untouched. With several controllers, copy the new
            secrets.key to every other controller's data directory afterwards (a follower reads it when it
            takes the lead). The key never crosses the wire.
            """)

    @Option(name: .customLong("data-dir"), help: "The data directory of the controller that leads.")
    var dataDir: String

    @Option(help: "The controller, https://HOST:PORT.")
    var server: String = "https://127.0.0.1:8443"

    @Option(help: "An operator token (default: the data directory's operator.token).")
    var token: String?

    func run() async throws {
        let dir = DataDirectory(path: dataDir)
        do {
            guard FileManager.default.fileExists(atPath: dir.secretsKey) else {
                throw ValidationError("\(dir.secretsKey) does not exist: --data-dir must be the controller's")
            }
            if !FileManager.default.fileExists(atPath: dir.secretsKeyNext) {
                guard
                    FileManager.default.createFile(
                        atPath: dir.secretsKeyNext, contents: SecretsKeyring.newKeyBytes(),
                        attributes: [.posixPermissions: 0o600])
                else { throw CLIFailure("cannot write \(dir.secretsKeyNext)") }
            }
            let operatorToken =
                try token
                ?? String(contentsOfFile: dir.operatorToken, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let client = try TansiqClient(server: server, trust: .caFile(dir.caCertificate), token: operatorToken)
            defer { Task { await client.shutdown() } }
            let result = try await client.rotateSecretsKey()
            print(
                "\(result.rewrapped) of \(result.secrets) secret(s) rewrapped under key \(result.keyID); "
                    + "\(dir.secretsKey) is the new key")
        } catch let error as ValidationError {
            printError(error.message)
            throw ExitCode(1)
        } catch {
            printError("\(error) (\(dir.secretsKeyNext) is kept: run the command again to finish)")
            throw ExitCode(1)
        }
    }
}

/// A failure with its sentence.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
