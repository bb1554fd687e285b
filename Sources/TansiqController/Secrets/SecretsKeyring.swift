import Crypto
import Foundation
import TansiqModel

/// The cluster's key-encryption key and what it does: seal a secret's values under a data key of
/// their own (AES-256-GCM), wrap that data key under the key-encryption key, and undo both. The
/// key is `secrets.key` in the data directory (32 random bytes, mode 0600); during a rotation
/// `secrets.key.next` is the new one until every data key is wrapped under it.
///
/// Both seals are bound to the secret they belong to (`ministry/name` as authenticated data): a
/// sealed value moved to another secret's row — another ministry's — does not open.
public final class SecretsKeyring: Sendable {
    private struct Keys {
        /// The key new data keys are wrapped under, and its id.
        var current: (id: String, key: SymmetricKey)
        /// Keys that still open data keys wrapped before a rotation, by id.
        var older: [String: SymmetricKey] = [:]
    }

    private let directory: DataDirectory
    private let keys: Locked<Keys>

    /// The keyring of `directory`: `secrets.key` (made when missing and `create`), and
    /// `secrets.key.next` when a rotation was interrupted (then the next key is the current one,
    /// and the older still opens what it wrapped). Throws when a key file is missing or not 32 bytes.
    public init(directory: DataDirectory, create: Bool = false) throws {
        self.directory = directory
        if create, !FileManager.default.fileExists(atPath: directory.secretsKey) {
            try directory.writeBytes(Self.newKeyBytes(), to: directory.secretsKey, mode: 0o600)
        }
        let main = try Self.read(directory.secretsKey)
        var keys = Keys(current: (Self.id(of: main), main))
        if FileManager.default.fileExists(atPath: directory.secretsKeyNext) {
            let next = try Self.read(directory.secretsKeyNext)
            keys.older[keys.current.id] = main
            keys.current = (Self.id(of: next), next)
        }
        self.keys = Locked(keys)
    }

    /// 32 random bytes.
    public static func newKeyBytes() -> Data { SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) } }

    static func read(_ file: String) throws -> SymmetricKey {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SecretsError.keyMissing(file)
        }
        guard data.count == 32 else { throw SecretsError.badKey(file) }
        return SymmetricKey(data: data)
    }

    /// A key's id: the first 16 hex digits of the SHA-256 of its bytes.
    static func id(of key: SymmetricKey) -> String {
        key.withUnsafeBytes { SHA256.hash(data: Data($0)) }.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// The id of the key new data keys are wrapped under.
    public var currentID: String { keys.withLock { $0.current.id } }

    /// Seals `values` (by key) for the secret `identity` (`ministry/name`) under a new data key.
    public func seal(_ values: [String: Data], for identity: String) throws -> SealedSecret {
        let plain = try Self.encode(values)
        let dataKey = SymmetricKey(size: .bits256)
        let sealed = try AES.GCM.seal(plain, using: dataKey, authenticating: Data("tansiq-secret:\(identity)".utf8))
        let current = keys.withLock { $0.current }
        return SealedSecret(
            keyID: current.id, wrappedKey: try Self.wrap(dataKey, under: current.key, for: identity),
            ciphertext: sealed.combined!.base64EncodedString())
    }

    /// The values of a sealed secret. Throws `SecretsError.cannotOpen` when the key that wrapped
    /// its data key is not in this keyring, or the sealed bytes were changed or moved.
    public func open(_ sealed: SealedSecret, for identity: String) throws -> [String: Data] {
        let dataKey = try unwrap(sealed, for: identity)
        do {
            let box = try AES.GCM.SealedBox(combined: Data(base64Encoded: sealed.ciphertext) ?? Data())
            let plain = try AES.GCM.open(box, using: dataKey, authenticating: Data("tansiq-secret:\(identity)".utf8))
            return try JSONDecoder().decode([String: Data].self, from: plain)
        } catch {
            throw SecretsError.cannotOpen(identity, "its values do not open under their data key")
        }
    }

    /// `sealed` with its data key wrapped under the current key (the values stay as sealed).
    public func rewrap(_ sealed: SealedSecret, for identity: String) throws -> SealedSecret {
        let current = keys.withLock { $0.current }
        if sealed.keyID == current.id { return sealed }
        let dataKey = try unwrap(sealed, for: identity)
        var rewrapped = sealed
        rewrapped.keyID = current.id
        rewrapped.wrappedKey = try Self.wrap(dataKey, under: current.key, for: identity)
        return rewrapped
    }

    /// Takes `secrets.key.next` as the current key (the present one still opens what it wrapped):
    /// the first step of a rotation. Throws when there is no next key.
    public func beginRotation() throws {
        let next = try Self.read(directory.secretsKeyNext)
        keys.withLock { keys in
            let id = Self.id(of: next)
            guard id != keys.current.id else { return }
            keys.older[keys.current.id] = keys.current.key
            keys.current = (id, next)
        }
    }

    /// Once every data key is wrapped under the current key: `secrets.key.next` becomes
    /// `secrets.key` (the old key's file is gone) and the older keys are forgotten.
    public func finishRotation() throws {
        if FileManager.default.fileExists(atPath: directory.secretsKeyNext) {
            guard rename(directory.secretsKeyNext, directory.secretsKey) == 0 else {
                throw SecretsError.keyMissing("cannot rename \(directory.secretsKeyNext) to \(directory.secretsKey)")
            }
        }
        keys.withLock { $0.older = [:] }
    }

    private func unwrap(_ sealed: SealedSecret, for identity: String) throws -> SymmetricKey {
        let kek = keys.withLock { keys in keys.current.id == sealed.keyID ? keys.current.key : keys.older[sealed.keyID]
        }
        guard let kek else {
            throw SecretsError.cannotOpen(
                identity, "its data key is wrapped under key \(sealed.keyID), not in secrets.key")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: Data(base64Encoded: sealed.wrappedKey) ?? Data())
            return SymmetricKey(
                data: try AES.GCM.open(box, using: kek, authenticating: Data("tansiq-dek:\(identity)".utf8)))
        } catch {
            throw SecretsError.cannotOpen(identity, "its data key does not unwrap")
        }
    }

    private static func wrap(_ dataKey: SymmetricKey, under kek: SymmetricKey, for identity: String) throws -> String {
        let bytes = dataKey.withUnsafeBytes { Data($0) }
        return try AES.GCM.seal(bytes, using: kek, authenticating: Data("tansiq-dek:\(identity)".utf8)).combined!
            .base64EncodedString()
    }

    private static func encode(_ values: [String: Data]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(values)
    }
}

/// Why a secret could not be sealed or opened.
public enum SecretsError: Error, CustomStringConvertible {
    case keyMissing(String)
    case badKey(String)
    case cannotOpen(String, String)

    public var description: String {
        switch self {
        case .keyMissing(let file): "the secrets key \(file) is missing"
        case .badKey(let file): "the secrets key \(file) is not 32 bytes"
        case .cannotOpen(let identity, let why): "secret \(identity) cannot be opened: \(why)"
        }
    }
}
