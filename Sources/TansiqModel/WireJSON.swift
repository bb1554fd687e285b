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

extension RFC3339 {
    /// Formats in UTC with milliseconds: `2027-06-30T00:00:00.125Z`.
    public static func formatMilliseconds(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// `date` rounded down to whole milliseconds: what survives a trip through the wire.
    public static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
