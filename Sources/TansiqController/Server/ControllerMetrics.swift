import Foundation
import Metrics
import NIOConcurrencyHelpers
import Prometheus
import TansiqModel

/// The controller's metrics, in Prometheus' text format at `GET /metrics`: requests by route
/// and status, request latency, store commit times (`Cluster`), objects by kind.
public final class ControllerMetrics: Sendable {
    /// The registry everything is recorded in (one per process: swift-metrics has one backend).
    let registry: PrometheusCollectorRegistry

    private static let shared = NIOLockedValueBox<PrometheusCollectorRegistry?>(nil)

    /// The process's metrics; the first call bootstraps swift-metrics with Prometheus.
    public static func bootstrap() -> ControllerMetrics {
        let registry = shared.withLockedValue { box in
            if let registry = box { return registry }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            box = registry
            return registry
        }
        return ControllerMetrics(registry: registry)
    }

    private init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    /// Counts one request and its latency.
    func request(route: String, method: String, status: Int, since start: ContinuousClock.Instant) {
        Counter(
            label: "tansiq_http_requests_total",
            dimensions: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        Metrics.Timer(
            label: "tansiq_http_request_duration_seconds", dimensions: [("route", route)],
            preferredDisplayUnit: .seconds
        ).recordInterval(since: start)
    }

    /// Sets the object gauges from a state.
    func objects(ministries: Int, applications: Int, capacityRequests: Int, instances: Int, tokens: Int) {
        for (kind, count) in [
            ("Ministry", ministries), ("Application", applications), ("CapacityRequest", capacityRequests),
            ("Instance", instances), ("Token", tokens),
        ] {
            Gauge(label: "tansiq_objects", dimensions: [("kind", kind)]).record(count)
        }
    }

    /// Sets the node gauges.
    func nodes(byPhase phases: [NodePhase: Int]) {
        for (phase, count) in phases {
            Gauge(label: "tansiq_nodes", dimensions: [("phase", phase.rawValue)]).record(count)
        }
    }

    /// What each metric measures, for its `# HELP` line (swift-metrics has no help texts, and
    /// Prometheus' tools want one per metric).
    static let help: [String: String] = [
        "tansiq_http_requests_total": "API requests answered, by route, method and status.",
        "tansiq_http_request_duration_seconds": "Time to answer an API request, by route.",
        "tansiq_objects": "Stored objects, by kind.",
        "tansiq_nodes": "Nodes, by phase.",
        "tansiq_store_commit_seconds": "Time to commit a group of changes to the store, fsync included.",
        "tansiq_agent_status_updates_total": "Node statuses that changed something.",
        "tansiq_agent_join_failures_total": "Refused joins, by reason.",
        "tansiq_agent_long_polls_open": "Assignment long polls waiting.",
        "tansiq_endpoints_long_polls_open": "Endpoints long polls waiting.",
        "tansiq_leader": "1 while this controller leads the term of that epoch, 0 once it no longer does.",
        "tansiq_leader_changes_total": "Changes of leader this controller has seen (each new epoch after the first).",
    ]

    /// The text exposition, each metric family with its `# HELP` line.
    func render() -> String {
        var lines: [Substring] = []
        for line in registry.emitToString().split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.split(separator: " ").dropFirst(2).first,
                let text = Self.help[String(name)], lines.last?.hasPrefix("# HELP \(name) ") != true
            {
                lines.append("# HELP \(name) \(text)")
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
