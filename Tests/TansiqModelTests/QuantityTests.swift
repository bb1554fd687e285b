import Testing

@testable import TansiqModel

@Suite("Quantities")
struct QuantityTests {
    @Test(
        "cpu quantities parse to exact millicores",
        arguments: [
            ("2", 2000), ("0.5", 500), ("500m", 500), ("0", 0), ("1.5", 1500), ("0.001", 1), ("250m", 250),
            ("1.250", 1250), ("0m", 0), ("007", 7000), ("96", 96_000), ("100000m", 100_000),
        ] as [(String, Int64)])
    func cpuParses(text: String, millis: Int64) throws {
        #expect(try Quantity.parseCPU(text) == millis)
    }

    @Test(
        "cpu quantities that are negative, garbage, too fine or too large are refused",
        arguments: [
            ("-1", "must not be negative"), ("", "is empty"), ("abc", "is not a cpu quantity"),
            ("1.5m", "finer than one millicore"), ("0.0005", "finer than one millicore"),
            ("2Gi", "unknown cpu suffix"), ("1e3", "is not a cpu quantity"), ("1..2", "is not a cpu quantity"),
            (".5", "is not a cpu quantity"), ("5.", "is not a cpu quantity"), (" 2", "is not a cpu quantity"),
            ("99999999999999999999", "too large"), ("9223372036854775807", "too large"),
            ("m", "is not a cpu quantity"), ("2 m", "is not a cpu quantity"),
        ])
    func cpuRefuses(text: String, reason: String) {
        #expect {
            try Quantity.parseCPU(text)
        } throws: { error in
            (error as? QuantityError)?.message.contains(reason) == true
        }
    }

    @Test(
        "byte quantities parse to exact bytes",
        arguments: [
            ("512Mi", 512 << 20), ("1G", 1_000_000_000), ("1.5Gi", 3 << 29), ("4Gi", 4 << 30), ("1Ti", 1 << 40),
            ("1024", 1024), ("0", 0), ("1k", 1000), ("1Ki", 1024), ("0.5Ki", 512), ("1.50Gi", 3 << 29),
            ("7Ei", 7 << 60),
            ("2.5M", 2_500_000), ("1E", 1_000_000_000_000_000_000),
        ] as [(String, Int64)])
    func bytesParse(text: String, bytes: Int64) throws {
        #expect(try Quantity.parseBytes(text) == bytes)
    }

    @Test(
        "byte quantities that are negative, garbage, fractional bytes or overflow are refused",
        arguments: [
            ("-512Mi", "must not be negative"), ("12Qi", "unknown suffix"), ("1.5", "finer than one byte"),
            ("0.1Ki", "finer than one byte"), ("lots", "is not a byte quantity"), ("8Ei", "too large"),
            ("10E", "too large"), ("1mi", "unknown suffix"), ("1m", "unknown suffix"), ("Gi", "is not a byte"),
            ("1 Gi", "is not a byte"), ("1K", "unknown suffix"),
        ])
    func bytesRefuse(text: String, reason: String) {
        #expect {
            try Quantity.parseBytes(text)
        } throws: { error in
            (error as? QuantityError)?.message.contains(reason) == true
        }
    }

    @Test(
        "canonical forms are whole cores or millicores, and the largest exact byte suffix",
        arguments: [
            (Int64(2000), "2"), (500, "500m"), (0, "0"), (1500, "1500m"), (1, "1m"),
        ])
    func cpuCanonical(millis: Int64, text: String) {
        #expect(Quantity.formatCPU(millis) == text)
    }

    @Test(
        "byte canonical form prefers binary, then decimal, then plain",
        arguments: [
            (Int64(512) << 20, "512Mi"), (1_000_000_000, "1G"), (3 << 29, "1536Mi"), (1024, "1Ki"), (1000, "1k"),
            (1001, "1001"), (0, "0"), (1 << 40, "1Ti"), (1_500_000, "1500k"), (1 << 60, "1Ei"),
        ])
    func bytesCanonical(bytes: Int64, text: String) {
        #expect(Quantity.formatBytes(bytes) == text)
    }

    @Test("parse and format round-trip for every written form and every value")
    func roundTrip() throws {
        for text in ["500m", "0.5", "2", "1.5", "250m", "0.001"] {
            let millis = try Quantity.parseCPU(text)
            #expect(try Quantity.parseCPU(Quantity.formatCPU(millis)) == millis)
        }
        for text in ["512Mi", "1G", "1.5Gi", "4Gi", "1Ti", "1024", "1k", "2.5M", "7Ei"] {
            let bytes = try Quantity.parseBytes(text)
            #expect(try Quantity.parseBytes(Quantity.formatBytes(bytes)) == bytes)
        }
        // A deterministic sweep over awkward values, including the extremes.
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        var values: [Int64] = [0, 1, 999, 1000, 1001, 1023, 1024, Int64.max, Int64.max - 1, 1 << 62]
        for _ in 0..<2000 {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            values.append(Int64(x >> UInt64(1 + x % 62)))
        }
        for value in values {
            #expect(try Quantity.parseBytes(Quantity.formatBytes(value)) == value, "bytes \(value)")
            #expect(try Quantity.parseCPU(Quantity.formatCPU(value)) == value, "millicores \(value)")
        }
    }
}

@Suite("Durations")
struct SpanTests {
    @Test(
        "durations parse to milliseconds",
        arguments: [
            ("500ms", 500), ("5s", 5000), ("2m", 120_000), ("1h", 3_600_000), ("1h30m", 5_400_000), ("0s", 0),
        ] as [(String, Int64)])
    func parses(text: String, ms: Int64) throws {
        #expect(try Span.parse(text).milliseconds == ms)
    }

    @Test("bad durations are refused", arguments: ["", "5", "-5s", "5d", "s", "1.5s", "5 s", "99999999999999999h"])
    func refuses(text: String) {
        #expect(throws: QuantityError.self) { try Span.parse(text) }
    }

    @Test("canonical durations round-trip", arguments: ["500ms", "5s", "2m", "1h", "90s", "1500ms"])
    func roundTrip(text: String) throws {
        #expect(try Span.parse(text).description == text)
    }
}
