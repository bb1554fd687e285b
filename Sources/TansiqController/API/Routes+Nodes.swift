import Foundation
import Hummingbird
import TansiqAPI
import TansiqModel

extension Routes {
    func registerNodes(_ table: inout RouteTable) {
        table.add(.get, "/v1/nodes") { request, _, caller in
            try require(Access.canReadCluster(caller), caller, "read nodes")
            let now = now()
            return try await list(request, labels: { node, _ in node.labels }) { registry in
                registry.state.nodes.values.sorted { $0.name < $1.name }.map {
                    cluster.heartbeats.view($0, in: registry, now: now)
                }
            }
        }
        table.add(.get, "/v1/nodes/{name}") { _, context, caller in
            try require(Access.canReadCluster(caller), caller, "read nodes")
            let name = context.parameter("name")
            let registry = await cluster.current
            guard let node = registry.state.nodes[name] else {
                throw APIError(.notFound, "Node/\(name) does not exist")
            }
            return try API.json(cluster.heartbeats.view(node, in: registry, now: now()))
        }
        table.add(.patch, "/v1/nodes/{name}") { request, context, caller in
            let name = context.parameter("name")
            let patch = try await API.decode(NodePatch.self, from: request)
            return try await mutate(request, context, caller, action: "node.patch", object: "Node/\(name)") {
                registry, now, id throws(APIError) in
                try registry.planPatchNode(name: name, patch: patch, caller: caller, now: now, requestID: id)
            }
        }
        for (verb, cordon) in [("cordon", true), ("uncordon", false)] {
            table.add(.post, "/v1/nodes/{name}/\(verb)") { request, context, caller in
                let name = context.parameter("name")
                return try await mutate(request, context, caller, action: "node.\(verb)", object: "Node/\(name)") {
                    registry, now, id throws(APIError) in
                    try registry.planCordon(name: name, cordon: cordon, caller: caller, now: now, requestID: id)
                }
            }
        }
        table.add(.post, "/v1/nodes/{name}/drain") { request, context, caller in
            let name = context.parameter("name")
            return try await mutate(request, context, caller, action: "node.drain", object: "Node/\(name)") {
                registry, now, id throws(APIError) in
                try registry.planDrain(name: name, caller: caller, now: now, requestID: id)
            }
        }
        table.add(.delete, "/v1/nodes/{name}") { request, context, caller in
            let name = context.parameter("name")
            let current = await cluster.current
            let notReady =
                current.state.nodes[name].map {
                    cluster.heartbeats.view($0, in: current, now: now()).phase == .notReady
                } ?? false
            let answer = try await mutate(request, context, caller, action: "node.remove", object: "Node/\(name)") {
                registry, now, id throws(APIError) in
                try registry.planRemoveNode(name: name, notReady: notReady, caller: caller, now: now, requestID: id)
            }
            cluster.heartbeats.forget(name)
            return answer
        }
    }
}
