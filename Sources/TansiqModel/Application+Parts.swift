/// The process an instance runs.
public struct RunSpec: Sendable, Hashable, Codable {
    /// argv; the first element is the program.
    public var command: [String]
    /// Environment variables added to the agent's defaults.
    public var env: [String: String]
    /// Environment variables set from a key of one of the ministry's secrets (in `env` on the
    /// wire and in manifests, as `{secret: NAME, key: K}`).
    public var secretEnv: [String: SecretKeyRef]
    /// Working directory; nil: the instance's own directory.
    public var workingDirectory: String?

    /// Creates a run spec.
    public init(
        command: [String], env: [String: String] = [:], secretEnv: [String: SecretKeyRef] = [:],
        workingDirectory: String? = nil
    ) {
        self.command = command
        self.env = env
        self.secretEnv = secretEnv
        self.workingDirectory = workingDirectory
    }

    private enum CodingKeys: String, CodingKey {
        case command, env, workingDirectory
    }

    /// One value of `env`: text, or a secret's key.
    private enum EnvValue: Codable {
        case text(String)
        case secret(SecretKeyRef)

        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self = .text(text)
            } else {
                self = .secret(try SecretKeyRef(from: decoder))
            }
        }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .text(let text):
                var container = encoder.singleValueContainer()
                try container.encode(text)
            case .secret(let ref): try ref.encode(to: encoder)
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decode([String].self, forKey: .command)
        workingDirectory = try container.decodeIfPresent(String.self, forKey: .workingDirectory)
        env = [:]
        secretEnv = [:]
        for (name, value) in try container.decodeIfPresent([String: EnvValue].self, forKey: .env) ?? [:] {
            switch value {
            case .text(let text): env[name] = text
            case .secret(let ref): secretEnv[name] = ref
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        var all = env.mapValues { EnvValue.text($0) }
        for (name, ref) in secretEnv { all[name] = .secret(ref) }
        try container.encode(all, forKey: .env)
        try container.encodeIfPresent(workingDirectory, forKey: .workingDirectory)
    }
}

/// A named port. Port 0 asks the agent to assign one (given as `PORT_<NAME>`); a fixed port
/// is a scheduling constraint: one instance using it per node.
public struct PortSpec: Sendable, Hashable, Codable {
    /// A DNS label, unique within the application.
    public var name: String
    /// 0 (assigned) or 1–65535 (fixed).
    public var port: Int

    /// Creates a port.
    public init(name: String, port: Int = 0) {
        self.name = name
        self.port = port
    }

    /// The environment variable that carries the port: `PORT_` + name upper-cased, `-` → `_`.
    public var environmentName: String { "PORT_" + name.uppercased().replacingDashes() }
}

extension String {
    func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}

/// How the agent decides an instance is ready.
public struct HealthCheck: Sendable, Hashable, Codable {
    /// What is probed.
    public enum Probe: Sendable, Hashable {
        /// An HTTP GET of `path` on the named port; 2xx and 3xx are healthy.
        case http(path: String, port: String)
        /// A TCP connect to the named port.
        case tcp(port: String)
        /// A command run in the instance's environment; exit 0 is healthy.
        case exec(command: [String])
    }

    /// The probe.
    public var probe: Probe
    /// Time between probes; default 10s.
    public var interval: Span
    /// Time a probe may take; default 1s.
    public var timeout: Span
    /// Consecutive failures before Unhealthy; default 3.
    public var failureThreshold: Int

    /// Creates a check with the manifest defaults.
    public init(
        probe: Probe, interval: Span = .seconds(10), timeout: Span = .seconds(1), failureThreshold: Int = 3
    ) {
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
        self.failureThreshold = failureThreshold
    }

    enum CodingKeys: String, CodingKey { case http, tcp, exec, interval, timeout, failureThreshold }
    struct HTTPProbe: Codable { var path: String; var port: String }
    struct TCPProbe: Codable { var port: String }
    struct ExecProbe: Codable { var command: [String] }

    /// Decodes the manifest shape: exactly one of `http`, `tcp`, `exec`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let http = try c.decodeIfPresent(HTTPProbe.self, forKey: .http) {
            probe = .http(path: http.path, port: http.port)
        } else if let tcp = try c.decodeIfPresent(TCPProbe.self, forKey: .tcp) {
            probe = .tcp(port: tcp.port)
        } else if let exec = try c.decodeIfPresent(ExecProbe.self, forKey: .exec) {
            probe = .exec(command: exec.command)
        } else {
            throw DecodingError.dataCorruptedError(
                forKey: .http, in: c, debugDescription: "one of http, tcp or exec is required")
        }
        interval = try c.decodeIfPresent(Span.self, forKey: .interval) ?? .seconds(10)
        timeout = try c.decodeIfPresent(Span.self, forKey: .timeout) ?? .seconds(1)
        failureThreshold = try c.decodeIfPresent(Int.self, forKey: .failureThreshold) ?? 3
    }

    /// Encodes the manifest shape.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch probe {
        case .http(let path, let port): try c.encode(HTTPProbe(path: path, port: port), forKey: .http)
        case .tcp(let port): try c.encode(TCPProbe(port: port), forKey: .tcp)
        case .exec(let command): try c.encode(ExecProbe(command: command), forKey: .exec)
        }
        try c.encode(interval, forKey: .interval)
        try c.encode(timeout, forKey: .timeout)
        try c.encode(failureThreshold, forKey: .failureThreshold)
    }
}

/// Where an application's instances may be placed.
public struct Placement: Sendable, Hashable, Codable {
    /// Allowed datacentres (the node label `datacentre`); empty: any.
    public var datacentres: [String]
    /// Node labels that must match exactly.
    public var nodeSelector: [String: String]
    /// Taints these instances tolerate.
    public var tolerations: [Toleration]
    /// A topology key (`zone`, `datacentre`, `rack` or any node label) to spread over with skew ≤ 1.
    public var spread: String?
    /// At most this many of the application's instances on one node.
    public var maxPerNode: Int?

    /// Creates a placement; every constraint defaults to none.
    public init(
        datacentres: [String] = [], nodeSelector: [String: String] = [:], tolerations: [Toleration] = [],
        spread: String? = nil, maxPerNode: Int? = nil
    ) {
        self.datacentres = datacentres
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
        self.spread = spread
        self.maxPerNode = maxPerNode
    }
}

/// What a taint does to instances that do not tolerate it.
public enum TaintEffect: String, CaseIterable, Sendable, Codable {
    /// New instances are not placed on the node.
    case noSchedule = "NoSchedule"
    /// New instances are not placed, and running ones are moved off.
    case noExecute = "NoExecute"
}

/// An operator's mark on a node that keeps instances away unless they tolerate it.
public struct Taint: Sendable, Hashable, Codable {
    /// Label-style key.
    public var key: String
    /// Value; may be empty.
    public var value: String
    /// Effect.
    public var effect: TaintEffect

    /// Creates a taint.
    public init(key: String, value: String = "", effect: TaintEffect) {
        self.key = key
        self.value = value
        self.effect = effect
    }
}

/// A permission to be placed on nodes with a matching taint.
public struct Toleration: Sendable, Hashable, Codable {
    /// The taint's key.
    public var key: String
    /// The taint's value; nil tolerates any value.
    public var value: String?
    /// The taint's effect; nil tolerates both.
    public var effect: TaintEffect?

    /// Creates a toleration.
    public init(key: String, value: String? = nil, effect: TaintEffect? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
    }

    /// True when this toleration covers the taint.
    public func tolerates(_ taint: Taint) -> Bool {
        key == taint.key && (value == nil || value == taint.value) && (effect == nil || effect == taint.effect)
    }
}

/// Rolling-update bounds, as counts of instances.
public struct UpdateStrategy: Sendable, Hashable, Codable {
    /// Extra instances allowed above `replicas` during a rollout; default 1.
    public var maxSurge: Int
    /// Ready instances that may be missing during a rollout; default 0.
    public var maxUnavailable: Int
    /// A rollout without progress for this long fails; default 10m.
    public var progressDeadline: Span
    /// The longest an instance taken down waits for the gateways to stop sending it requests;
    /// nil: the default, 30s.
    public var drainTimeout: Span?

    /// Creates bounds with the manifest defaults.
    public init(
        maxSurge: Int = 1, maxUnavailable: Int = 0, progressDeadline: Span = .minutes(10), drainTimeout: Span? = nil
    ) {
        self.maxSurge = maxSurge
        self.maxUnavailable = maxUnavailable
        self.progressDeadline = progressDeadline
        self.drainTimeout = drainTimeout
    }

    /// `drainTimeout`, or its default.
    public var effectiveDrainTimeout: Span { drainTimeout ?? .seconds(30) }
}

/// `spec.expose[]`: a port published through the gateways under a host name and a path prefix.
public struct ExposeSpec: Sendable, Hashable, Codable {
    /// A port of `spec.ports`, by name.
    public var port: String
    /// A DNS name: `epay.gov.example`.
    public var host: String
    /// A path prefix starting with `/`; default `/`.
    public var path: String

    public init(port: String, host: String, path: String = "/") {
        self.port = port
        self.host = host
        self.path = path
    }

    /// True for a DNS name: labels of `[a-z0-9-]` separated by dots, 253 characters at most.
    public static func isHost(_ text: String) -> Bool {
        guard (1...253).contains(text.utf8.count) else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { Names.isDNSLabel(String($0)) }
    }

    /// True for a path prefix nginx can take as it is: `/`, then letters, digits and `-._~/`.
    public static func isPath(_ text: String) -> Bool {
        guard text.hasPrefix("/"), text.utf8.count <= 256, !text.contains("//"), !text.contains("/../"),
            !text.hasSuffix("/..")
        else { return false }
        return text.utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39)
                || [0x2D, 0x2E, 0x5F, 0x7E, 0x2F].contains($0)
        }
    }
}

/// When the agent restarts an instance whose process ended.
public enum RestartMode: String, CaseIterable, Sendable, Codable {
    /// Whatever the exit code.
    case always
    /// Only on a non-zero exit or a kill.
    case onFailure = "on-failure"
    /// Never.
    case never
}

/// Restart policy with exponential backoff.
public struct RestartPolicy: Sendable, Hashable, Codable {
    /// Default `always`.
    public var policy: RestartMode
    /// First delay; default 1s, doubled per consecutive failure.
    public var backoff: Span
    /// Cap of the delay; default 5m.
    public var maxBackoff: Span

    /// Creates a policy with the manifest defaults.
    public init(policy: RestartMode = .always, backoff: Span = .seconds(1), maxBackoff: Span = .minutes(5)) {
        self.policy = policy
        self.backoff = backoff
        self.maxBackoff = maxBackoff
    }
}
