import Crypto
import Foundation
import TansiqAPI
import TansiqModel
import TansiqRegistry

/// An image ready to run: its unpacked root filesystem and how its config says to run it.
struct PulledImage: Sendable, Hashable, Codable {
    /// The manifest digest it was pulled by.
    var digest: String
    /// The unpacked root filesystem (read-only to instances).
    var rootfs: String
    /// Env, Entrypoint, Cmd and WorkingDir of the image config.
    var config: ImageConfig.Run
    /// Digests of the blobs it is made of (config and layers), shared with other images.
    var blobs: [String]
    /// Bytes its unpacked files take.
    var unpackedBytes: Int64
    /// When an instance last started from it.
    var lastUsed: Date
}

/// The node's images: blobs stored once by digest (`images/blobs/sha256/HEX`), shared between
/// images, each verified against its digest before use; root filesystems unpacked once per
/// manifest digest (`images/rootfs/HEX`); one pull per image at a time however many instances
/// wait for it; images no instance uses removed, least recently used first, beyond the cache
/// size.
actor ImageStore {
    let directory: String
    let registry: RegistryClient
    let cacheBytes: Int64
    private var images: [String: PulledImage] = [:]
    private var pulls: [String: Task<PulledImage, any Error>] = [:]
    /// What each pull in flight has done, as a sentence.
    private var progress: [String: String] = [:]

    init(directory: String, registry: RegistryClient, cacheBytes: Int64) {
        self.directory = directory
        self.registry = registry
        self.cacheBytes = cacheBytes
        for dir in [directory + "/blobs/sha256", directory + "/rootfs"] {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        if let data = FileManager.default.contents(atPath: directory + "/images.json"),
            let saved = try? WireJSON.decoder().decode([String: PulledImage].self, from: data)
        {
            images = saved.filter { FileManager.default.fileExists(atPath: $0.value.rootfs) }
        }
    }

    nonisolated func blobPath(_ digest: String) -> String { directory + "/blobs/sha256/" + digest.dropFirst(7) }

    /// The image with `digest` unpacked, pulling it first if the node does not have it. Every
    /// caller waiting for the same digest shares one pull.
    func image(_ assigned: AgentProtocol.AssignedImage) async throws -> PulledImage {
        if var image = images[assigned.digest] {
            image.lastUsed = Date()
            images[assigned.digest] = image
            save()
            return image
        }
        let task: Task<PulledImage, any Error>
        if let running = pulls[assigned.digest] {
            task = running
        } else {
            task = Task { try await self.pull(assigned) }
            pulls[assigned.digest] = task
        }
        defer {
            pulls[assigned.digest] = nil
            progress[assigned.digest] = nil
        }
        let image = try await task.value
        images[image.digest] = image
        save()
        return image
    }

    /// What the pull of `digest` has done so far, while it runs.
    func progress(of digest: String) -> String? { progress[digest] }

    private func pull(_ assigned: AgentProtocol.AssignedImage) async throws -> PulledImage {
        try await registry.session { try await self.pull(assigned, over: $0) }
    }

    private func pull(
        _ assigned: AgentProtocol.AssignedImage, over registry: RegistrySession
    ) async throws
        -> PulledImage
    {
        let reference = try ImageReference.parse(assigned.reference).pinned(to: assigned.digest)
        let short = String(assigned.digest.prefix(19)) + "…"
        progress[assigned.digest] = "pulling \(short): manifest"
        var (_, manifest) = try await registry.manifest(reference, digest: assigned.digest)
        if manifest.isIndex {
            guard let entry = manifest.entry(os: "linux", architecture: ociArchitecture) else {
                throw RegistryError.invalid("\(assigned.reference) has no image for linux/\(ociArchitecture)")
            }
            (_, manifest) = try await registry.manifest(reference, digest: entry.digest)
        }
        guard let configDescriptor = manifest.config, let layers = manifest.layers else {
            throw RegistryError.invalid("the manifest of \(assigned.reference) names no config or no layers")
        }
        for layer in layers where MediaType.layerIsGzip(layer.mediaType) == nil {
            throw RegistryError.invalid("layer \(layer.digest) is \(layer.mediaType), which Tansiq cannot unpack")
        }
        try await fetch(reference, configDescriptor.digest, over: registry)
        try Self.verify(blobPath(configDescriptor.digest), digest: configDescriptor.digest)
        guard let configData = FileManager.default.contents(atPath: blobPath(configDescriptor.digest)),
            let config = try? JSONDecoder().decode(ImageConfig.self, from: configData)
        else { throw RegistryError.invalid("the config blob of \(assigned.reference) is not an image config") }
        let total = layers.reduce(Int64(0)) { $0 + $1.size }
        var done: Int64 = 0
        for (index, layer) in layers.enumerated() {
            let before = done
            progress[assigned.digest] =
                "pulling \(short): \(index)/\(layers.count) layers, \(Self.mib(done)) of \(Self.mib(total))"
            try await fetch(reference, layer.digest, over: registry) { received in
                Task {
                    await self.report(
                        assigned.digest,
                        "pulling \(short): \(index)/\(layers.count) layers, \(Self.mib(before + received)) of \(Self.mib(total))"
                    )
                }
            }
            done += layer.size
        }
        progress[assigned.digest] = "unpacking \(short): \(layers.count) layers, \(Self.mib(total))"
        let hex = String(assigned.digest.dropFirst(7))
        let rootfs = directory + "/rootfs/" + hex
        let staging = rootfs + ".unpacking"
        let bytes = try await Task.detached { [self] in
            try? FileManager.default.removeItem(atPath: staging)
            try FileManager.default.createDirectory(
                atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            var unpacker = LayerUnpacker(root: staging)
            for layer in layers {
                // Verified before use, whoever wrote it to the store.
                try Self.verify(self.blobPath(layer.digest), digest: layer.digest)
                try unpacker.apply(layer: self.blobPath(layer.digest), gzip: MediaType.layerIsGzip(layer.mediaType)!)
            }
            try? FileManager.default.removeItem(atPath: rootfs)
            guard rename(staging, rootfs) == 0 else { throw AgentError.io("cannot rename \(staging)") }
            return unpacker.bytesWritten
        }.value
        return PulledImage(
            digest: assigned.digest, rootfs: rootfs, config: config.config ?? ImageConfig.Run(),
            blobs: [configDescriptor.digest] + layers.map(\.digest), unpackedBytes: bytes, lastUsed: Date())
    }

    private func report(_ digest: String, _ text: String) {
        if progress[digest] != nil { progress[digest] = text }
    }

    /// Downloads a blob unless the store has it (verified when it arrives).
    private func fetch(
        _ reference: ImageReference, _ digest: String, over registry: RegistrySession,
        progress: @escaping @Sendable (Int64) -> Void = { _ in }
    ) async throws {
        guard ImageReference.isDigest(digest) else { throw RegistryError.invalid("\"\(digest)\" is not a digest") }
        if FileManager.default.fileExists(atPath: blobPath(digest)) { return }
        try await registry.download(reference, digest: digest, to: blobPath(digest), progress: progress)
    }

    /// Throws unless the file's bytes hash to `digest`.
    static func verify(_ file: String, digest: String) throws {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw AgentError.io("cannot read \(file)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        let actual = "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard actual == digest else {
            unlink(file)
            throw RegistryError.invalid(
                "stored blob \(digest) does not match its digest (it hashes to \(actual)): removed")
        }
    }

    /// Removes images no instance uses (`inUse`: digests), least recently used first, while the
    /// store holds more than the cache size; blobs go with the last image that uses them.
    func collect(inUse: Set<String>) {
        var total = storeBytes()
        for image in images.values.sorted(by: { $0.lastUsed < $1.lastUsed }) where total > cacheBytes {
            guard !inUse.contains(image.digest) else { continue }
            images[image.digest] = nil
            total -= image.unpackedBytes
            try? FileManager.default.removeItem(atPath: image.rootfs)
            let stillUsed = Set(images.values.flatMap(\.blobs))
            for blob in image.blobs where !stillUsed.contains(blob) {
                total -= FileStatus.size(of: blobPath(blob))
                unlink(blobPath(blob))
            }
        }
        save()
    }

    /// What the store holds: blobs and unpacked files.
    func storeBytes() -> Int64 {
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/blobs/sha256")) ?? []
        return blobs.reduce(Int64(0)) { $0 + FileStatus.size(of: directory + "/blobs/sha256/" + $1) }
            + images.values.reduce(Int64(0)) { $0 + $1.unpackedBytes }
    }

    /// The digests the store has unpacked.
    func digests() -> Set<String> { Set(images.keys) }

    static func mib(_ bytes: Int64) -> String {
        bytes < 1 << 20 ? "\(bytes / 1024) KiB" : "\(bytes >> 20) MiB"
    }

    private func save() {
        guard let data = try? WireJSON.encoder().encode(images) else { return }
        try? AgentDirectory.writeAtomically(data, to: directory + "/images.json", mode: 0o600)
    }
}
