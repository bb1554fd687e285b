import Foundation

/// The media types of the OCI image spec and of Docker's v2.2 manifests that Tansiq reads.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    /// What a manifest request accepts, in order of preference.
    public static let manifestAccept = [ociManifest, ociIndex, dockerManifest, dockerList]

    /// True for an image index or a Docker manifest list.
    public static func isIndex(_ type: String) -> Bool { type == ociIndex || type == dockerList }

    /// True for layers that are gzip-compressed tar streams (false: plain tar); nil for a type
    /// that is not a layer Tansiq can unpack.
    public static func layerIsGzip(_ type: String) -> Bool? {
        switch type {
        case ociLayerGzip, dockerLayerGzip: true
        case ociLayer, "application/vnd.docker.image.rootfs.diff.tar": false
        default: nil
        }
    }
}

/// A content descriptor: what a manifest says of a blob or of another manifest.
public struct Descriptor: Sendable, Hashable, Codable {
    public var mediaType: String
    public var digest: String
    public var size: Int64
    /// In an index: the platform the entry is for.
    public var platform: Platform?

    public init(mediaType: String, digest: String, size: Int64, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
    }

    /// An index entry's platform.
    public struct Platform: Sendable, Hashable, Codable {
        public var architecture: String
        public var os: String
        public var variant: String?

        public init(architecture: String, os: String, variant: String? = nil) {
            self.architecture = architecture
            self.os = os
            self.variant = variant
        }
    }
}

/// An image manifest (OCI or Docker v2.2: the same shape) or an index (OCI index or Docker
/// manifest list), as far as Tansiq reads them.
public struct ImageManifest: Sendable, Hashable, Codable {
    public var schemaVersion: Int
    public var mediaType: String?
    /// For a manifest: its config blob.
    public var config: Descriptor?
    /// For a manifest: its layers, lowest first.
    public var layers: [Descriptor]?
    /// For an index: the manifests it lists.
    public var manifests: [Descriptor]?

    /// Parses a manifest; `contentType` is what the registry said it is, used when the document
    /// does not say (`mediaType` is optional in OCI manifests).
    public static func parse(_ data: Data, contentType: String?) throws -> ImageManifest {
        var manifest: ImageManifest
        do {
            manifest = try JSONDecoder().decode(ImageManifest.self, from: data)
        } catch {
            throw RegistryError.invalid("the manifest is not a JSON image manifest: \(error)")
        }
        if manifest.mediaType == nil {
            manifest.mediaType =
                contentType.map { String($0.split(separator: ";")[0]) }
                ?? (manifest.manifests != nil ? MediaType.ociIndex : MediaType.ociManifest)
        }
        guard manifest.schemaVersion == 2 else {
            throw RegistryError.invalid("schema version \(manifest.schemaVersion) manifests are not supported")
        }
        return manifest
    }

    /// True for an index.
    public var isIndex: Bool { manifests != nil || MediaType.isIndex(mediaType ?? "") }

    /// The index entry for `os`/`architecture` (the first that matches), if any.
    public func entry(os: String, architecture: String) -> Descriptor? {
        manifests?.first { $0.platform?.os == os && $0.platform?.architecture == architecture }
    }
}

/// The parts of an image's config blob that decide how it runs.
public struct ImageConfig: Sendable, Hashable, Codable {
    /// `config` of the OCI image config.
    public struct Run: Sendable, Hashable, Codable {
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var WorkingDir: String?

        public init(Env: [String]? = nil, Entrypoint: [String]? = nil, Cmd: [String]? = nil, WorkingDir: String? = nil)
        {
            self.Env = Env
            self.Entrypoint = Entrypoint
            self.Cmd = Cmd
            self.WorkingDir = WorkingDir
        }
    }

    public var architecture: String?
    public var os: String?
    public var config: Run?

    public init(architecture: String? = nil, os: String? = nil, config: Run? = nil) {
        self.architecture = architecture
        self.os = os
        self.config = config
    }
}

/// The architecture name OCI uses for this machine (`amd64`, `arm64`, ...).
public var ociArchitecture: String {
    var name = utsname()
    uname(&name)
    let machine = withUnsafeBytes(of: &name.machine) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    switch machine {
    case "x86_64": return "amd64"
    case "aarch64": return "arm64"
    case "armv7l": return "arm"
    default: return machine
    }
}
