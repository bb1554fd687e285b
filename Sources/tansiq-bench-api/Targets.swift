import ArgumentParser
import Foundation
import TansiqTestSupport

/// Which stores a benchmark runs against, side by side in one run.
enum BenchStores: String, ExpressibleByArgument, CaseIterable {
    case sqlite, postgres, both
}

/// A controller a benchmark sends its requests to: SQLite alone, or one of two controllers on a
/// PostgreSQL database — the leader, or a follower that forwards every request to it.
struct BenchTarget {
    let name: String
    let live: LiveController

    /// Runs `body` once per target of `stores`, each on a fresh cluster, one after another.
    static func each(_ stores: BenchStores, _ body: (BenchTarget) async throws -> Void) async throws {
        if stores != .postgres {
            try await LiveController.with { live in try await body(BenchTarget(name: "sqlite", live: live)) }
        }
        guard stores != .sqlite else { return }
        let postgres = try await LivePostgres.shared.value
        for through in ["leader", "follower"] {
            let controllers = try await LiveController.cluster(count: 2, store: try await postgres.database())
            do {
                // The first started leads.
                var leader = 0
                for (index, controller) in controllers.enumerated()
                where await controller.readiness()?.role == "leader" {
                    leader = index
                }
                let live = controllers[through == "leader" ? leader : 1 - leader]
                try await body(BenchTarget(name: "postgres via \(through)", live: live))
            } catch {
                for controller in controllers { await controller.shutdown() }
                throw error
            }
            for controller in controllers { await controller.shutdown() }
        }
    }

    /// The target's name as a JSON key prefix: `sqlite`, `postgresLeader`, `postgresFollower`.
    var key: String {
        switch name {
        case "sqlite": "sqlite"
        case "postgres via leader": "postgresLeader"
        default: "postgresFollower"
        }
    }
}
