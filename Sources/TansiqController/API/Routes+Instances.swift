import Foundation
import Hummingbird
import TansiqModel

extension Routes {
    func registerInstances(_ table: inout RouteTable) {
        table.add(.get, "/v1/instances") { request, _, caller in
            let ministry = request.query("ministry")
            let application = request.query("application")
            let node = request.query("node")
            var phase: InstancePhase?
            if let text = request.query("phase") {
                guard let value = InstancePhase(rawValue: text) else {
                    let allowed = InstancePhase.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError(.invalid, "?phase=\(text): not a phase; one of \(allowed)")
                }
                phase = value
            }
            if let ministry {
                try require(Access.canRead(caller, ministry: ministry), caller, "read ministry \(ministry)")
            }
            let wanted = phase
            let labels: @Sendable (Instance, Registry) -> [String: String] = { instance, registry in
                registry.state.applications["\(instance.ministry)/\(instance.application)"]?.metadata.labels ?? [:]
            }
            return try await list(request, labels: labels) { registry in
                Registry.oldestFirst(
                    registry.state.instances.values.filter { instance in
                        Access.canRead(caller, ministry: instance.ministry)
                            && (ministry.map { $0 == instance.ministry } ?? true)
                            && (application.map { $0 == instance.application } ?? true)
                            && (node.map { $0 == instance.node } ?? true)
                            && (wanted.map { $0 == instance.phase } ?? true)
                    })
            }
        }
    }
}
