import TansiqModel

// The assignment answers written directly: every long poll that wakes gets its node's whole set,
// and Foundation's encoder spent more of the controller's time on them than placing them did.
// Each writer writes what `encode(to:)` writes through `WireJSON.encoder()`, keys in the order
// `.sortedKeys` gives them (a test compares the bytes).

extension AgentProtocol.Assignments: WireJSONWriting {
    public func writeWireJSON(_ out: inout WireJSONWriter) {
        out.object { o in
            if let epoch { o.member("epoch", epoch) }
            o.member("instances", array: instances) { $1.writeWireJSON(&$0) }
            o.member("resourceVersion", resourceVersion)
        }
    }
}

extension AgentProtocol.Assignment: WireJSONWriting {
    public func writeWireJSON(_ out: inout WireJSONWriter) {
        out.object { o in
            o.member("application", application)
            o.member("generation", generation)
            if let health { o.memberValue("health", health.writeWireJSON) }
            o.member("id", id)
            if let image {
                o.member("image") { i in
                    i.member("digest", image.digest)
                    i.member("reference", image.reference)
                }
            }
            o.member("ministry", ministry)
            o.member("ports", array: ports) { writer, port in
                writer.object { p in
                    p.member("name", port.name)
                    p.member("port", Int64(port.port))
                }
            }
            o.member("resources", resources: resources)
            o.member("restart") { r in
                r.member("backoff", restart.backoff.description)
                r.member("maxBackoff", restart.maxBackoff.description)
                r.member("policy", restart.policy.rawValue)
            }
            o.memberValue("run", run.writeWireJSON)
            if let runAs {
                o.member("runAs") { r in
                    r.member("gid", Int64(runAs.gid))
                    r.member("uid", Int64(runAs.uid))
                }
            }
            if let secrets {
                o.member("secrets", array: secrets) { writer, secret in
                    writer.object { s in
                        s.member("data") { d in
                            for (key, value) in WireJSONWriter.sortedKeys(secret.data) {
                                d.member(key: key) { $0.value(value) }
                            }
                        }
                        s.memberIfPresent("mount", secret.mount)
                        s.member("name", secret.name)
                        s.member("version", secret.version)
                    }
                }
            }
            if let stopAfterDisconnect { o.member("stopAfterDisconnect", stopAfterDisconnect.description) }
        }
    }
}

extension HealthCheck {
    func writeWireJSON(_ out: inout WireJSONWriter) {
        out.object { o in
            if case .exec(let command) = probe { o.member("exec") { $0.member("command", strings: command) } }
            o.member("failureThreshold", Int64(failureThreshold))
            if case .http(let path, let port) = probe {
                o.member("http") { h in
                    h.member("path", path)
                    h.member("port", port)
                }
            }
            o.member("interval", interval.description)
            if case .tcp(let port) = probe { o.member("tcp") { $0.member("port", port) } }
            o.member("timeout", timeout.description)
        }
    }
}

extension RunSpec {
    func writeWireJSON(_ out: inout WireJSONWriter) {
        out.object { o in
            o.member("command", strings: command)
            // One map on the wire: plain values as strings, secret references as objects.
            var all: [String: SecretKeyRef?] = env.mapValues { _ in nil }
            for (name, ref) in secretEnv { all[name] = ref }
            o.member("env") { e in
                for (name, ref) in WireJSONWriter.sortedKeys(all) {
                    e.member(key: name) { value in
                        if let ref {
                            value.object { r in
                                r.member("key", ref.key)
                                r.member("secret", ref.secret)
                            }
                        } else {
                            value.value(env[name] ?? "")
                        }
                    }
                }
            }
            o.memberIfPresent("workingDirectory", workingDirectory)
        }
    }
}
