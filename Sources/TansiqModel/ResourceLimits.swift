/// A partial resource vector: a borrowing or lending limit, or the increase a capacity request
/// asks for. A dimension it does not name is not limited (for limits) or not changed (for requests).
public struct ResourceLimits: Sendable, Hashable, Codable {
    /// Millicores, or nil when not named.
    public var cpuMillis: Int64?
    /// Bytes, or nil when not named.
    public var memoryBytes: Int64?
    /// Bytes, or nil when not named.
    public var storageBytes: Int64?
    /// Instance slots, or nil when not named.
    public var instances: Int64?

    /// Creates a partial vector; unnamed dimensions are nil.
    public init(cpuMillis: Int64? = nil, memoryBytes: Int64? = nil, storageBytes: Int64? = nil, instances: Int64? = nil)
    {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.storageBytes = storageBytes
        self.instances = instances
    }

    /// The component of one dimension, nil when not named.
    public subscript(dimension: Resources.Dimension) -> Int64? {
        switch dimension {
        case .cpu: cpuMillis
        case .memory: memoryBytes
        case .storage: storageBytes
        case .instances: instances
        }
    }

    /// True when no dimension is named.
    public var isEmpty: Bool { cpuMillis == nil && memoryBytes == nil && storageBytes == nil && instances == nil }

    /// The named dimensions as a full vector, with `unnamed` for the others
    /// (zero to add a request, a large value to read an absent limit as "unlimited").
    public func filled(with unnamed: Resources) -> Resources {
        Resources(
            cpuMillis: cpuMillis ?? unnamed.cpuMillis, memoryBytes: memoryBytes ?? unnamed.memoryBytes,
            storageBytes: storageBytes ?? unnamed.storageBytes, instances: instances ?? unnamed.instances)
    }

    enum CodingKeys: String, CodingKey { case cpu, memory, storage, instances }

    /// Decodes the wire form; absent keys are unnamed dimensions.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            cpuMillis: try c.decodeQuantityIfPresent(.cpu, Quantity.parseCPU),
            memoryBytes: try c.decodeQuantityIfPresent(.memory, Quantity.parseBytes),
            storageBytes: try c.decodeQuantityIfPresent(.storage, Quantity.parseBytes),
            instances: try c.decodeIfPresent(Int64.self, forKey: .instances))
    }

    /// Encodes only the named dimensions, quantities in canonical form.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(cpuMillis.map(Quantity.formatCPU), forKey: .cpu)
        try c.encodeIfPresent(memoryBytes.map(Quantity.formatBytes), forKey: .memory)
        try c.encodeIfPresent(storageBytes.map(Quantity.formatBytes), forKey: .storage)
        try c.encodeIfPresent(instances, forKey: .instances)
    }
}

/// What one instance of an application asks for: cpu and memory (required in manifests) and storage
/// (default 0). It takes one instance slot.
public struct ResourceRequest: Sendable, Hashable, Codable {
    /// Millicores.
    public var cpuMillis: Int64
    /// Bytes.
    public var memoryBytes: Int64
    /// Bytes.
    public var storageBytes: Int64

    /// Creates a request.
    public init(cpuMillis: Int64, memoryBytes: Int64, storageBytes: Int64 = 0) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.storageBytes = storageBytes
    }

    /// The request as a vector, counting one instance slot.
    public var vector: Resources {
        Resources(cpuMillis: cpuMillis, memoryBytes: memoryBytes, storageBytes: storageBytes, instances: 1)
    }

    enum CodingKeys: String, CodingKey { case cpu, memory, storage }

    /// Decodes the wire form; `storage` may be absent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            cpuMillis: try c.decodeQuantity(.cpu, Quantity.parseCPU),
            memoryBytes: try c.decodeQuantity(.memory, Quantity.parseBytes),
            storageBytes: try c.decodeQuantityIfPresent(.storage, Quantity.parseBytes) ?? 0)
    }

    /// Encodes canonical quantity strings.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Quantity.formatCPU(cpuMillis), forKey: .cpu)
        try c.encode(Quantity.formatBytes(memoryBytes), forKey: .memory)
        try c.encode(Quantity.formatBytes(storageBytes), forKey: .storage)
    }
}
