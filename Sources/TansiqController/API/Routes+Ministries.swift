import Foundation
import Hummingbird
import TansiqAPI
import TansiqModel

extension Routes {
    func registerMinistries(_ table: inout RouteTable) {
        table.add(.get, "/v1/ministries") { request, _, caller in
            let now = now()
            return try await list(request, labels: { ministry, _ in ministry.metadata.labels }) { registry in
                let ledger = registry.usageLedger(now: now)
                return registry.state.ministries.values.filter { Access.canRead(caller, ministry: $0.metadata.name) }
                    .sorted { $0.metadata.name < $1.metadata.name }.map {
                        registry.withStatus($0, now: now, ledger: ledger)
                    }
            }
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
        table.add(.get, "/v1/ministries/{ministry}/applications") { request, context, caller in
            let ministry = context.parameter("ministry")
            _ = try await readable(ministry, caller)
            return try await list(request, labels: { app, _ in app.metadata.labels }) { registry in
                registry.state.applications.values.filter { $0.metadata.ministry == ministry }
                    .sorted { $0.metadata.name < $1.metadata.name }.map(registry.withStatus)
            }
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
        table.add(.get, "/v1/ministries/{ministry}/applications/{name}/revisions") { _, context, caller in
            let ministry = context.parameter("ministry")
            let registry = try await readable(ministry, caller)
            let app = try registry.application(ministry: ministry, name: context.parameter("name"))
            return try API.list(app.status?.revisions ?? [])
        }
        table.add(.post, "/v1/ministries/{ministry}/applications/{name}/scale") { request, context, caller in
            let ministry = context.parameter("ministry")
            let name = context.parameter("name")
            let body = try await API.decode(ScaleRequest.self, from: request)
            return try await mutate(
                request, context, caller, action: "scale", object: "Application/\(ministry)/\(name)"
            ) {
                registry, now, id throws(APIError) in
                try registry.planScale(
                    ministry: ministry, name: name, replicas: body.replicas, caller: caller, now: now, requestID: id)
            }
        }
        table.add(.post, "/v1/ministries/{ministry}/applications/{name}/rollback") { request, context, caller in
            let ministry = context.parameter("ministry")
            let name = context.parameter("name")
            let data = try await API.body(request, limit: 64 << 10)
            let generation =
                data.isEmpty ? nil : try API.decode(RollbackRequest.self, from: data).generation
            return try await mutate(
                request, context, caller, action: "rollback", object: "Application/\(ministry)/\(name)"
            ) { registry, now, id throws(APIError) in
                try registry.planRollback(
                    ministry: ministry, name: name, generation: generation, caller: caller, now: now, requestID: id)
            }
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
