import Foundation

/// The controller's data directory (mode 0700) and the files DESIGN.md names in it.
public struct DataDirectory: Sendable {
    /// Its path.
    public let path: String

    /// A data directory at `path`.
    public init(path: String) { self.path = path }

    /// The store.
    public var database: String { file("tansiq.db") }
    /// The audit log's archive (`AuditArchive`): records moved out of the store.
    public var auditArchive: String { file("audit-archive") }
    /// The cluster CA certificate (PEM), for clients and agents.
    public var caCertificate: String { file("ca.crt") }
    /// The cluster CA key (PEM, 0600).
    public var caKey: String { file("ca.key") }
    /// The controller's serving certificate (PEM).
    public var serverCertificate: String { file("controller.crt") }
    /// The controller's serving key (PEM, 0600).
    public var serverKey: String { file("controller.key") }
    /// The initial operator token (0600).
    public var operatorToken: String { file("operator.token") }
    /// The agents' bootstrap token (0600).
    public var bootstrapToken: String { file("bootstrap.token") }
    /// The key-encryption key of secrets: 32 random bytes (0600).
    public var secretsKey: String { file("secrets.key") }
    /// The next key-encryption key, during a rotation (0600).
    public var secretsKeyNext: String { file("secrets.key.next") }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// True when a cluster was already initialised here.
    public var isInitialised: Bool {
        [database, caCertificate, caKey].contains { FileManager.default.fileExists(atPath: $0) }
    }

    /// Creates the directory with mode 0700 (an existing empty one is tightened to 0700).
    func create() throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }

    /// Writes `text` to `file`, created with `mode` (never wider, whatever the umask).
    func write(_ text: String, to file: String, mode: Int) throws {
        try writeBytes(Data(text.utf8), to: file, mode: mode)
    }

    /// The cluster CA, certificate and key.
    public func certificateAuthority() throws -> CertificateAuthority {
        try CertificateAuthority(certificatePEM: try read(caCertificate), keyPEM: try read(caKey))
    }

    /// Writes `bytes` to `file`, created with `mode` (never wider, whatever the umask).
    func writeBytes(_ bytes: Data, to file: String, mode: Int) throws {
        guard FileManager.default.createFile(atPath: file, contents: bytes, attributes: [.posixPermissions: mode])
        else { throw DataDirectoryError.cannotWrite(file) }
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
    }

    /// Reads a text file, trimmed.
    func read(_ file: String) throws -> String {
        do {
            return try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch { throw DataDirectoryError.cannotRead(file) }
    }
}

/// Why the data directory could not be used.
public enum DataDirectoryError: Error, CustomStringConvertible {
    /// `init` found a cluster there.
    case alreadyInitialised(String)
    /// `run` found no cluster there.
    case notInitialised(String)
    /// A file could not be written.
    case cannotWrite(String)
    /// A file could not be read.
    case cannotRead(String)
    /// `run` without `--store` found a cluster whose store is not in the directory.
    case storeElsewhere(String)

    public var description: String {
        switch self {
        case .alreadyInitialised(let p):
            "\(p) already holds a cluster (ca.crt or tansiq.db exists); refusing to overwrite it"
        case .notInitialised(let p): "\(p) holds no cluster: run `tansiq-controller init --data-dir \(p)` first"
        case .cannotWrite(let f): "cannot write \(f)"
        case .cannotRead(let f): "cannot read \(f)"
        case .storeElsewhere(let p):
            "\(p) holds a cluster whose store is not in it (tansiq.db is missing): "
                + "give its PostgreSQL store with --store postgres://USER@HOST/DB"
        }
    }
}
