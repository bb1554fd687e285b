import Foundation
import Testing

@testable import TansiqAgent

/// Layers written by Python's `tarfile` (another tar implementation than ours), unpacked by the
/// agent's unpacker into a real directory.
@Suite("Image layers unpack as the OCI spec says, and never outside the root")
struct LayerUnpackerTests {
    /// A fresh directory with `root/` and `outside/`.
    static func workspace() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tansiq-layers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("root"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("outside"), withIntermediateDirectories: true)
        return dir
    }

    /// Writes a layer with Python's tarfile: `entries` is Python code adding members to `t`
    /// (with helpers `f(name, text, mode=0o644, uid=0)`, `d(name)`, `l(name, target)`,
    /// `h(name, target)`).
    static func layer(_ dir: URL, _ name: String, gzip: Bool, _ entries: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let script = """
            import io, tarfile, sys
            t = tarfile.open(sys.argv[1], 'w:gz' if sys.argv[2] == '1' else 'w', format=tarfile.PAX_FORMAT)
            def f(name, text, mode=0o644, uid=0):
                i = tarfile.TarInfo(name); data = text.encode(); i.size = len(data); i.mode = mode; i.uid = uid; i.gid = uid
                t.addfile(i, io.BytesIO(data))
            def d(name, mode=0o755):
                i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = mode; t.addfile(i)
            def l(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
            def h(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)
            \(entries)
            t.close()
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path, gzip ? "1" : "0"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return path
    }

    static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test("whiteouts remove lower files, opaque directories keep only the layer's own", arguments: [false, true])
    func whiteouts(gzip: Bool) throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lower = try Self.layer(
            dir, "lower.tar", gzip: gzip,
            """
            d('etc'); f('etc/passwd', 'root'); d('a'); f('a/1', 'one'); f('a/2', 'two'); f('b', 'bee'); d('c'); f('c/x', 'x')
            f('bin/tool', '#!', mode=0o755, uid=1000)
            """)
        let upper = try Self.layer(
            dir, "upper.tar", gzip: gzip,
            """
            f('a/3', 'three'); f('a/.wh..wh..opq', ''); f('.wh.b', ''); f('c/y', 'y'); f('c/.wh.x', '')
            f('x' * 150 + '/long-name-file', 'long')
            """)
        let root = dir.appendingPathComponent("root").path
        var unpacker = LayerUnpacker(root: root)
        try unpacker.apply(layer: lower, gzip: gzip)
        try unpacker.apply(layer: upper, gzip: gzip)
        let a = try FileManager.default.contentsOfDirectory(atPath: root + "/a").sorted()
        #expect(a == ["3"], "the opaque directory keeps only what its own layer wrote")
        #expect(!FileManager.default.fileExists(atPath: root + "/b"))
        #expect(Self.read(root + "/c/y") == "y")
        #expect(!FileManager.default.fileExists(atPath: root + "/c/x"))
        #expect(Self.read(root + "/etc/passwd") == "root")
        #expect(Self.read(root + "/" + String(repeating: "x", count: 150) + "/long-name-file") == "long")
        let attributes = try FileManager.default.attributesOfItem(atPath: root + "/bin/tool")
        #expect((attributes[.posixPermissions] as? Int) == 0o755)
        #expect((attributes[.ownerAccountID] as? Int) == 1000)
        #expect(!FileManager.default.fileExists(atPath: root + "/a/.wh..wh..opq"))
        #expect(unpacker.bytesWritten > 0)
    }

    @Test("no entry writes outside the root: .., absolute paths and links are kept inside it")
    func staysInside() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outside = dir.appendingPathComponent("outside").path
        let evil = try Self.layer(
            dir, "evil.tar", gzip: true,
            """
            l('escape', '\(outside)'); f('escape/pwned', 'through an absolute link')
            l('up', '../../../../outside'); f('up/pwned2', 'through a relative link')
            f('../../outside/pwned3', 'with dot-dot'); f('/abs', 'absolute')
            """)
        let root = dir.appendingPathComponent("root").path
        var unpacker = LayerUnpacker(root: root)
        try unpacker.apply(layer: evil, gzip: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty, "nothing reached outside")
        #expect(Self.read(root + outside + "/pwned") == "through an absolute link")
        #expect(Self.read(root + "/outside/pwned2") == "through a relative link")
        #expect(Self.read(root + "/outside/pwned3") == "with dot-dot")
        #expect(Self.read(root + "/abs") == "absolute")
    }

    @Test("a hard link to a file of the host is refused, one within the layers works")
    func hardLinks() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try Self.layer(dir, "good.tar", gzip: false, "f('data', 'same'); h('alias', 'data')")
        let bad = try Self.layer(dir, "bad.tar", gzip: false, "h('shadow', '/etc/hostname')")
        let root = dir.appendingPathComponent("root").path
        var unpacker = LayerUnpacker(root: root)
        try unpacker.apply(layer: good, gzip: false)
        #expect(Self.read(root + "/alias") == "same")
        #expect(throws: AgentError.self) { try unpacker.apply(layer: bad, gzip: false) }
        #expect(!FileManager.default.fileExists(atPath: root + "/shadow"))
    }

    @Test("a corrupt layer is refused with a reason")
    func corrupt() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.layer(dir, "layer.tar.gz", gzip: true, "f('a', 'x' * 10000)")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.removeLast(bytes.count / 2)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var unpacker = LayerUnpacker(root: dir.appendingPathComponent("root").path)
        #expect(throws: AgentError.self) { try unpacker.apply(layer: path, gzip: true) }
        let plain = try Self.layer(dir, "plain.tar", gzip: false, "f('a', 'x')")
        var header = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain)))
        header[0] ^= 0xff
        try Data(header).write(to: URL(fileURLWithPath: plain))
        #expect(throws: AgentError.self) { try unpacker.apply(layer: plain, gzip: false) }
    }
}
