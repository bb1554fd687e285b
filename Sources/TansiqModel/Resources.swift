/// A vector of the four resources a node offers and a quota bounds: cpu (millicores),
/// memory and storage (bytes), and instance slots.
///
/// On the wire it reads `{"cpu": "500m", "memory": "512Mi", "storage": "1Gi", "instances": 3}`:
/// quantities as canonical strings, `instances` as an integer.
public struct Resources: Sendable, Hashable, Codable {
    /// Millicores.
    public var cpuMillis: Int64
    /// Bytes.
    public var memoryBytes: Int64
    /// Bytes.
    public var storageBytes: Int64
    /// Instance slots.
    public var instances: Int64

    /// Creates a vector; every component defaults to zero.
    public init(cpuMillis: Int64 = 0, memoryBytes: Int64 = 0, storageBytes: Int64 = 0, instances: Int64 = 0) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.storageBytes = storageBytes
        self.instances = instances
    }

    /// The zero vector.
    public static let zero = Resources()

    /// The four dimensions in a fixed order, for code that treats them alike.
    public enum Dimension: String, CaseIterable, Sendable, Codable {
        case cpu, memory, storage, instances
    }

    /// The component of one dimension.
    public subscript(dimension: Dimension) -> Int64 {
        get {
            switch dimension {
            case .cpu: cpuMillis
            case .memory: memoryBytes
            case .storage: storageBytes
            case .instances: instances
            }
        }
        set {
            switch dimension {
            case .cpu: cpuMillis = newValue
            case .memory: memoryBytes = newValue
            case .storage: storageBytes = newValue
            case .instances: instances = newValue
            }
        }
    }

    /// Component-wise sum, saturating: a sum past `Int64.max` (the unlimited instance slots of many
    /// nodes, say) stays at `Int64.max` instead of trapping.
    public static func + (lhs: Resources, rhs: Resources) -> Resources {
        Resources(
            saturatingSum(lhs.cpuMillis, rhs.cpuMillis), saturatingSum(lhs.memoryBytes, rhs.memoryBytes),
            saturatingSum(lhs.storageBytes, rhs.storageBytes), saturatingSum(lhs.instances, rhs.instances))
    }

    /// Component-wise difference; components may go negative (a shortfall). Saturating, as `+`.
    public static func - (lhs: Resources, rhs: Resources) -> Resources {
        Resources(
            saturatingDifference(lhs.cpuMillis, rhs.cpuMillis),
            saturatingDifference(lhs.memoryBytes, rhs.memoryBytes),
            saturatingDifference(lhs.storageBytes, rhs.storageBytes),
            saturatingDifference(lhs.instances, rhs.instances))
    }

    @inline(__always)
    static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    @inline(__always)
    static func saturatingDifference(_ a: Int64, _ b: Int64) -> Int64 {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b < 0 ? .max : .min) : difference
    }

    @inline(__always)
    static func saturatingProduct(_ a: Int64, _ b: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? ((a < 0) != (b < 0) ? .min : .max) : product
    }

    /// Adds in place.
    public static func += (lhs: inout Resources, rhs: Resources) { lhs = lhs + rhs }
    /// Subtracts in place.
    public static func -= (lhs: inout Resources, rhs: Resources) { lhs = lhs - rhs }

    /// The vector scaled by a count (replicas × per-instance request), saturating as `+`.
    public func times(_ count: Int64) -> Resources {
        Resources(
            Self.saturatingProduct(cpuMillis, count), Self.saturatingProduct(memoryBytes, count),
            Self.saturatingProduct(storageBytes, count), Self.saturatingProduct(instances, count))
    }

    /// Component-wise minimum.
    public func clamped(to other: Resources) -> Resources {
        Resources(
            cpuMillis: min(cpuMillis, other.cpuMillis), memoryBytes: min(memoryBytes, other.memoryBytes),
            storageBytes: min(storageBytes, other.storageBytes), instances: min(instances, other.instances))
    }

    /// Component-wise maximum with zero: what is left when a difference went negative.
    public var nonNegative: Resources {
        Resources(max(cpuMillis, 0), max(memoryBytes, 0), max(storageBytes, 0), max(instances, 0))
    }

    /// True when every component is at most the other's.
    public func fits(in capacity: Resources) -> Bool {
        cpuMillis <= capacity.cpuMillis && memoryBytes <= capacity.memoryBytes
            && storageBytes <= capacity.storageBytes && instances <= capacity.instances
    }

    /// The dimensions in which this vector exceeds `capacity`.
    public func exceeded(in capacity: Resources) -> [Dimension] {
        Dimension.allCases.filter { self[$0] > capacity[$0] }
    }

    /// True when every component is zero.
    public var isZero: Bool { self == .zero }

    /// Dominant share: the largest fraction of `total` this vector takes in any dimension
    /// (dimensions where `total` is zero are ignored). 0 for an empty total.
    public func dominantShare(of total: Resources) -> Double {
        var share = 0.0
        for dimension in Dimension.allCases where total[dimension] > 0 {
            share = max(share, Double(self[dimension]) / Double(total[dimension]))
        }
        return share
    }

    private init(_ cpu: Int64, _ memory: Int64, _ storage: Int64, _ instances: Int64) {
        self.init(cpuMillis: cpu, memoryBytes: memory, storageBytes: storage, instances: instances)
    }
}

extension Resources {
    /// `cpu 2, memory 4Gi, storage 0, instances 3`: for sentences and pages.
    public var summary: String {
        "cpu \(Quantity.formatCPU(cpuMillis)), memory \(Quantity.formatBytes(memoryBytes)), "
            + "storage \(Quantity.formatBytes(storageBytes)), instances \(instances)"
    }
}

extension Resources: CustomStringConvertible {
    /// `cpu=500m memory=512Mi storage=0 instances=1`.
    public var description: String {
        "cpu=\(Quantity.formatCPU(cpuMillis)) memory=\(Quantity.formatBytes(memoryBytes)) "
            + "storage=\(Quantity.formatBytes(storageBytes)) instances=\(instances)"
    }
}

extension Resources {
    enum CodingKeys: String, CodingKey { case cpu, memory, storage, instances }

    /// Decodes the wire form; every key is required.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            cpuMillis: try c.decodeQuantity(.cpu, Quantity.parseCPU),
            memoryBytes: try c.decodeQuantity(.memory, Quantity.parseBytes),
            storageBytes: try c.decodeQuantity(.storage, Quantity.parseBytes),
            instances: try c.decode(Int64.self, forKey: .instances))
    }

    /// Encodes the wire form with canonical quantity strings.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Quantity.formatCPU(cpuMillis), forKey: .cpu)
        try c.encode(Quantity.formatBytes(memoryBytes), forKey: .memory)
        try c.encode(Quantity.formatBytes(storageBytes), forKey: .storage)
        try c.encode(instances, forKey: .instances)
    }
}

extension KeyedDecodingContainer {
    /// Decodes a quantity string with the given parser, turning its refusal into a `DecodingError`.
    func decodeQuantity(_ key: Key, _ parse: (String) throws(QuantityError) -> Int64) throws -> Int64 {
        let text = try decode(String.self, forKey: key)
        do { return try parse(text) } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: error.message)
        }
    }

    /// Decodes an optional quantity string.
    func decodeQuantityIfPresent(_ key: Key, _ parse: (String) throws(QuantityError) -> Int64) throws -> Int64? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeQuantity(key, parse)
    }
}
