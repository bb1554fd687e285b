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
