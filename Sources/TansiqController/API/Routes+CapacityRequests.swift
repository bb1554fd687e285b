import Foundation
import Hummingbird
import TansiqAPI
import TansiqManifest
import TansiqModel

extension Routes {
    func registerCapacityRequests(_ table: inout RouteTable) {
        table.add(.get, "/v1/capacity-requests") { request, _, caller in
            let ministry = request.query("ministry")
            return try await list(request, labels: { request, _ in request.metadata.labels }) { registry in
                registry.state.capacityRequests.values.filter { request in
                    Access.canRead(caller, ministry: request.metadata.ministry ?? "")
                        && (ministry.map { $0 == request.metadata.ministry } ?? true)
                }.sorted { $0.metadata.name < $1.metadata.name }
            }
        }
        table.add(.post, "/v1/capacity-requests") { request, context, caller in
            let objects = try await capacityRequest(in: request, caller: caller)
            let now = now()
            let result = try await cluster.change(
                audit: audit(request, context, caller, action: "apply", object: objects[0].object.identity)
            ) { registry throws(APIError) in
                try registry.planApply(
                    objects, caller: caller, now: now, requestID: context.requestID, createOnly: true)
            }
            let registry = await cluster.current
            guard let item = result.items.first, let created = registry.state.capacityRequests[item.name] else {
                throw APIError(.conflict, "the request changed while it was filed")
            }
            return try API.json(created, status: .created)
        }
        table.add(.get, "/v1/capacity-requests/{name}") { _, context, caller in
            let name = context.parameter("name")
            let registry = await cluster.current
            guard let request = registry.state.capacityRequests[name],
                Access.canRead(caller, ministry: request.metadata.ministry ?? "")
            else {
                // A ministry role learns nothing of other ministries' requests, not even that they exist.
                throw APIError(.notFound, "CapacityRequest/\(name) does not exist")
            }
            return try API.json(request)
        }
        table.add(.delete, "/v1/capacity-requests/{name}") { request, context, caller in
            let name = context.parameter("name")
            return try await mutate(request, context, caller, action: "delete", object: "CapacityRequest/\(name)") {
                registry, now, id throws(APIError) in
                try registry.planDeleteCapacityRequest(name: name, caller: caller, now: now, requestID: id)
            }
        }
        for (verb, approve) in [("approve", true), ("deny", false)] {
            table.add(.post, "/v1/capacity-requests/{name}/\(verb)") { request, context, caller in
                let name = context.parameter("name")
                let comment = try await decision(in: request).comment
                return try await mutate(request, context, caller, action: verb, object: "CapacityRequest/\(name)") {
                    registry, now, id throws(APIError) in
                    try registry.planDecide(
                        name: name, approve: approve, comment: comment, caller: caller, now: now, requestID: id)
                }
            }
        }
    }

    /// `{"comment"}`, or an empty body.
    func decision(in request: Request) async throws -> Decision {
        let data = try await API.body(request, limit: 64 << 10)
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return Decision() }
        do {
            return try WireJSON.decoder().decode(Decision.self, from: data)
        } catch let error as DecodingError {
            throw APIError(.invalid, "the body is not {\"comment\": TEXT}: \(error.sentence)")
        }
    }

    /// A capacity request body: the manifest as JSON (or YAML); without `metadata.name` the
    /// controller names it `MINISTRY-NNNNNN`.
    func capacityRequest(in request: Request, caller: Caller) async throws -> [LocatedObject] {
        let data = try await API.body(request, limit: 64 << 10)
        var text = String(decoding: data, as: UTF8.self)
        if case .object(var object) = try? JSONDecoder().decode(JSONValue.self, from: data) {
            object["apiVersion"] = object["apiVersion"] ?? .string(apiVersion)
            object["kind"] = object["kind"] ?? .string(Kind.capacityRequest.rawValue)
            if case .object(var metadata) = object["metadata"] ?? .object([:]) {
                if metadata["name"] == nil, case .string(let ministry) = metadata["ministry"] {
                    metadata["name"] = .string("\(ministry)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))")
                }
                object["metadata"] = .object(metadata)
            }
            text = JSONValue.object(object).text
        }
        let (objects, diagnostics) = ManifestParser.parse(text, file: "body")
        if !diagnostics.isEmpty {
            throw APIError(
                .invalid, "the capacity request is invalid", details: diagnostics.map(APIError.Detail.init))
        }
        guard objects.count == 1, case .capacityRequest = objects[0].object else {
            throw APIError(.invalid, "the body must be one CapacityRequest")
        }
        return objects
    }
}
