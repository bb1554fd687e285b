import Foundation
import TansiqAPI
import TansiqModel

/// How tables name ministries: by name, or by display name in a language (`--lang`, `TANSIQ_LANG`).
struct MinistryNames: Sendable {
    var language: String?
    var display: [String: LocalizedName] = [:]

    /// The column text for ministry `name`.
    func callName(_ name: String?) -> String {
        guard let name else { return "-" }
        switch language {
        case "ar": return display[name]?.ar ?? name
        case "en": return display[name]?.en ?? name
        default: return name
        }
    }
}

/// An object `get` lists: its name, its table columns, and what `-o json|yaml` prints of it.
protocol Listed: Sendable {
    /// `node`, `application`, ... for `-o name`.
    static var kindName: String { get }
    /// The header of its table.
    static func header(wide: Bool) -> [String]
    /// Its name (for `get TYPE NAME` and `-o name`).
    var listName: String { get }
    /// Its row.
    func row(wide: Bool, names: MinistryNames) -> [String]
    /// What `-o json` and `-o yaml` print: the API's object, as a manifest document for the
    /// kinds that can be applied.
    var printable: any Encodable { get }
}

/// Table cells.
enum Cell {
    static func text(_ value: String?) -> String { value.flatMap { $0.isEmpty ? nil : $0 } ?? "-" }
    static func yes(_ value: Bool) -> String { value ? "yes" : "no" }
    static func time(_ date: Date?) -> String { date.map(RFC3339.format) ?? "-" }
    static func cpu(_ millis: Int64) -> String { Quantity.formatCPU(millis) }
    static func bytes(_ value: Int64) -> String { Quantity.formatBytes(value) }
    /// A fair-share weight as written (`1`, `2.5`).
    static func weight(_ weight: Double) -> String { String(format: "%g", weight) }
    /// A fair share, per mille.
    static func share(_ perMille: Int64) -> String { "\(perMille)‰" }
    static func short(_ digest: String?) -> String { digest.map { String($0.prefix(19)) } ?? "-" }
    static func limits(_ limits: ResourceLimits) -> String {
        [
            limits.cpuMillis.map { "cpu=\(cpu($0))" }, limits.memoryBytes.map { "memory=\(bytes($0))" },
            limits.storageBytes.map { "storage=\(bytes($0))" }, limits.instances.map { "instances=\($0)" },
        ].compactMap { $0 }.joined(separator: " ")
    }
}

extension Node: Listed {
    static var kindName: String { "node" }
    static func header(wide: Bool) -> [String] {
        ["NAME", "PHASE", "CORDONED", "CPU", "MEMORY", "ALLOCATED CPU", "ZONE", "ISOLATION"]
            + (wide ? ["ENFORCEMENT", "DATACENTRE", "TAINTS"] : [])
    }
    var listName: String { name }
    func row(wide: Bool, names: MinistryNames) -> [String] {
        [
            name, Output.phase(phase.rawValue), Cell.yes(cordoned), Cell.cpu(allocatable.cpuMillis),
            Cell.bytes(allocatable.memoryBytes), Cell.cpu(allocated.cpuMillis), Cell.text(labels["zone"]),
            isolation?.rawValue ?? "-",
        ]
            + (wide
                ? [
                    enforcement.rawValue, Cell.text(labels["datacentre"]),
                    Cell.text(taints.map { "\($0.key)=\($0.value):\($0.effect.rawValue)" }.joined(separator: ",")),
                ] : [])
    }
    var printable: any Encodable { self }
}

extension Application: Listed {
    static var kindName: String { "application" }
    static func header(wide: Bool) -> [String] {
        ["MINISTRY", "NAME", "READY", "UP-TO-DATE", "ROLLOUT", "PRIORITY"]
            + (wide ? ["GENERATION", "IMAGE", "DIGEST"] : [])
    }
    var listName: String { metadata.name }
    func row(wide: Bool, names: MinistryNames) -> [String] {
        [
            names.callName(metadata.ministry), metadata.name,
            "\(status?.ready ?? 0)/\(status?.desired ?? spec.replicas)", String(status?.updated ?? 0),
            Output.phase(status?.rollout ?? "-"), spec.priority.rawValue,
        ]
            + (wide
                ? [
                    String(metadata.generation ?? 1), Cell.text(spec.image), Cell.short(status?.imageDigest),
                ] : [])
    }
    var printable: any Encodable { document }
}

extension Instance: Listed {
    static var kindName: String { "instance" }
    static func header(wide: Bool) -> [String] {
        ["ID", "MINISTRY", "APPLICATION", "NODE", "PHASE", "GUARANTEED"]
            + (wide ? ["PORTS", "RESTARTS", "REASON CODE", "REASON"] : [])
    }
    var listName: String { id }
    func row(wide: Bool, names: MinistryNames) -> [String] {
        [
            id, names.callName(ministry), application, Cell.text(node), Output.phase(phase.rawValue),
            Cell.yes(guaranteed),
        ]
            + (wide
                ? [
                    Cell.text(ports.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")),
                    String(restarts), Cell.text(reasonCode?.rawValue), Cell.text(reason ?? message),
                ] : [])
    }
    var printable: any Encodable { self }
}

extension Ministry: Listed {
    static var kindName: String { "ministry" }
    static func header(wide: Bool) -> [String] {
        ["NAME", "CODE", "COHORT", "QUOTA CPU", "EFFECTIVE CPU", "ADMITTED CPU"]
            + (wide ? ["WEIGHT", "UID", "ENGLISH NAME", "ARABIC NAME"] : [])
    }
    var listName: String { metadata.name }
    func row(wide: Bool, names: MinistryNames) -> [String] {
        [
            names.language == nil ? metadata.name : names.callName(metadata.name), spec.code, Cell.text(spec.cohort),
            Cell.cpu(spec.quota.cpuMillis), Cell.cpu(status?.effectiveQuota.cpuMillis ?? spec.quota.cpuMillis),
            Cell.cpu(status?.admitted.cpuMillis ?? 0),
        ]
            + (wide
                ? [
                    Cell.weight(spec.weight), status?.runAs.map { String($0.uid) } ?? "-",
                    spec.displayName.en, spec.displayName.ar,
                ] : [])
    }
    var printable: any Encodable { document }
}

extension CapacityRequest: Listed {
    static var kindName: String { "capacityrequest" }
    static func header(wide: Bool) -> [String] {
        ["NAME", "MINISTRY", "PHASE", "REQUESTED BY", "DECIDED BY", "REASON"] + (wide ? ["ADD", "UNTIL"] : [])
    }
    var listName: String { metadata.name }
    func row(wide: Bool, names: MinistryNames) -> [String] {
        [
            metadata.name, names.callName(metadata.ministry), Output.phase(status?.phase.rawValue ?? "-"),
            Cell.text(status?.requestedBy), Cell.text(status?.decidedBy), spec.reason,
        ] + (wide ? [Cell.limits(spec.add), Cell.time(spec.until)] : [])
    }
    var printable: any Encodable { document }
}

extension TokenView: Listed {
    static var kindName: String { "token" }
    static func header(wide: Bool) -> [String] {
        ["ID", "SUBJECT", "ROLE", "MINISTRY", "EXPIRES", "REVOKED"] + (wide ? ["CREATED", "CREATED BY"] : [])
    }
    var listName: String { id }
    func row(wide: Bool, names: MinistryNames) -> [String] {
        [id, subject, role.rawValue, names.callName(ministry), Cell.time(expiresAt), Cell.time(revokedAt)]
            + (wide ? [Cell.time(createdAt), createdBy] : [])
    }
    var printable: any Encodable { self }
}

/// Aligned columns, two spaces apart (colour codes take no width).
enum Table {
    static func render(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        let widths = header.indices.map { column in
            rows.map { $0.indices.contains(column) ? visibleWidth($0[column]) : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1
                    ? cell : cell + String(repeating: " ", count: max(0, widths[index] - visibleWidth(cell)))
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// Characters shown, without ANSI colour sequences.
    static func visibleWidth(_ text: String) -> Int {
        var width = 0
        var escaping = false
        for character in text {
            if character == "\u{1b}" {
                escaping = true
            } else if escaping {
                if character == "m" { escaping = false }
            } else {
                width += 1
            }
        }
        return width
    }
}
