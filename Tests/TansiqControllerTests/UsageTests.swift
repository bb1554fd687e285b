import Foundation
import TansiqAPI
import TansiqModel
import TansiqStore
import TansiqTestSupport
import Testing

@testable import TansiqController

@Suite("Showback: exact usage per ministry for any period")
struct UsageTests {
    static let t0 = Date(timeIntervalSince1970: 2_400_000_000)

    static func instance(_ id: String, ministry: String, node: String?, guaranteed: Bool = true) -> Instance {
        Instance(
            id: id, ministry: ministry, application: "app", node: node, phase: .running, guaranteed: guaranteed,
            resources: ResourceRequest(cpuMillis: 500, memoryBytes: 1 << 30))
    }

    @Test("a period that splits an instance's lifetime counts only the part inside it; periods add up")
    func splitPeriods() {
        let record = UsageRecord(
            ministry: "health", application: "app", instance: "i1", guaranteed: true, from: Self.t0,
            to: Self.t0.addingTimeInterval(7200), cpuMillis: 500, memoryBytes: 1 << 30, storageBytes: 0)
        let first = UsageReport.compute(
            ministries: ["health", "finance"], records: [record], instances: [], from: Self.t0.addingTimeInterval(3600),
            to: Self.t0.addingTimeInterval(3 * 3600), now: Self.t0)
        let health = first.items.first { $0.ministry == "health" }!
        #expect(health.all.instanceSeconds == 3600)
        #expect(health.all.cpuMillicoreSeconds == Decimal(500 * 3600))
        #expect(health.cpuCoreHours == 0.5)
        #expect(health.memoryGiBHours == 1)
        #expect(first.items.map(\.ministry) == ["finance", "health"], "every ministry listed, zeros included")
        #expect(first.items.first { $0.ministry == "finance" }!.all == UsageReport.Amounts())
        // [t0, t0+1h) and [t0+1h, t0+3h) add up to [t0, t0+3h).
        let earlier = UsageReport.compute(
            ministries: ["health"], records: [record], instances: [], from: Self.t0,
            to: Self.t0.addingTimeInterval(3600), now: Self.t0)
        let whole = UsageReport.compute(
            ministries: ["health"], records: [record], instances: [], from: Self.t0,
            to: Self.t0.addingTimeInterval(3 * 3600), now: Self.t0)
        #expect(
            earlier.total.all.cpuMillicoreSeconds + first.total.all.cpuMillicoreSeconds
                == whole.total.all.cpuMillicoreSeconds)
    }

    @Test("usage folded into days reports as its intervals did over whole days, in proportion within one")
    func foldedDays() {
        let midnight = Date(timeIntervalSince1970: 1_800_057_600)
        func record(_ id: String, _ from: TimeInterval, _ to: TimeInterval, guaranteed: Bool = true) -> UsageRecord {
            UsageRecord(
                ministry: id.hasPrefix("f") ? "finance" : "health", application: "app", instance: id,
                guaranteed: guaranteed, from: midnight + from, to: midnight + to, cpuMillis: 333,
                memoryBytes: 3 << 30, storageBytes: 1)
        }
        let records = [
            record("h1", -50_000.7, 100_000.2), record("h2", 10, 86_390, guaranteed: false), record("f1", 3, 90_000),
        ]
        let days = UsageDay.fold(records)
        #expect(days.count == 6, "health guaranteed over 3 days, borrowed over 1, finance over 2")
        for (from, to) in [(midnight - 86400, midnight + 2 * 86400), (midnight, midnight + 86400)] {
            let detailed = UsageReport.compute(
                ministries: ["health", "finance"], records: records, instances: [], from: from, to: to, now: to)
            let folded = UsageReport.compute(
                ministries: ["health", "finance"], records: [], days: days, instances: [], from: from, to: to, now: to)
            #expect(detailed == folded, "whole days: exactly the same report")
        }
        // Half of a folded day: half its sums, rounded down.
        let half = UsageReport.compute(
            ministries: ["health"], records: [], days: days, instances: [], from: midnight,
            to: midnight + 43_200, now: midnight)
        let day = days.first { $0.ministry == "health" && $0.day == 1_800_057_600 && $0.guaranteed }!
        #expect(day.instanceSeconds == 86_400)
        #expect("\(half.items[0].guaranteed.instanceSeconds)" == "43200")
        #expect("\(half.items[0].guaranteed.cpuMillicoreSeconds)" == "\(333 * 43_200)")
        let borrowed = days.first { !$0.guaranteed }!
        #expect(borrowed.instanceSeconds == 86_380)
        var expected = Decimal(86_380) * 43_200 / 86_400
        var floor = Decimal()
        NSDecimalRound(&floor, &expected, 0, .down)
        #expect("\(half.items[0].borrowed.instanceSeconds)" == "\(floor)" && "\(floor)" == "43190")
    }

    @Test("sums that overflow 64 bits stay exact: 1 PiB of storage held for ten years")
    func exactBeyondSixtyFourBits() throws {
        let tenYears: Int64 = 10 * 365 * 86_400
        let record = UsageRecord(
            ministry: "health", application: "app", instance: "i1", guaranteed: true, from: Self.t0,
            to: Self.t0.addingTimeInterval(TimeInterval(tenYears)), cpuMillis: 1000, memoryBytes: 0,
            storageBytes: 1 << 50)
        let report = UsageReport.compute(
            ministries: ["health"], records: [record, record], instances: [], from: Self.t0,
            to: Self.t0.addingTimeInterval(TimeInterval(tenYears)), now: Self.t0)
        // 2 × 2^50 × 315,360,000 = 710,127,589,243,779,809,280,000 (well past Int64.max).
        let expected = try #require(Decimal(string: "710127589243779809280000"))
        #expect(report.total.all.storageByteSeconds == expected)
        let json = String(decoding: try JSONEncoder().encode(report.total.all), as: UTF8.self)
        #expect(json.contains("\"storageByteSeconds\":710127589243779809280000"), "JSON carries the exact integer")
        #expect(report.csv(codes: ["health": "MOH"]).contains(",710127589243779809280000,"))
    }

    @Test("open intervals count up to now; guaranteed and borrowed apart; the total is the sum of the ministries")
    func openAndTotals() {
        var borrowed = Self.instance("f1", ministry: "finance", node: "n", guaranteed: false)
        borrowed.assignedAt = Self.t0
        var guaranteed = Self.instance("h1", ministry: "health", node: "n")
        guaranteed.assignedAt = Self.t0.addingTimeInterval(1800)
        let pending = Self.instance("h2", ministry: "health", node: nil)
        let report = UsageReport.compute(
            ministries: ["health", "finance"], records: [], instances: [borrowed, guaranteed, pending], from: Self.t0,
            to: Self.t0.addingTimeInterval(7200), now: Self.t0.addingTimeInterval(3600))
        let finance = report.items.first { $0.ministry == "finance" }!
        let health = report.items.first { $0.ministry == "health" }!
        #expect(finance.borrowed.instanceSeconds == 3600 && finance.guaranteed.instanceSeconds == 0)
        #expect(health.guaranteed.instanceSeconds == 1800, "pending instances accrue nothing")
        #expect(
            report.total.all.cpuMillicoreSeconds == finance.all.cpuMillicoreSeconds + health.all.cpuMillicoreSeconds)
        #expect(report.total.borrowed.instanceSeconds == 3600)
    }

    @Test("leaving a node closes the interval; a switch to borrowed closes one and opens another")
    func intervalsClose() {
        var state = StoredState()
        var running = Self.instance("h1", ministry: "health", node: "n")
        running.assignedAt = Self.t0
        state.put(running)
        var lost = running
        lost.phase = .lost
        let end = Self.t0.addingTimeInterval(600)
        #expect(
            UsageAccounting.closed(by: [.putInstance(lost)], before: state, now: end)
                == [UsageAccounting.record(running, from: Self.t0, to: end)])
        var flipped = running
        flipped.guaranteed = false
        flipped.assignedAt = Self.t0.addingTimeInterval(300)
        let records = UsageAccounting.closed(
            by: [.putInstance(flipped), .deleteInstance("h1")], before: state, now: end)
        #expect(records.count == 2)
        #expect(records[0].guaranteed && records[0].to == Self.t0.addingTimeInterval(300))
        #expect(!records[1].guaranteed && records[1].from == Self.t0.addingTimeInterval(300) && records[1].to == end)
        #expect(UsageAccounting.closed(by: [.putInstance(running)], before: state, now: end).isEmpty)
    }

    @Test("GET /v1/usage answers JSON and CSV that Python's csv module reads; ministry roles see their own")
    func route() async throws {
        let h = try await Harness.make()
        try await h.test { (c: Client) async throws in
            let json = try await c.call(.get, "/v1/usage", token: "auditor")
            #expect(json.status == 200)
            #expect((json.json["items"] as? [[String: Any]])?.count == 2)
            let own = try await c.call(.get, "/v1/usage", token: "health-viewer")
            #expect((own.json["items"] as? [[String: Any]])?.map { $0["ministry"] as? String } == ["health"])
            #expect(try await c.call(.get, "/v1/usage?from=yesterday", token: "auditor").status == 400)
            #expect(
                try await c.call(
                    .get, "/v1/usage?from=2027-01-02T00:00:00Z&to=2027-01-01T00:00:00Z", token: "auditor"
                ).status == 400)
            let csv = try await c.call(
                .get, "/v1/usage?format=csv&from=2027-01-01T00:00:00Z&to=2027-02-01T00:00:00Z", token: "auditor")
            #expect(csv.status == 200)
            let check = """
                import csv, io, sys
                rows = list(csv.DictReader(io.StringIO(sys.stdin.read())))
                assert [r["ministry"] for r in rows] == ["finance", "health", "total"], rows
                assert [r["code"] for r in rows] == ["GOV-MOF", "GOV-MOH", ""], rows
                for unit in ["cpu_millicore_seconds", "memory_byte_seconds", "storage_byte_seconds", "instance_seconds"]:
                    assert int(rows[-1][unit]) == sum(int(r[unit]) for r in rows[:-1])
                    for r in rows:
                        assert int(r[unit]) == int(r["guaranteed_" + unit]) + int(r["borrowed_" + unit]), r
                print(len(rows))
                """
            let parsed = try await runProcess(
                URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", check], stdin: csv.body)
            #expect(parsed.status == 0, "\(parsed.stderr)")
            #expect(parsed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
        }
    }
}
