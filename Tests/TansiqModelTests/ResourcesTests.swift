import Foundation
import Testing

@testable import TansiqModel

@Suite("Resource vectors")
struct ResourcesTests {
    let node = Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 100 << 30, instances: 10)

    @Test("adding and subtracting are component-wise")
    func arithmetic() {
        let a = Resources(cpuMillis: 500, memoryBytes: 1 << 30, storageBytes: 0, instances: 1)
        let sum = a + a
        #expect(sum == Resources(cpuMillis: 1000, memoryBytes: 2 << 30, storageBytes: 0, instances: 2))
        #expect(sum - a == a)
        #expect(a.times(3) == a + a + a)
        #expect((a - sum).nonNegative == .zero)
    }

    @Test("sums, differences and products saturate at the ends of Int64 instead of trapping")
    func saturation() {
        let huge = Resources(cpuMillis: 1 << 62, memoryBytes: 1 << 62, storageBytes: 1 << 62, instances: 1 << 62)
        let top = Resources(cpuMillis: .max, memoryBytes: .max, storageBytes: .max, instances: .max)
        let bottom = Resources(cpuMillis: .min, memoryBytes: .min, storageBytes: .min, instances: .min)
        #expect(huge + huge == top)
        #expect(huge.times(4) == top)
        #expect(huge.times(-4) == bottom)
        #expect(Resources.zero - huge - huge - huge == bottom)
        #expect(huge - (Resources.zero - huge - huge) == top)
        // Near the ends, exact values stay exact.
        #expect(
            top - Resources(cpuMillis: 1, memoryBytes: 1, storageBytes: 1, instances: 1)
                + Resources(cpuMillis: 1, memoryBytes: 1, storageBytes: 1, instances: 1) == top)
        // 26,000 nodes of unlimited slots add up to unlimited, not to a trap.
        let nodes = Array(repeating: Resources(cpuMillis: 96_000, instances: 1 << 56), count: 26_000)
        let total = nodes.reduce(Resources.zero, +)
        #expect(total.cpuMillis == 96_000 * 26_000)
        #expect(total.instances == .max)
    }

    @Test("a request fits only when every dimension fits")
    func fits() {
        #expect(Resources(cpuMillis: 4000, memoryBytes: 8 << 30, storageBytes: 0, instances: 10).fits(in: node))
        #expect(!Resources(cpuMillis: 4001).fits(in: node))
        #expect(!Resources(instances: 11).fits(in: node))
        #expect(Resources(cpuMillis: 5000, instances: 11).exceeded(in: node) == [.cpu, .instances])
    }

    @Test("dominant share is the largest fraction in any dimension, ignoring empty ones")
    func dominantShare() {
        let use = Resources(cpuMillis: 1000, memoryBytes: 4 << 30, storageBytes: 0, instances: 1)
        #expect(use.dominantShare(of: node) == 0.5)
        #expect(use.dominantShare(of: Resources(cpuMillis: 2000)) == 0.5)
        #expect(use.dominantShare(of: .zero) == 0)
    }

    @Test("partial limits fill unnamed dimensions")
    func limits() {
        let limits = ResourceLimits(cpuMillis: 500)
        #expect(limits.filled(with: .zero) == Resources(cpuMillis: 500))
        #expect(limits.filled(with: node).memoryBytes == node.memoryBytes)
        #expect(ResourceLimits().isEmpty)
    }

    @Test("the wire form uses canonical quantity strings and round-trips")
    func wire() throws {
        let value = Resources(cpuMillis: 500, memoryBytes: 512 << 20, storageBytes: 1 << 30, instances: 3)
        let json = String(decoding: try JSONEncoder.sorted.encode(value), as: UTF8.self)
        #expect(json == #"{"cpu":"500m","instances":3,"memory":"512Mi","storage":"1Gi"}"#)
        #expect(try JSONDecoder().decode(Resources.self, from: Data(json.utf8)) == value)
        let bad = #"{"cpu":"-1","instances":3,"memory":"512Mi","storage":"1Gi"}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Resources.self, from: Data(bad.utf8)) }
        let partial = #"{"cpu":"2"}"#
        #expect(
            try JSONDecoder().decode(ResourceLimits.self, from: Data(partial.utf8)) == ResourceLimits(cpuMillis: 2000))
    }

    @Test("every kind round-trips through JSON")
    func kindsRoundTrip() throws {
        let app = Application(
            metadata: ObjectMeta(name: "e-payment", ministry: "finance", labels: ["tier": "national"]),
            spec: ApplicationSpec(
                replicas: 3, priority: .critical, resources: ResourceRequest(cpuMillis: 250, memoryBytes: 256 << 20),
                run: RunSpec(command: ["/bin/true"], env: ["A": "b"]), ports: [PortSpec(name: "http")],
                health: HealthCheck(probe: .http(path: "/healthz", port: "http")),
                placement: Placement(tolerations: [Toleration(key: "dedicated", effect: .noSchedule)], spread: "zone"),
                stopAfterDisconnect: .minutes(1)))
        #expect(try roundTrip(app) == app)
        let ministry = Ministry(
            metadata: ObjectMeta(name: "health"),
            spec: MinistrySpec(
                code: "GOV-MOH", displayName: LocalizedName(en: "Health", ar: "الصحة"),
                quota: Resources(cpuMillis: 16000, memoryBytes: 64 << 30, storageBytes: 1 << 40, instances: 100),
                cohort: "shared", borrowingLimit: ResourceLimits(cpuMillis: 8000)),
            status: MinistryStatus(effectiveQuota: Resources(cpuMillis: 16000)))
        #expect(try roundTrip(ministry) == ministry)
        let request = CapacityRequest(
            metadata: ObjectMeta(name: "health-2027", ministry: "health"),
            spec: CapacityRequestSpec(
                add: ResourceLimits(cpuMillis: 2000), reason: "season",
                until: Date(timeIntervalSince1970: 1_800_000_000)),
            status: CapacityRequestStatus(phase: .pending, requestedBy: "alice"))
        #expect(try roundTrip(request) == request)
        let node = Node(
            name: "n1", agentLabels: ["zone": "a"], operatorLabels: ["zone": "b"],
            taints: [Taint(key: "k", effect: .noExecute)],
            capacity: node)
        #expect(node.labels["zone"] == "b")
        #expect(try roundTrip(node) == node)
        let instance = Instance(
            id: "i-1", ministry: "finance", application: "e-payment",
            resources: ResourceRequest(cpuMillis: 1, memoryBytes: 1))
        #expect(try roundTrip(instance) == instance)
    }

    private func roundTrip<T: Codable>(_ value: T) throws -> T {
        try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(value))
    }
}

@Suite("Names")
struct NamesTests {
    @Test(
        "DNS labels",
        arguments: [
            ("health", true), ("e-payment", true), ("a", true), ("-a", false), ("a-", false), ("A", false),
            ("a_b", false), ("", false), (String(repeating: "a", count: 63), true),
            (String(repeating: "a", count: 64), false),
        ])
    func dnsLabels(name: String, valid: Bool) {
        #expect(Names.isDNSLabel(name) == valid)
    }

    @Test(
        "government codes",
        arguments: [
            ("GOV-MOH", true), ("GOV-MOI-CR", true), ("SY-12", true), ("G-MOH", false), ("GOV", false),
            ("gov-moh", false), ("GOV-M", false), ("GOVERNMEN-MOH", false), ("GOV-MOH-", false),
        ])
    func governmentCodes(code: String, valid: Bool) {
        #expect(Names.isGovernmentCode(code) == valid)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

@Suite("RFC 3339 times")
struct RFC3339Tests {
    @Test("formatting by hand agrees with Foundation's formatter across eras, leap years and fractions")
    func formattingAgrees() {
        let foundation = ISO8601DateFormatter()
        foundation.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var seed: UInt64 = 42
        for _ in 0..<5000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // From 1901 to 2099, whole milliseconds.
            let millis = Int64(bitPattern: seed >> 1) % 6_238_000_000_000 - 2_177_000_000_000
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            #expect(RFC3339.formatMilliseconds(date) == foundation.string(from: date), "\(millis)")
            let text = RFC3339.formatMilliseconds(date)
            #expect(RFC3339.parse(text).map(RFC3339.formatMilliseconds) == text)
        }
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400.499)) == "2000-02-29T00:00:00Z")
        #expect(RFC3339.formatMilliseconds(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        // The ends of the years written digit by digit, and the general form past them.
        #expect(RFC3339.formatMilliseconds(Date(timeIntervalSince1970: -62_167_219_200)) == "0000-01-01T00:00:00.000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 253_402_300_799)) == "9999-12-31T23:59:59Z")
        #expect(RFC3339.formatMilliseconds(Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
    }
}

@Suite("RFC 3339 parsing")
struct RFC3339ParsingTests {
    @Test("the hand-written reader agrees with Foundation's parser: offsets, fractions, leap days, eras")
    func readerAgrees() {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var seed: UInt64 = 7
        for _ in 0..<5000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let millis = Int64(bitPattern: seed >> 1) % 6_238_000_000_000 - 2_177_000_000_000
            let base = RFC3339.formatMilliseconds(Date(timeIntervalSince1970: Double(millis) / 1000))
            let offset = Int(seed % 1440) - 720
            let sign = offset < 0 ? "-" : "+"
            let zone = String(format: "%@%02d:%02d", sign, abs(offset) / 60, abs(offset) % 60)
            let digits = Int(seed >> 40) % 4
            var text = String(base.prefix(19))
            if digits > 0 { text += "." + String(base.dropFirst(20).prefix(digits)) }
            text += seed % 3 == 0 ? "Z" : zone
            let fast = RFC3339.parseCommon(text)
            let reference = plain.date(from: text) ?? fractional.date(from: text)
            #expect(fast != nil, "\(text)")
            #expect(
                abs((fast?.timeIntervalSince1970 ?? 0) - (reference?.timeIntervalSince1970 ?? 1)) < 0.000_5,
                "\(text): \(String(describing: fast)) vs \(String(describing: reference))")
        }
        // What formatMilliseconds writes reads back as the same Date, bit for bit.
        let exact = Date(timeIntervalSince1970: Double(1_800_000_000_125) / 1000)
        #expect(RFC3339.parse(RFC3339.formatMilliseconds(exact)) == exact)
        // The rest is Foundation's to judge: refused or read as before.
        for text in [
            "2027-02-29T00:00:00Z", "2027-13-01T00:00:00Z", "2027-06-30T24:00:00Z", "2027-06-30 00:00:00Z",
            "2027-06-30T00:00:00", "2027-06-30T00:00:00.Z", "2027-6-30T00:00:00Z",
        ] {
            #expect(RFC3339.parseCommon(text) == nil, "\(text)")
            #expect(RFC3339.parse(text) == (plain.date(from: text) ?? fractional.date(from: text)), "\(text)")
        }
        #expect(RFC3339.parse("2024-02-29T12:30:15.5+02:00")?.timeIntervalSince1970 == 1_709_202_615.5)
    }
}
