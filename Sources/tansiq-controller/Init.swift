import ArgumentParser
import Foundation
import TansiqController
import TansiqModel
import TansiqStore

/// `tansiq-controller init`: a new cluster.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a cluster: data directory, CA, serving certificate, operator and bootstrap tokens.",
        discussion: """
            Creates DIR (mode 0700) with tansiq.db, ca.crt, ca.key, controller.crt, controller.key,
            operator.token and bootstrap.token (tokens and keys mode 0600). The serving certificate
            names 127.0.0.1, localhost and every --host. Prints the operator token once and the
            command that joins agents, with the CA pin. Refuses a directory that already holds a cluster.

            With --store postgres://USER[:PASSWORD]@HOST[:PORT]/DB the store is that PostgreSQL
            database (its schema is created; one that already holds a cluster is refused) and DIR
            holds no tansiq.db: give every other controller a copy of DIR and the same --store.
            """)

    @Option(name: .customLong("data-dir"), help: "The data directory to create.")
    var dataDir: String

    @Option(
        name: .customLong("host"),
        help: "A DNS name or IP address agents and clients reach the controller by (repeatable).")
    var hosts: [String] = []

    @Option(help: "The port agents will join on, for the printed join command.")
    var port: Int = 8443

    @Option(
        help: ArgumentHelp(
            "A PostgreSQL store shared by several controllers: postgres://USER[:PASSWORD]@HOST[:PORT]/DB "
                + "(without it, SQLite in the data directory)."))
    var store: String?

    func validate() throws {
        if let store {
            do { _ = try PostgresURL(store) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        let dir = DataDirectory(path: dataDir)
        let result: ClusterInit.Result
        do {
            result = try await ClusterInit.run(dataDir: dir, hosts: hosts, now: Date(), storeURL: store)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let host = hosts.first ?? "127.0.0.1"
        let server = host.contains(":") ? "https://[\(host)]:\(port)" : "https://\(host):\(port)"
        print(
            """
            Cluster created in \(dataDir).

            Operator token (shown once; also in \(dir.operatorToken)):
              \(result.operatorToken)

            CA certificate: \(dir.caCertificate) (pin \(result.caPin))

            Join agents before \(RFC3339.format(result.bootstrapExpiresAt)) with:
              tansiq-agent join --server \(server) --token \(result.bootstrapToken) \\
                --ca-hash \(result.caPin) --name NODE --data-dir /var/lib/tansiq-agent

            Start the controller:
              tansiq-controller run --data-dir \(dataDir) --listen 0.0.0.0:\(port)\(store.map { " --store \(PostgresURL.redacted($0)) --advertise \(server)" } ?? "")
            """)
    }
}
