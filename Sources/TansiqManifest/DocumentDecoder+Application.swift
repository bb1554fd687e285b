import TansiqModel
import Yams

extension DocumentDecoder {
    static let maxReplicas = 10_000

    func decodeApplicationSpec(_ node: YAMLNode) -> ApplicationSpec? {
        let keys = [
            "replicas", "priority", "resources", "image", "run", "ports", "health", "placement", "update", "restart",
            "stopAfterDisconnect", "secrets", "expose", "consumers",
        ]
        guard let f = r.mapping(node, "spec", allowed: keys) else { return nil }
        let replicas = optional(f, "replicas", default: 1) { r.int($0, $1, in: 0...Self.maxReplicas) }
        let priority = optional(f, "priority", default: Priority.standard) { r.oneOf($0, $1, Priority.self) }
        let resources = f.required("resources").flatMap { decodeRequest($0, f.path("resources")) }
        let image = optional(f, "image", default: String?.none) { node, path -> String?? in
            guard let text = r.string(node, path) else { return nil }
            do throws(QuantityError) {
                _ = try ImageReference.parse(text)
                return .some(text)
            } catch {
                r.sink.report(node, "\(path): \(error.message)")
                return nil
            }
        }
        // With an image, `run` (and its command) may be left out: the image's entrypoint and cmd.
        let hasImage = f.has("image")
        let run: RunSpec? =
            hasImage && !f.has("run")
            ? RunSpec(command: [])
            : f.required("run").flatMap { decodeRun($0, f.path("run"), commandRequired: !hasImage) }
        let ports = optional(f, "ports", default: [], decodePorts)
        let health = optional(f, "health", default: HealthCheck?.none) { node, path in
            decodeHealth(node, path, ports: ports ?? []).map(Optional.some)
        }
        let placement = optional(f, "placement", default: Placement(), decodePlacement)
        let update = optional(f, "update", default: UpdateStrategy(), decodeUpdate)
        let restart = optional(f, "restart", default: RestartPolicy(), decodeRestart)
        let stop = optional(f, "stopAfterDisconnect", default: Span?.none) { node, path in
            positiveSpan(node, path).map(Optional.some)
        }
        let secrets = optional(f, "secrets", default: [SecretMount]?.none) { node, path in
            decodeSecretMounts(node, path).map(Optional.some)
        }
        let expose = optional(f, "expose", default: [ExposeSpec]?.none) { node, path in
            decodeExpose(node, path, ports: ports ?? []).map(Optional.some)
        }
        let consumers = optional(f, "consumers", default: [String]?.none) { node, path in
            decodeConsumers(node, path).map(Optional.some)
        }
        guard let replicas, let priority, let resources, let image, let run, let ports, let health, let placement,
            let update, let restart, let stop, let secrets, let expose, let consumers
        else { return nil }
        return ApplicationSpec(
            replicas: replicas, priority: priority, resources: resources, image: image, run: run, ports: ports,
            health: health,
            placement: placement, update: update, restart: restart, stopAfterDisconnect: stop,
            secrets: secrets?.isEmpty == true ? nil : secrets, expose: expose?.isEmpty == true ? nil : expose,
            consumers: consumers?.isEmpty == true ? nil : consumers)
    }

    private func decodeRequest(_ node: YAMLNode, _ path: String) -> ResourceRequest? {
        guard let f = r.mapping(node, path, allowed: ["cpu", "memory", "storage"]) else { return nil }
        let cpu = f.required("cpu").flatMap { r.cpu($0, f.path("cpu")) }
        let memory = f.required("memory").flatMap { r.bytes($0, f.path("memory")) }
        let storage = optional(f, "storage", default: 0, r.bytes)
        guard let cpu, let memory, let storage else { return nil }
        return ResourceRequest(cpuMillis: cpu, memoryBytes: memory, storageBytes: storage)
    }

    private func decodeRun(_ node: YAMLNode, _ path: String, commandRequired: Bool) -> RunSpec? {
        guard let f = r.mapping(node, path, allowed: ["command", "env", "workingDirectory"]) else { return nil }
        let commandNode = commandRequired || f.has("command") ? f.required("command") : nil
        let command =
            !commandRequired && commandNode == nil
            ? []
            : commandNode.flatMap { node -> [String]? in
                guard let argv = r.stringList(node, f.path("command"), nonEmpty: true) else { return nil }
                if argv[0].isEmpty {
                    r.sink.report(node, "\(f.path("command"))[0]: the program must not be empty")
                    return nil
                }
                return argv
            }
        let env = optional(f, "env", default: ([:], [:]), decodeEnv)
        let directory = optional(f, "workingDirectory", default: String?.none) { node, path -> String?? in
            guard let dir = r.string(node, path) else { return nil }
            guard dir.hasPrefix("/") else {
                r.sink.report(node, "\(path): \"\(dir)\" must be an absolute path")
                return nil
            }
            return .some(dir)
        }
        guard let command, let env, let directory else { return nil }
        return RunSpec(command: command, env: env.0, secretEnv: env.1, workingDirectory: directory)
    }

    /// `run.env`: text values, and `{secret: NAME, key: K}` ones.
    private func decodeEnv(_ node: YAMLNode, _ path: String) -> ([String: String], [String: SecretKeyRef])? {
        guard let entries = r.entries(node, path) else { return nil }
        var env: [String: String] = [:]
        var secretEnv: [String: SecretKeyRef] = [:]
        var ok = true
        for entry in entries {
            let entryPath = NodeReader.join(path, entry.key)
            let validName =
                entry.key.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
                && entry.key.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
            if !validName {
                r.sink.report(
                    entry.keyNode,
                    "\(entryPath): \"\(entry.key)\" is not a valid environment variable name "
                        + "([A-Za-z_][A-Za-z0-9_]*)")
                ok = false
            }
            if entry.value.mapping != nil {
                guard let ref = decodeSecretKeyRef(entry.value, entryPath) else {
                    ok = false
                    continue
                }
                secretEnv[entry.key] = ref
                continue
            }
            guard let value = r.string(entry.value, entryPath) else {
                ok = false
                continue
            }
            env[entry.key] = value
        }
        return ok ? (env, secretEnv) : nil
    }

    private func decodePorts(_ node: YAMLNode, _ path: String) -> [PortSpec]? {
        guard let items = r.list(node, path) else { return nil }
        var ports: [PortSpec] = []
        var ok = true
        for item in items {
            guard let f = r.mapping(item.node, item.path, allowed: ["name", "port"]) else {
                ok = false
                continue
            }
            let name = f.required("name").flatMap { r.dnsLabel($0, f.path("name")) }
            let number = optional(f, "port", default: 0) { r.int($0, $1, in: 0...65535) }
            guard let name, let number else {
                ok = false
                continue
            }
            if ports.contains(where: { $0.name == name }) {
                r.sink.report(f["name"], "\(f.path("name")): port name \"\(name)\" is used twice")
                ok = false
            } else if number != 0, ports.contains(where: { $0.port == number }) {
                r.sink.report(f["port"], "\(f.path("port")): port \(number) is used twice")
                ok = false
            }
            ports.append(PortSpec(name: name, port: number))
        }
        return ok ? ports : nil
    }

    private func decodeHealth(_ node: YAMLNode, _ path: String, ports: [PortSpec]) -> HealthCheck? {
        let keys = ["http", "tcp", "exec", "interval", "timeout", "failureThreshold"]
        guard let f = r.mapping(node, path, allowed: keys) else { return nil }
        let probeKeys = ["http", "tcp", "exec"].filter { f.has($0) }
        guard probeKeys.count == 1 else {
            let found = probeKeys.isEmpty ? "none" : probeKeys.joined(separator: " and ")
            r.sink.report(node, "\(path): needs exactly one of http, tcp or exec; found \(found)")
            return nil
        }
        func portName(_ g: Fields) -> String? {
            guard let node = g.required("port"), let name = r.string(node, g.path("port")) else { return nil }
            guard ports.contains(where: { $0.name == name }) else {
                let declared = ports.isEmpty ? "none declared" : ports.map(\.name).joined(separator: ", ")
                r.sink.report(node, "\(g.path("port")): \"\(name)\" is not a port of spec.ports (\(declared))")
                return nil
            }
            return name
        }
        var probe: HealthCheck.Probe?
        switch probeKeys[0] {
        case "http":
            if let g = r.mapping(f["http"]!, f.path("http"), allowed: ["path", "port"]) {
                let urlPath = g.required("path").flatMap { node -> String? in
                    guard let p = r.string(node, g.path("path")) else { return nil }
                    guard p.hasPrefix("/") else {
                        r.sink.report(node, "\(g.path("path")): \"\(p)\" must start with /")
                        return nil
                    }
                    return p
                }
                let port = portName(g)
                if let urlPath, let port { probe = .http(path: urlPath, port: port) }
            }
        case "tcp":
            if let g = r.mapping(f["tcp"]!, f.path("tcp"), allowed: ["port"]), let port = portName(g) {
                probe = .tcp(port: port)
            }
        default:
            if let g = r.mapping(f["exec"]!, f.path("exec"), allowed: ["command"]),
                let command = g.required("command").flatMap({ r.stringList($0, g.path("command"), nonEmpty: true) })
            {
                probe = .exec(command: command)
            }
        }
        let interval = optional(f, "interval", default: Span.seconds(10), positiveSpan)
        let timeout = optional(f, "timeout", default: Span.seconds(1), positiveSpan)
        let threshold = optional(f, "failureThreshold", default: 3) { r.int($0, $1, in: 1...1000) }
        guard let probe, let interval, let timeout, let threshold else { return nil }
        return HealthCheck(probe: probe, interval: interval, timeout: timeout, failureThreshold: threshold)
    }

    private func decodePlacement(_ node: YAMLNode, _ path: String) -> Placement? {
        let keys = ["datacentres", "nodeSelector", "tolerations", "spread", "maxPerNode"]
        guard let f = r.mapping(node, path, allowed: keys) else { return nil }
        let datacentres = optional(f, "datacentres", default: []) { node, path -> [String]? in
            guard let items = r.list(node, path) else { return nil }
            let names = items.map { r.dnsLabel($0.node, $0.path) }
            return names.contains(where: { $0 == nil }) ? nil : names.compactMap { $0 }
        }
        let selector = optional(f, "nodeSelector", default: [:], r.labels)
        let tolerations = optional(f, "tolerations", default: [], decodeTolerations)
        let spread = optional(f, "spread", default: String?.none) { node, path -> String?? in
            guard let key = r.string(node, path) else { return nil }
            guard Names.isLabelKey(key) else {
                r.sink.report(node, "\(path): \"\(key)\" is not a valid topology key (a node label key)")
                return nil
            }
            return .some(key)
        }
        let maxPerNode = optional(f, "maxPerNode", default: Int?.none) { node, path in
            r.int(node, path, in: 1...Self.maxReplicas).map(Optional.some)
        }
        guard let datacentres, let selector, let tolerations, let spread, let maxPerNode else { return nil }
        return Placement(
            datacentres: datacentres, nodeSelector: selector, tolerations: tolerations, spread: spread,
            maxPerNode: maxPerNode)
    }

    private func decodeTolerations(_ node: YAMLNode, _ path: String) -> [Toleration]? {
        guard let items = r.list(node, path) else { return nil }
        var result: [Toleration] = []
        var ok = true
        for item in items {
            guard let f = r.mapping(item.node, item.path, allowed: ["key", "value", "effect"]) else {
                ok = false
                continue
            }
            let key = f.required("key").flatMap { node -> String? in
                guard let key = r.string(node, f.path("key")) else { return nil }
                guard Names.isLabelKey(key) else {
                    r.sink.report(node, "\(f.path("key")): \"\(key)\" is not a valid label key")
                    return nil
                }
                return key
            }
            let value = optional(f, "value", default: String?.none) { r.string($0, $1).map(Optional.some) }
            let effect = optional(f, "effect", default: TaintEffect?.none) {
                r.oneOf($0, $1, TaintEffect.self).map(Optional.some)
            }
            guard let key, let value, let effect else {
                ok = false
                continue
            }
            result.append(Toleration(key: key, value: value, effect: effect))
        }
        return ok ? result : nil
    }

    private func decodeUpdate(_ node: YAMLNode, _ path: String) -> UpdateStrategy? {
        guard
            let f = r.mapping(node, path, allowed: ["maxSurge", "maxUnavailable", "progressDeadline", "drainTimeout"])
        else {
            return nil
        }
        let surge = optional(f, "maxSurge", default: 1) { r.int($0, $1, in: 0...Self.maxReplicas) }
        let unavailable = optional(f, "maxUnavailable", default: 0) { r.int($0, $1, in: 0...Self.maxReplicas) }
        let deadline = optional(f, "progressDeadline", default: Span.minutes(10), positiveSpan)
        let drain = optional(f, "drainTimeout", default: Span?.none) { node, path -> Span?? in
            guard let span = r.span(node, path) else { return nil }
            guard span.milliseconds <= 3_600_000 else {
                r.sink.report(node, "\(path): at most 1h")
                return nil
            }
            return .some(span)
        }
        guard let surge, let unavailable, let deadline, let drain else { return nil }
        if surge == 0 && unavailable == 0 {
            r.sink.report(node, "\(path): maxSurge and maxUnavailable must not both be 0 (a rollout could never start)")
            return nil
        }
        return UpdateStrategy(
            maxSurge: surge, maxUnavailable: unavailable, progressDeadline: deadline, drainTimeout: drain)
    }

    private func decodeRestart(_ node: YAMLNode, _ path: String) -> RestartPolicy? {
        guard let f = r.mapping(node, path, allowed: ["policy", "backoff", "maxBackoff"]) else { return nil }
        let policy = optional(f, "policy", default: RestartMode.always) { r.oneOf($0, $1, RestartMode.self) }
        let backoff = optional(f, "backoff", default: Span.seconds(1), positiveSpan)
        let maxBackoff = optional(f, "maxBackoff", default: Span.minutes(5), positiveSpan)
        guard let policy, let backoff, let maxBackoff else { return nil }
        if maxBackoff < backoff {
            r.sink.report(
                f["maxBackoff"] ?? node, "\(f.path("maxBackoff")): \(maxBackoff) is shorter than backoff \(backoff)")
            return nil
        }
        return RestartPolicy(policy: policy, backoff: backoff, maxBackoff: maxBackoff)
    }

    /// A duration longer than zero.
    func positiveSpan(_ node: YAMLNode, _ path: String) -> Span? {
        guard let span = r.span(node, path) else { return nil }
        guard span.milliseconds > 0 else {
            r.sink.report(node, "\(path): must be longer than 0")
            return nil
        }
        return span
    }
}
