import Foundation
import TansiqAPI
import TansiqModel
import TansiqStore

/// Showback: an instance accrues its requested resources from its assignment until it leaves
/// its node (marked Lost, preempted, or removed), guaranteed and borrowed apart. Closed intervals
/// are stored with the change that closes them; open ones are read off the live instances.
enum UsageAccounting {
    /// True while an instance accrues: placed, not given up, with its interval's start.
    static func accruing(_ instance: Instance) -> Bool { Registry.isAssigned(instance) && instance.assignedAt != nil }

    static func record(_ instance: Instance, from: Date, to: Date) -> UsageRecord {
        UsageRecord(
            ministry: instance.ministry, application: instance.application, instance: instance.id,
            guaranteed: instance.guaranteed, from: from, to: max(from, to), cpuMillis: instance.resources.cpuMillis,
            memoryBytes: instance.resources.memoryBytes, storageBytes: instance.resources.storageBytes)
    }

    /// The intervals `mutations`, applied in order to `before` at `now`, close: an instance that
    /// stops accruing closes at `now`; one whose interval restarts (guaranteed became borrowed
    /// or back) closes where the new one starts.
    static func closed(by mutations: [Mutation], before: StoredState, now: Date) -> [UsageRecord] {
        var current: [String: Instance] = [:]
        var records: [UsageRecord] = []
        func old(_ id: String) -> Instance? { current[id] ?? before.instances[id] }
        for mutation in mutations {
            switch mutation {
            case .putInstance(let after):
                if let previous = old(after.id), accruing(previous), let start = previous.assignedAt {
                    if !accruing(after) {
                        records.append(record(previous, from: start, to: now))
                    } else if after.assignedAt != start || after.guaranteed != previous.guaranteed {
                        records.append(record(previous, from: start, to: after.assignedAt ?? now))
                    }
                }
                current[after.id] = after
            case .deleteInstance(let id):
                if let previous = old(id), accruing(previous), let start = previous.assignedAt {
                    records.append(record(previous, from: start, to: now))
                }
            default:
                break
            }
        }
        return records
    }
}

extension UsageReport.Amounts {
    /// Adds a folded day's exact sums.
    mutating func add(_ day: UsageDay) {
        cpuMillicoreSeconds += day.cpuMillicoreSeconds
        memoryByteSeconds += day.memoryByteSeconds
        storageByteSeconds += day.storageByteSeconds
        instanceSeconds += day.instanceSeconds
        hours()
    }

    mutating func add(_ other: Self) {
        cpuMillicoreSeconds += other.cpuMillicoreSeconds
        memoryByteSeconds += other.memoryByteSeconds
        storageByteSeconds += other.storageByteSeconds
        instanceSeconds += other.instanceSeconds
        hours()
    }

    /// Adds `seconds` of one instance's request: whole seconds times integer units, exact
    /// (decimal arithmetic: no product overflows, whatever the sizes and the period).
    mutating func add(seconds: Int64, cpuMillis: Int64, memoryBytes: Int64, storageBytes: Int64) {
        let time = Decimal(seconds)
        cpuMillicoreSeconds += Decimal(cpuMillis) * time
        memoryByteSeconds += Decimal(memoryBytes) * time
        storageByteSeconds += Decimal(storageBytes) * time
        instanceSeconds += time
        hours()
    }

    private mutating func hours() {
        func double(_ value: Decimal) -> Double { NSDecimalNumber(decimal: value).doubleValue }
        cpuCoreHours = double(cpuMillicoreSeconds) / 1000 / 3600
        memoryGiBHours = double(memoryByteSeconds) / Double(1 << 30) / 3600
        storageGiBHours = double(storageByteSeconds) / Double(1 << 30) / 3600
        instanceHours = double(instanceSeconds) / 3600
    }
}

extension UsageReport {
    /// The report over `[from, to)` of closed `records`, of the `days` they were folded into
    /// once past the usage detail, and of the intervals still open on `instances` at `now`, for
    /// `ministries` (every one listed, zeros included). A day that lies whole in the period counts
    /// whole, exactly as its intervals did; a period that cuts a folded day gets the day's sums in
    /// proportion to the seconds it covers, rounded down.
    static func compute(
        ministries: [String], records: [UsageRecord], days: [UsageDay] = [], instances: [Instance], from: Date,
        to: Date, now: Date
    ) -> UsageReport {
        var guaranteed: [String: Amounts] = [:]
        var borrowed: [String: Amounts] = [:]
        // Whole seconds: every product is an exact integer, and a period split in two adds up.
        func sec(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
        func add(_ record: UsageRecord) {
            let overlap = min(sec(record.to), sec(to)) - max(sec(record.from), sec(from))
            guard overlap > 0 else { return }
            if record.guaranteed {
                guaranteed[record.ministry, default: Amounts()].add(
                    seconds: overlap, cpuMillis: record.cpuMillis, memoryBytes: record.memoryBytes,
                    storageBytes: record.storageBytes)
            } else {
                borrowed[record.ministry, default: Amounts()].add(
                    seconds: overlap, cpuMillis: record.cpuMillis, memoryBytes: record.memoryBytes,
                    storageBytes: record.storageBytes)
            }
        }
        records.forEach(add)
        for day in days {
            let covered = min(day.day + UsageDay.seconds, sec(to)) - max(day.day, sec(from))
            guard covered > 0 else { continue }
            var part = day
            if covered < UsageDay.seconds {
                func share(_ value: Decimal) -> Decimal {
                    var exact = value * Decimal(covered) / Decimal(UsageDay.seconds)
                    var whole = Decimal()
                    NSDecimalRound(&whole, &exact, 0, .down)
                    return whole
                }
                part.cpuMillicoreSeconds = share(day.cpuMillicoreSeconds)
                part.memoryByteSeconds = share(day.memoryByteSeconds)
                part.storageByteSeconds = share(day.storageByteSeconds)
                part.instanceSeconds = share(day.instanceSeconds)
            }
            var amounts = Amounts()
            amounts.add(part)
            if day.guaranteed {
                guaranteed[day.ministry, default: Amounts()].add(amounts)
            } else {
                borrowed[day.ministry, default: Amounts()].add(amounts)
            }
        }
        for instance in instances where UsageAccounting.accruing(instance) {
            add(UsageAccounting.record(instance, from: instance.assignedAt!, to: now))
        }
        var total = Item(
            ministry: "total", cpuCoreHours: 0, memoryGiBHours: 0, storageGiBHours: 0, instanceHours: 0, all: Amounts(),
            guaranteed: Amounts(), borrowed: Amounts())
        let items = ministries.sorted().map { ministry in
            var all = guaranteed[ministry] ?? Amounts()
            all.add(borrowed[ministry] ?? Amounts())
            total.all.add(all)
            total.guaranteed.add(guaranteed[ministry] ?? Amounts())
            total.borrowed.add(borrowed[ministry] ?? Amounts())
            return Item(
                ministry: ministry, cpuCoreHours: all.cpuCoreHours, memoryGiBHours: all.memoryGiBHours,
                storageGiBHours: all.storageGiBHours, instanceHours: all.instanceHours, all: all,
                guaranteed: guaranteed[ministry] ?? Amounts(), borrowed: borrowed[ministry] ?? Amounts())
        }
        total.cpuCoreHours = total.all.cpuCoreHours
        total.memoryGiBHours = total.all.memoryGiBHours
        total.storageGiBHours = total.all.storageGiBHours
        total.instanceHours = total.all.instanceHours
        return UsageReport(from: from, to: to, items: items, total: total)
    }

    /// The report as CSV: a header row, a row per ministry (with its government code from
    /// `codes`), and a `total` row; every resource in all, guaranteed and borrowed.
    func csv(codes: [String: String]) -> String {
        let units = ["cpu_millicore_seconds", "memory_byte_seconds", "storage_byte_seconds", "instance_seconds"]
        let header =
            ["ministry", "code", "cpu_core_hours", "memory_gib_hours", "storage_gib_hours", "instance_hours"]
            + units + units.map { "guaranteed_" + $0 } + units.map { "borrowed_" + $0 }
        func exact(_ amounts: Amounts) -> [String] {
            [
                amounts.cpuMillicoreSeconds, amounts.memoryByteSeconds, amounts.storageByteSeconds,
                amounts.instanceSeconds,
            ].map { "\($0)" }
        }
        let rows = (items + [total]).map { item in
            ([
                item.ministry, codes[item.ministry] ?? "", String(format: "%.6f", item.cpuCoreHours),
                String(format: "%.6f", item.memoryGiBHours), String(format: "%.6f", item.storageGiBHours),
                String(format: "%.6f", item.instanceHours),
            ] + exact(item.all) + exact(item.guaranteed) + exact(item.borrowed)).joined(separator: ",")
        }
        return ([header.joined(separator: ",")] + rows).joined(separator: "\n") + "\n"
    }
}
