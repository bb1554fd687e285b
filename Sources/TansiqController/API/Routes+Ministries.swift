import Foundation
import Hummingbird
import TansiqModel

extension Routes {
    func registerMinistries(_ table: inout RouteTable) {
        table.add(.get, "/v1/ministries") { _, _, caller in
            let registry = await cluster.current
            let now = now()
            return try API.list(
                registry.state.ministries.values.filter { Access.canRead(caller, ministry: $0.metadata.name) }
                    .sorted { $0.metadata.name < $1.metadata.name }.map { registry.withStatus($0, now: now) })
        }
        table.add(.get, "/v1/ministries/{ministry}") { _, context, caller in
            let registry = try await readable(context.parameter("ministry"), caller)
            let ministry = registry.state.ministries[context.parameter("ministry")]!
            return try API.json(registry.withStatus(ministry, now: now()))
        }
        table.add(.delete, "/v1/ministries/{ministry}") { request, context, caller in
            let name = context.parameter("ministry")
            return try await mutate(request, context, caller, action: "delete", object: "Ministry/\(name)") {
                registry, now, id throws(APIError) in
                try registry.planDeleteMinistry(name: name, caller: caller, now: now, requestID: id)
            }
        }
        table.add(.get, "/v1/ministries/{ministry}/applications") { _, context, caller in
            let ministry = context.parameter("ministry")
            let registry = try await readable(ministry, caller)
            return try API.list(
                registry.state.applications.values.filter { $0.metadata.ministry == ministry }
                    .sorted { $0.metadata.name < $1.metadata.name }.map(registry.withStatus))
        }
        table.add(.get, "/v1/ministries/{ministry}/applications/{name}") { _, context, caller in
            let ministry = context.parameter("ministry")
            let name = context.parameter("name")
            let registry = try await readable(ministry, caller)
            guard let app = registry.state.applications["\(ministry)/\(name)"] else {
                throw APIError(.notFound, "Application/\(ministry)/\(name) does not exist")
            }
            return try API.json(registry.withStatus(app))
        }
        table.add(.delete, "/v1/ministries/{ministry}/applications/{name}") { request, context, caller in
            let ministry = context.parameter("ministry")
            let name = context.parameter("name")
            let object = "Application/\(ministry)/\(name)"
            return try await mutate(request, context, caller, action: "delete", object: object) {
                registry, now, id throws(APIError) in
                try registry.planDeleteApplication(
                    ministry: ministry, name: name, caller: caller, now: now, requestID: id)
            }
        }
    }

    /// The registry, once the caller may read `ministry` (403) and it exists (404).
    func readable(_ ministry: String, _ caller: Caller) async throws -> Registry {
        try require(Access.canRead(caller, ministry: ministry), caller, "read ministry \(ministry)")
        let registry = await cluster.current
        guard registry.state.ministries[ministry] != nil else {
            throw APIError(.notFound, "Ministry/\(ministry) does not exist")
        }
        return registry
    }
}
