import Foundation
import TansiqAPI
import TansiqModel

/// The gateways that report to this controller and the endpoints version each has applied: in
/// memory only, like heartbeats. A gateway reports after every change it applies and at least
/// every `reportInterval`, so a controller that has just started (or just become leader) knows
/// every live gateway after `settling`; until then it lets Terminating instances go only at their
/// drain timeout.
public final class Gateways: Sendable {
    private let reports = Locked<[String: GatewayView]>([:])
    /// When this controller's term started.
    public let startedAt: Date

    /// How often a gateway reports when nothing changes.
    public static let reportInterval: TimeInterval = 10
    /// How long after starting every live gateway has reported at least once.
    public static let settling: TimeInterval = 2 * reportInterval + 1

    init(startedAt: Date) { self.startedAt = startedAt }

    /// Records that gateway `name` has applied `version` at `time`.
    func report(_ name: String, version: Int64, at time: Date) {
        reports.withLock { $0[name] = GatewayView(name: name, endpointsVersion: version, reportedAt: time) }
    }

    /// Every gateway heard since this controller started, by name.
    public func list() -> [GatewayView] { reports.withLock { Array($0.values) }.sorted { $0.name < $1.name } }

    /// True once every live gateway has had time to report.
    public func settled(at now: Date) -> Bool { now.timeIntervalSince(startedAt) >= Self.settling }
}
