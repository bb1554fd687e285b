import Foundation
import Hummingbird
import TansiqAPI
import TansiqModel

extension Routes {
    /// Where applications' ready instances are reached, and the gateways that publish them.
    func registerEndpoints(_ table: inout RouteTable) {
        // A long poll like assignments: `?after=RV&wait=S` answers once the endpoints version
        // passes RV (at once when it already has), or after S seconds (default 30, at most 60).
        table.add(.get, "/v1/endpoints", gateway: true) { request, _, caller in
            let ministry = request.query("ministry")
            let application = request.query("application")
            if let ministry, !Names.isDNSLabel(ministry) {
                throw APIError(.invalid, "?ministry=\(ministry): not a ministry name")
            }
            if let application, !Names.isDNSLabel(application) {
                throw APIError(.invalid, "?application=\(application): not an application name")
            }
            if let text = request.query("after") {
                guard let after = Int64(text), after >= 0 else {
                    throw APIError(.invalid, "?after=\(text): must be a version (a whole number, 0 or more)")
                }
                let wait = try request.integer("wait", default: 30, in: 0...60)
                if await cluster.current.state.endpointsVersion <= after {
                    _ = await cluster.waitForEndpoints(after: after, timeout: .seconds(wait))
                }
            }
            let registry = await cluster.current
            return try API.json(registry.endpointsList(caller: caller, ministry: ministry, application: application))
        }
        table.add(.put, "/v1/gateways/{name}/status", gateway: true) { request, context, caller in
            let name = context.parameter("name")
            try require(caller.role == .gateway || Access.isOperator(caller), caller, "report a gateway's status")
            guard Names.isDNSLabel(name) else {
                throw APIError(.invalid, "\(name) is not a gateway name (a DNS label: a-z, 0-9 and -)")
            }
            let status = try await API.decode(GatewayStatus.self, from: request)
            let current = await cluster.current.state.endpointsVersion
            guard (0...current).contains(status.endpointsVersion) else {
                throw APIError(
                    .invalid, "the status is invalid",
                    details: [
                        .init(
                            path: "endpointsVersion",
                            message:
                                "\(status.endpointsVersion) is not a version the endpoints reached (0 to \(current))")
                    ])
            }
            let time = now()
            let gateways = cluster.gateways
            gateways.report(name, version: status.endpointsVersion, at: time)
            // The instances this gateway was the last to stop sending requests to go now.
            _ = await cluster.round("take-down", at: time, logger: context.logger) {
                $0.planFinishTakeDowns(now: time, gateways: gateways.list(), settled: gateways.settled(at: time))
            }
            return try API.json(GatewayView(name: name, endpointsVersion: status.endpointsVersion, reportedAt: time))
        }
        table.add(.get, "/v1/gateways") { _, _, caller in
            try require(Access.canReadAll(caller), caller, "read the gateways")
            return try API.json(ItemList(items: cluster.gateways.list()))
        }
    }
}
