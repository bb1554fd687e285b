import ArgumentParser
import Foundation
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
