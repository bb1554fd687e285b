import Foundation
import Logging

extension Cluster {
    /// One round of a loop: `systemChange`, with a failure logged rather than thrown (the loop
    /// tries again next round) and `failed` called. Returns the plan's value, or nil when nothing
    /// changed or it failed.
    func round<Value: Sendable>(
        _ name: String, at time: Date, logger: Logger, failed: () -> Void = {},
        _ plan: @escaping @Sendable (Registry) -> Registry.Outcome<Value>
    ) async -> Value? {
        do {
            return try await systemChange(by: name, at: time, plan)
        } catch {
            logger.error("\(name) round failed", metadata: ["error": "\(error)"])
            failed()
            return nil
        }
    }
}
