import Foundation

/// A ministry's credentials: named keys and their values. The values are sealed by the controller
/// as soon as they arrive and never shown again, to any role: what the API reads of a secret is
/// `SecretView`.
public struct Secret: Sendable, Hashable, Codable {
    /// `metadata.ministry` names the owner; only its applications may use it.
    public var metadata: ObjectMeta
    /// The values; nil when a manifest leaves them as they are.
    public var spec: SecretSpec

    public init(metadata: ObjectMeta, spec: SecretSpec) {
        self.metadata = metadata
        self.spec = spec
    }

    /// `ministry/name`.
    public var key: String { "\(metadata.ministry ?? "")/\(metadata.name)" }

    /// The largest a secret's values may be in all, decoded.
    public static let maxSize = 1 << 20

    /// True for a key: `[A-Za-z0-9._-]{1,253}`, not `.` or `..` (keys are file names in the mount).
    public static func isKey(_ key: String) -> Bool {
        guard (1...253).contains(key.utf8.count), key != ".", key != ".." else { return false }
        return key.utf8.allSatisfy {
            ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E
                || $0 == 0x5F || $0 == 0x2D
        }
    }

    /// A value as written: text as UTF-8, or `base64:…` decoded; nil when the base64 is invalid.
    public static func bytes(of value: String) -> Data? {
        guard value.hasPrefix("base64:") else { return Data(value.utf8) }
        return Data(base64Encoded: String(value.dropFirst("base64:".count)))
    }
}

/// A secret's values, by key: text, or `base64:` and the bytes in base64.
public struct SecretSpec: Sendable, Hashable, Codable {
    /// nil: keep the stored values (an apply of what `get -o yaml` printed).
    public var data: [String: String]?

    public init(data: [String: String]? = nil) { self.data = data }
}

/// What anyone may read of a secret: its names, keys, size, version and who changed it when —
/// never a value. `GET /v1/ministries/{m}/secrets[/{name}]`.
public struct SecretView: Sendable, Hashable, Codable {
    public var metadata: ObjectMeta
    /// The keys, sorted.
    public var keys: [String]
    /// The values' bytes in all.
    public var size: Int
    /// 1 for the first values, raised by every change of them.
    public var version: Int64
    /// The subject who last changed the values.
    public var updatedBy: String
    /// When the values last changed.
    public var updatedAt: Date

    public init(
        metadata: ObjectMeta, keys: [String], size: Int, version: Int64, updatedBy: String, updatedAt: Date
    ) {
        self.metadata = metadata
        self.keys = keys
        self.size = size
        self.version = version
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }
}

/// A secret's values as they are stored: sealed with AES-256-GCM under a data key of their own,
/// the data key wrapped under the cluster's key-encryption key (`secrets.key`), named by its id.
public struct SealedSecret: Sendable, Hashable, Codable {
    /// The id of the key-encryption key that wraps `wrappedKey`.
    public var keyID: String
    /// The data key, sealed under the key-encryption key (base64 of nonce, ciphertext and tag).
    public var wrappedKey: String
    /// The values, sealed under the data key (base64 of nonce, ciphertext and tag).
    public var ciphertext: String

    public init(keyID: String, wrappedKey: String, ciphertext: String) {
        self.keyID = keyID
        self.wrappedKey = wrappedKey
        self.ciphertext = ciphertext
    }
}

/// A secret as the controller keeps it: what may be read of it, and its sealed values.
public struct SecretRecord: Sendable, Hashable, Codable {
    public var view: SecretView
    public var sealed: SealedSecret

    public init(view: SecretView, sealed: SealedSecret) {
        self.view = view
        self.sealed = sealed
    }

    /// `ministry/name`.
    public var key: String { "\(view.metadata.ministry ?? "")/\(view.metadata.name)" }
}

/// `spec.secrets[]` of an application: a secret of its own ministry mounted as files.
public struct SecretMount: Sendable, Hashable, Codable {
    /// The secret, of the application's ministry.
    public var name: String
    /// An absolute directory inside the instance (default `/run/secrets/NAME`), a file per key.
    public var mount: String
    /// When the secret's values change: true rolls the application out (new instances), false
    /// changes the files in place.
    public var restartOnChange: Bool

    public init(name: String, mount: String? = nil, restartOnChange: Bool = true) {
        self.name = name
        self.mount = mount ?? "/run/secrets/\(name)"
        self.restartOnChange = restartOnChange
    }
}

/// An environment variable set from one key of a secret: `{secret: NAME, key: K}` in `run.env`.
public struct SecretKeyRef: Sendable, Hashable, Codable {
    public var secret: String
    public var key: String

    public init(secret: String, key: String) {
        self.secret = secret
        self.key = key
    }
}
