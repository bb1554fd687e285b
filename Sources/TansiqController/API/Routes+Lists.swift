import Foundation
import Hummingbird
import TansiqAPI
import TansiqModel

extension Routes {
    /// A list answer with what every list route takes: `?labelSelector=k=v,k!=v` (on the
    /// objects' labels; an instance's are its application's), and `?watch=true&after=RV&wait=S`,
    /// a long poll answered after the next commit that changes something once the caller has
    /// seen version `after` (at once when the cluster is already past it), or after `wait`
    /// seconds (default 30, at most 60). The answer carries the cluster's `resourceVersion`.
    func list<Item: Codable & Sendable>(
        _ request: Request, labels: @escaping @Sendable (Item, Registry) -> [String: String] = { _, _ in [:] },
        _ read: @Sendable (Registry) async throws -> [Item]
    ) async throws -> Response {
        var selector: LabelSelector?
        if let text = request.query("labelSelector") {
            do throws(QuantityError) {
                selector = try LabelSelector(text)
            } catch {
                throw APIError(.invalid, "?labelSelector: \(error.message)")
            }
        }
        if try request.flag("watch") {
            let after = try request.integer("after", default: 0, in: 0...Int.max)
            let wait = try request.integer("wait", default: 30, in: 0...60)
            if await cluster.current.state.resourceVersion <= Int64(after) {
                await cluster.commits.wait(timeout: .seconds(wait))
            }
        }
        let registry = await cluster.current
        var items = try await read(registry)
        if let selector { items = items.filter { selector.matches(labels($0, registry)) } }
        return try API.json(ItemList(items: items, resourceVersion: registry.state.resourceVersion))
    }
}
