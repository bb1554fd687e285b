import Foundation

/// The JSON coders of the wire and of the store: RFC 3339 times with milliseconds, sorted keys
/// (so equal values encode to equal bytes).
public enum WireJSON {
    /// An encoder for API bodies and stored objects.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(RFC3339.formatMilliseconds(date))
        }
        return encoder
    }

    /// A decoder that reads what `encoder()` writes, and RFC 3339 times with any offset.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        return decoder
    }
}

/// A value that writes its own wire JSON — byte for byte what `WireJSON.encoder()` writes (sorted
/// keys, slashes unescaped, times in RFC 3339 with milliseconds) — without going through
/// `Encoder`: the store writes one for every instance placed, and Foundation's encoder spent more
/// time on them than anything else in the controller.
public protocol WireJSONWriting: Encodable {
    /// Appends the value's JSON to `out`.
    func writeWireJSON(_ out: inout WireJSONWriter)
}

extension WireJSON {
    /// `value`'s JSON: written directly when it can be, else by `encoder` (only then made).
    public static func encode<T: Encodable>(_ value: T, with encoder: @autoclosure () -> JSONEncoder) throws -> Data {
        guard let direct = value as? any WireJSONWriting else { return try encoder().encode(value) }
        var writer = WireJSONWriter()
        direct.writeWireJSON(&writer)
        return Data(writer.bytes)
    }
}

/// Writes JSON members in the order it is given them: callers give keys already sorted.
public struct WireJSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var first = [true]

    public init() { bytes.reserveCapacity(512) }

    /// `{`, members, `}`.
    public mutating func object(_ body: (inout WireJSONWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        first.append(true)
        body(&self)
        first.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    /// A comma before every member but an object's first.
    private mutating func separate() {
        if first[first.count - 1] {
            first[first.count - 1] = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
    }

    private mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func key(_ name: String) {
        separate()
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    /// A string member, `null` when nil.
    public mutating func memberOrNull(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { string(value) } else { bytes.append(contentsOf: "null".utf8) }
    }

    /// A string member, left out when nil.
    public mutating func memberIfPresent(_ name: StaticString, _ value: String?) {
        if let value { member(name, value) }
    }

    public mutating func member(_ name: StaticString, _ value: Int64) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func member(_ name: StaticString, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func memberIfPresent(_ name: StaticString, _ value: Date?) {
        if let value { member(name, RFC3339.formatMilliseconds(value)) }
    }

    /// An object member of integers, its keys sorted.
    public mutating func member(_ name: StaticString, _ value: [String: Int]) {
        key(name)
        object { writer in
            for (key, number) in Self.sortedKeys(value) {
                writer.key(key)
                writer.bytes.append(contentsOf: String(number).utf8)
            }
        }
    }

    /// An object member.
    public mutating func member(_ name: StaticString, object body: (inout WireJSONWriter) -> Void) {
        key(name)
        object(body)
    }

    /// A member whose value `body` writes (an object or array of its own).
    public mutating func memberValue(_ name: StaticString, _ body: (inout WireJSONWriter) -> Void) {
        key(name)
        body(&self)
    }

    /// A member whose key is data (a map's key), its value written by `body`.
    public mutating func member(key name: String, _ body: (inout WireJSONWriter) -> Void) {
        key(name)
        body(&self)
    }

    /// An array member, each element written by `element`.
    public mutating func member<T>(_ name: StaticString, array: [T], _ element: (inout WireJSONWriter, T) -> Void) {
        key(name)
        self.array(array, element)
    }

    /// An array member of strings.
    public mutating func member(_ name: StaticString, strings: [String]) {
        member(name, array: strings) { $0.value($1) }
    }

    /// `[`, elements, `]`.
    public mutating func array<T>(_ elements: [T], _ element: (inout WireJSONWriter, T) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            element(&self, value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A string value (an array element, a map member's value).
    public mutating func value(_ text: String) { string(text) }

    /// A map's members in the order `.sortedKeys` gives them (by their UTF-8 bytes).
    public static func sortedKeys<Value>(_ map: [String: Value]) -> [(key: String, value: Value)] {
        map.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// A resource request: `{"cpu": …, "memory": …, "storage": …}` in their canonical quantities.
    public mutating func member(_ name: StaticString, resources: ResourceRequest) {
        member(name) { r in
            r.member("cpu", Quantity.formatCPU(resources.cpuMillis))
            r.member("memory", Quantity.formatBytes(resources.memoryBytes))
            r.member("storage", Quantity.formatBytes(resources.storageBytes))
        }
    }

    /// A JSON string: quote, backslash and control characters escaped as Foundation does.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case 0x08: bytes.append(contentsOf: #"\b"#.utf8)
            case 0x0C: bytes.append(contentsOf: #"\f"#.utf8)
            case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
            case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
            case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
