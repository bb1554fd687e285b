import Foundation
import Hummingbird
import TansiqAPI
import TansiqModel

extension Routes {
    func registerUsage(_ table: inout RouteTable) {
        table.add(.get, "/v1/usage") { request, _, caller in
            let now = now()
            func time(_ name: String, _ fallback: Date) throws -> Date {
                guard let text = request.query(name) else { return fallback }
                guard let date = RFC3339.parse(text) else {
                    throw APIError(.invalid, "?\(name)=\(text): not an RFC 3339 time like 2027-01-01T00:00:00Z")
                }
                return date
            }
            let to = try time("to", now)
            let from = try time("from", to.addingTimeInterval(-86400))
            guard from < to else { throw APIError(.invalid, "?from= must be before ?to=") }
            let csv: Bool
            switch request.query("format") {
            case nil, "json": csv = false
            case "csv": csv = true
            case let other?: throw APIError(.invalid, "?format=\(other): json or csv")
            }
            let registry = await cluster.current
            let ministries = registry.state.ministries.keys.filter { Access.canRead(caller, ministry: $0) }
            let records = try await cluster.usage(from: from, to: to).filter { ministries.contains($0.ministry) }
            let days = try await cluster.usageDays(from: from, to: to).filter { ministries.contains($0.ministry) }
            let report = UsageReport.compute(
                ministries: Array(ministries), records: records, days: days,
                instances: registry.state.instances.values.filter { ministries.contains($0.ministry) }, from: from,
                to: to, now: now)
            if csv {
                return Response(
                    status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                    body: ResponseBody(
                        byteBuffer: ByteBuffer(
                            string: report.csv(
                                codes: Dictionary(
                                    uniqueKeysWithValues: registry.state.ministries.map { ($0.key, $0.value.spec.code) }
                                )))))
            }
            return try API.json(report)
        }
    }
}
