import Foundation
import TansiqAPI
import TansiqModel

#if canImport(Glibc)
    import Glibc
#endif

/// Where an instance's secrets live on the node: one tmpfs per secret under
/// `DATA_DIR/secrets/INSTANCE/NAME` — memory only, never on disk — mode 0500 owned by the
/// ministry's uid, a file per key (0400). The runtime binds each read-only at its mount path
/// inside the instance; the mounts are cleared when the instance stops.
struct SecretFiles: Sendable {
    /// `DATA_DIR/secrets`.
    let root: String
    /// The most a secret's tmpfs holds (its values are at most 1 MiB).
    static let tmpfsBytes = 2 << 20

    /// The directory of `instance`'s secret `name`.
    func directory(_ instance: String, _ name: String) -> String { "\(root)/\(instance)/\(name)" }

    /// Mounts and fills a tmpfs for each of `secrets` that has a mount path; returns the host
    /// directory and the path inside the instance of each. Throws with a sentence when a tmpfs
    /// cannot be mounted (the instance does not start: its secrets never touch the disk).
    func prepare(
        instance: String, secrets: [AgentProtocol.AssignedSecret], runAs: RunAs?
    ) throws
        -> [(host: String, mount: String)]
    {
        var mounts: [(host: String, mount: String)] = []
        for secret in secrets {
            guard let mount = secret.mount else { continue }
            let dir = directory(instance, secret.name)
            if !Self.isMountPoint(dir) {
                try FileManager.default.createDirectory(
                    atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let options = "size=\(Self.tmpfsBytes),mode=0500,uid=\(runAs?.uid ?? 0),gid=\(runAs?.gid ?? 0)"
                guard Glibc.mount("tmpfs", dir, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), options) == 0 else {
                    let reason = String(cString: strerror(errno))
                    throw AgentError.io("cannot mount a tmpfs for secret \(secret.name) at \(dir): \(reason)")
                }
            }
            try write(secret, in: dir, runAs: runAs)
            mounts.append((dir, mount))
        }
        return mounts
    }

    /// Writes `secret`'s values over the files in its tmpfs (each replaced whole, by rename), and
    /// removes the files of keys it no longer has.
    func write(_ secret: AgentProtocol.AssignedSecret, in dir: String, runAs: RunAs?) throws {
        let uid = uid_t(runAs?.uid ?? 0)
        let gid = gid_t(runAs?.gid ?? 0)
        for (key, _) in secret.data {
            guard Secret.isKey(key), let bytes = secret.bytes(key) else { continue }
            let temporary = "\(dir)/.\(key).new"
            let fd = open(temporary, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o400)
            guard fd >= 0 else { throw AgentError.io("cannot write secret \(secret.name)'s key \(key)") }
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            fchown(fd, uid, gid)
            close(fd)
            guard written == bytes.count, rename(temporary, "\(dir)/\(key)") == 0 else {
                unlink(temporary)
                throw AgentError.io("cannot write secret \(secret.name)'s key \(key)")
            }
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        where secret.data[file] == nil && !file.hasPrefix(".") {
            unlink("\(dir)/\(file)")
        }
    }

    /// Unmounts and removes every secret directory of `instance`.
    func clear(instance: String) {
        let base = "\(root)/\(instance)"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
            let dir = "\(base)/\(name)"
            if Self.isMountPoint(dir) { umount2(dir, Int32(MNT_DETACH)) }
            rmdir(dir)
        }
        rmdir(base)
    }

    /// The instances that have secret directories here.
    func instances() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] }

    /// True when `path` is a mount point (its device differs from its parent's).
    static func isMountPoint(_ path: String) -> Bool {
        var own = stat()
        var parent = stat()
        guard stat(path, &own) == 0, stat((path as NSString).deletingLastPathComponent, &parent) == 0 else {
            return false
        }
        return own.st_dev != parent.st_dev
    }
}
