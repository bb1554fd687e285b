import TansiqModel
import Yams

extension DocumentDecoder {
    /// `spec.expose`: `[{port, host, path}]`, the port one of `spec.ports`, the host a DNS name,
    /// the path a prefix from `/`; a host and path once per application.
    func decodeExpose(_ node: YAMLNode, _ path: String, ports: [PortSpec]) -> [ExposeSpec]? {
        guard let items = r.list(node, path) else { return nil }
        var result: [ExposeSpec] = []
        var ok = true
        for item in items {
            guard let f = r.mapping(item.node, item.path, allowed: ["port", "host", "path"]) else {
                ok = false
                continue
            }
            let port = f.required("port").flatMap { node -> String? in
                guard let name = r.string(node, f.path("port")) else { return nil }
                guard ports.contains(where: { $0.name == name }) else {
                    let declared = ports.isEmpty ? "none declared" : ports.map(\.name).joined(separator: ", ")
                    r.sink.report(node, "\(f.path("port")): \"\(name)\" is not a port of spec.ports (\(declared))")
                    return nil
                }
                return name
            }
            let host = f.required("host").flatMap { node -> String? in
                guard let host = r.string(node, f.path("host")) else { return nil }
                guard ExposeSpec.isHost(host) else {
                    r.sink.report(
                        node, "\(f.path("host")): \"\(host)\" is not a DNS name (lower-case labels separated by dots)")
                    return nil
                }
                return host
            }
            let prefix = optional(f, "path", default: "/") { node, path -> String? in
                guard let text = r.string(node, path) else { return nil }
                guard ExposeSpec.isPath(text) else {
                    r.sink.report(
                        node, "\(path): \"\(text)\" is not a path prefix (from /, letters, digits and -._~/ only)")
                    return nil
                }
                return text
            }
            guard let port, let host, let prefix else {
                ok = false
                continue
            }
            let expose = ExposeSpec(port: port, host: host, path: prefix)
            if result.contains(where: { $0.host == host && $0.path == prefix }) {
                r.sink.report(item.node, "\(item.path): \(host)\(prefix) is exposed twice")
                ok = false
            }
            result.append(expose)
        }
        return ok ? result : nil
    }

    /// `spec.consumers`: the other ministries that may read the application's endpoints.
    func decodeConsumers(_ node: YAMLNode, _ path: String) -> [String]? {
        guard let items = r.list(node, path) else { return nil }
        return r.distinct(items, { r.dnsLabel($0, $1) }, twice: { "ministry \($0)" })
    }
}
