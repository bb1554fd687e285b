import Foundation
import TansiqModel
import Yams

extension DocumentDecoder {
    /// `spec` of a Secret: `data`, keys `[A-Za-z0-9._-]{1,253}`, values text or `base64:…`, at most
    /// `Secret.maxSize` bytes in all once decoded. A document without `spec`, or without `data`,
    /// leaves the stored values as they are.
    func decodeSecretSpec(_ node: YAMLNode?) -> SecretSpec? {
        guard let node else { return SecretSpec() }
        guard let f = r.mapping(node, "spec", allowed: ["data"]) else { return nil }
        guard let dataNode = f["data"] else { return SecretSpec() }
        guard let entries = r.entries(dataNode, f.path("data")) else { return nil }
        var data: [String: String] = [:]
        var size = 0
        var ok = true
        for entry in entries {
            let path = NodeReader.join(f.path("data"), entry.key)
            if !Secret.isKey(entry.key) {
                r.sink.report(
                    entry.keyNode,
                    "\(path): \"\(entry.key)\" is not a valid key ([A-Za-z0-9._-], 1 to 253, not . or ..)")
                ok = false
            }
            // The value is never repeated in a message: only where it is and what is wrong.
            guard let value = r.string(entry.value, path) else {
                ok = false
                continue
            }
            guard let bytes = Secret.bytes(of: value) else {
                r.sink.report(entry.value, "\(path): the value after base64: is not valid base64")
                ok = false
                continue
            }
            size += bytes.count
            data[entry.key] = value
        }
        if size > Secret.maxSize {
            r.sink.report(dataNode, "\(f.path("data")): \(size) bytes in all; a secret holds at most 1 MiB")
            ok = false
        }
        return ok ? SecretSpec(data: data) : nil
    }

    /// `spec.secrets` of an application: `[{name, mount, restartOnChange}]`, names distinct, mounts
    /// absolute, distinct and clear of the instance's own directories.
    func decodeSecretMounts(_ node: YAMLNode, _ path: String) -> [SecretMount]? {
        guard let items = r.list(node, path) else { return nil }
        var mounts: [SecretMount] = []
        var ok = true
        for item in items {
            guard let f = r.mapping(item.node, item.path, allowed: ["name", "mount", "restartOnChange"]) else {
                ok = false
                continue
            }
            let name = f.required("name").flatMap { r.dnsLabel($0, f.path("name")) }
            let mount = optional(f, "mount", default: String?.none) { node, path -> String?? in
                guard let dir = r.string(node, path) else { return nil }
                let reserved = ["/", "/data", "/tmp", "/proc", "/dev", "/sys", "/etc", "/usr", "/bin", "/lib"]
                guard dir.hasPrefix("/"), !dir.contains("/../"), !dir.hasSuffix("/.."), !reserved.contains(dir),
                    !["/data/", "/tmp/", "/proc/", "/dev/", "/sys/"].contains(where: { dir.hasPrefix($0) })
                else {
                    r.sink.report(
                        node,
                        "\(path): \"\(dir)\" must be an absolute directory outside /data, /tmp, /proc, /dev and /sys "
                            + "(e.g. /run/secrets/NAME)")
                    return nil
                }
                return .some(dir)
            }
            let restart = optional(f, "restartOnChange", default: true, r.bool)
            guard let name, let mount, let restart else {
                ok = false
                continue
            }
            let secretMount = SecretMount(name: name, mount: mount, restartOnChange: restart)
            if mounts.contains(where: { $0.name == name }) {
                r.sink.report(item.node, "\(item.path).name: secret \"\(name)\" is mounted twice")
                ok = false
            } else if mounts.contains(where: { $0.mount == secretMount.mount }) {
                r.sink.report(item.node, "\(item.path).mount: \(secretMount.mount) is used by another secret")
                ok = false
            }
            mounts.append(secretMount)
        }
        return ok ? mounts : nil
    }

    /// `{secret: NAME, key: K}`: an environment variable's value taken from a secret.
    func decodeSecretKeyRef(_ node: YAMLNode, _ path: String) -> SecretKeyRef? {
        guard let f = r.mapping(node, path, allowed: ["secret", "key"]) else { return nil }
        let secret = f.required("secret").flatMap { r.dnsLabel($0, f.path("secret")) }
        let key = f.required("key").flatMap { node -> String? in
            guard let key = r.string(node, f.path("key")) else { return nil }
            guard Secret.isKey(key) else {
                r.sink.report(node, "\(f.path("key")): \"\(key)\" is not a valid secret key")
                return nil
            }
            return key
        }
        guard let secret, let key else { return nil }
        return SecretKeyRef(secret: secret, key: key)
    }
}
