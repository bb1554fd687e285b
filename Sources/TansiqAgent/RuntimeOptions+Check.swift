import Foundation
import TansiqModel
import TansiqRegistry

extension RuntimeOptions {
    /// Options from the command line's values, each checked: `--host-path` existing absolute
    /// directories (resolved), `--tmp-size` and `--image-cache-size` quantities, `--pids-limit`
    /// positive, `--registry-ca` readable files, `--insecure-registry` `HOST:PORT`.
    public static func parse(
        hostPaths: [String], tmpSize: String, pidsLimit: Int, imageCacheSize: String, registryCAs: [String],
        insecureRegistries: [String]
    ) throws -> RuntimeOptions {
        var resolved: [String] = []
        for path in hostPaths {
            guard path.hasPrefix("/"), path != "/" else {
                throw AgentError.invalid("--host-path \(path): expected an absolute directory other than /")
            }
            guard let real = realpath(path, nil) else {
                throw AgentError.invalid("--host-path \(path): no such directory")
            }
            defer { free(real) }
            guard OCIConfig.isDirectory(String(cString: real)) else {
                throw AgentError.invalid("--host-path \(path): not a directory")
            }
            // Shown at the path as written (a link's path included), from where it really is.
            resolved.append(path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path)
        }
        let tmp: Int64
        let cache: Int64
        do {
            tmp = try Quantity.parseBytes(tmpSize)
            cache = try Quantity.parseBytes(imageCacheSize)
        } catch {
            throw AgentError.invalid("--tmp-size \(tmpSize) / --image-cache-size \(imageCacheSize): \(error.message)")
        }
        guard tmp >= 1 << 20 else { throw AgentError.invalid("--tmp-size \(tmpSize): at least 1Mi") }
        guard pidsLimit >= 8 else { throw AgentError.invalid("--pids-limit \(pidsLimit): at least 8") }
        for file in registryCAs where !FileManager.default.isReadableFile(atPath: file) {
            throw AgentError.invalid("--registry-ca \(file): cannot read the file")
        }
        for host in insecureRegistries {
            let parts = host.split(separator: ":")
            guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else {
                throw AgentError.invalid("--insecure-registry \(host): expected HOST:PORT")
            }
        }
        return RuntimeOptions(
            isolation: IsolationSettings(hostPaths: resolved, tmpBytes: tmp, pidsLimit: pidsLimit),
            registry: RegistryAccess(caFiles: registryCAs, insecure: insecureRegistries), imageCacheBytes: cache)
    }

    /// Refuses host paths that would show instances the agent's data directory (its key, its
    /// state, other instances' files): neither inside it nor holding it.
    static func check(hostPaths: [String], dataDir: String) throws {
        let data = OCIConfig.resolved(dataDir)
        for given in hostPaths {
            let path = OCIConfig.resolved(given)
            if data == path || data.hasPrefix(path.hasSuffix("/") ? path : path + "/")
                || path.hasPrefix(data + "/")
            {
                throw AgentError.invalid(
                    "--host-path \(path) would show instances the agent's data directory \(data): refused")
            }
        }
    }
}
