import CAgentSystem
import Foundation

/// Reads a layer blob from a file in chunks, inflating it when it is gzip-compressed.
final class LayerStream {
    private let handle: FileHandle
    private let gzip: Bool
    private var stream = z_stream()
    private var input: [UInt8] = []
    private var finished = false
    private var pending: [UInt8] = []
    private var pendingStart = 0

    /// Opens `file`; `gzip` says whether to inflate it.
    init(file: String, gzip: Bool) throws {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw AgentError.io("cannot read \(file)") }
        self.handle = handle
        self.gzip = gzip
        if gzip {
            // 15 window bits + 32: detect a gzip or zlib header.
            let status = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else { throw AgentError.io("cannot start inflating \(file): zlib \(status)") }
        }
    }

    deinit {
        if gzip { inflateEnd(&stream) }
        try? handle.close()
    }

    /// Up to `count` bytes; fewer only at the end of the stream.
    func read(_ count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            if pendingStart < pending.count {
                let take = min(count - out.count, pending.count - pendingStart)
                out.append(contentsOf: pending[pendingStart..<pendingStart + take])
                pendingStart += take
                continue
            }
            guard let chunk = try nextChunk() else { break }
            pending = chunk
            pendingStart = 0
        }
        return out
    }

    /// Exactly `count` bytes, or an error naming the truncation.
    func readExactly(_ count: Int) throws -> [UInt8] {
        let bytes = try read(count)
        guard bytes.count == count else { throw AgentError.io("the layer ends in the middle of an entry") }
        return bytes
    }

    /// Skips `count` bytes.
    func skip(_ count: Int) throws {
        var left = count
        while left > 0 {
            let got = try read(min(left, 1 << 16)).count
            if got == 0 { throw AgentError.io("the layer ends in the middle of an entry") }
            left -= got
        }
    }

    private func nextChunk() throws -> [UInt8]? {
        if finished { return nil }
        if !gzip {
            let data = try handle.read(upToCount: 1 << 16) ?? Data()
            if data.isEmpty {
                finished = true
                return nil
            }
            return [UInt8](data)
        }
        var output = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            // `input` holds the compressed bytes not consumed yet.
            if input.isEmpty {
                let data = try handle.read(upToCount: 1 << 16) ?? Data()
                if data.isEmpty { throw AgentError.io("the gzip stream of the layer is truncated") }
                input = [UInt8](data)
            }
            let (status, produced, left) = input.withUnsafeMutableBufferPointer { inBuffer in
                output.withUnsafeMutableBufferPointer { outBuffer -> (Int32, Int, Int) in
                    stream.next_in = inBuffer.baseAddress
                    stream.avail_in = UInt32(inBuffer.count)
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = UInt32(outBuffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, outBuffer.count - Int(stream.avail_out), Int(stream.avail_in))
                }
            }
            input = left > 0 ? Array(input.suffix(left)) : []
            switch status {
            case Z_STREAM_END:
                finished = true
                return produced > 0 ? Array(output.prefix(produced)) : nil
            case Z_OK, Z_BUF_ERROR:
                if produced > 0 { return Array(output.prefix(produced)) }
            default:
                throw AgentError.io("the layer is not valid gzip (zlib \(status))")
            }
        }
    }
}
