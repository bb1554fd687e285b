import Foundation
import Hummingbird
import TansiqModel

extension Routes {
    func registerEvents(_ table: inout RouteTable) {
        table.add(.get, "/v1/events") { request, _, caller in
            let ministry = request.query("ministry")
            if let ministry {
                try require(Access.canRead(caller, ministry: ministry), caller, "read ministry \(ministry)")
            }
            let limit = try request.integer("limit", default: 200, in: 1...5000)
            // Ministry roles read their ministry's events and the cluster's (nodes); others, all.
            let scope: Set<String>? = Access.canReadAll(caller) ? nil : Set([caller.ministry].compactMap { $0 })
            return try await list(request) { _ in
                try await cluster.events(
                    kind: request.query("kind"), ministry: ministry, name: request.query("name"), ministries: scope,
                    limit: limit)
            }
        }
    }
}
