import Foundation

/// A hosted application of one ministry: what to run, how many, with what resources and where.
public struct Application: Sendable, Hashable, Codable {
    /// `metadata.ministry` names the owner.
    public var metadata: ObjectMeta
    /// What the ministry declared.
    public var spec: ApplicationSpec
    /// What the controller reports; nil in a manifest.
    public var status: ApplicationStatus?

    /// Creates an application.
    public init(metadata: ObjectMeta, spec: ApplicationSpec, status: ApplicationStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// `ministry/name`, the application's key in the cluster.
    public var key: String { "\(metadata.ministry ?? "")/\(metadata.name)" }
}

/// The declared shape of an application; defaults are those of the manifest language.
public struct ApplicationSpec: Sendable, Hashable, Codable {
    /// Desired instance count; default 1.
    public var replicas: Int
    /// Default `standard`.
    public var priority: Priority
    /// Per-instance request.
    public var resources: ResourceRequest
    /// The OCI image it runs (`HOST[:PORT]/PATH[:TAG][@sha256:HEX]`), or nil for the node's
    /// host runtime.
    public var image: String?
    /// The process to run; with an image an empty command means the image's entrypoint and cmd.
    public var run: RunSpec
    /// Named ports; port 0 is assigned by the agent.
    public var ports: [PortSpec]
    /// Readiness check; nil: ready once Running.
    public var health: HealthCheck?
    /// Where instances may go.
    public var placement: Placement
    /// Rolling-update bounds.
    public var update: UpdateStrategy
    /// What the agent does when the process ends.
    public var restart: RestartPolicy
    /// When set, the agent stops these instances after losing the controller this long.
    public var stopAfterDisconnect: Span?
    /// The ministry's secrets mounted as files; nil: none.
    public var secrets: [SecretMount]?
    /// Ports published through the gateways; nil: none.
    public var expose: [ExposeSpec]?
    /// Other ministries that may read its endpoints; nil: none.
    public var consumers: [String]?

    /// Creates a spec with the manifest defaults.
    public init(
        replicas: Int = 1, priority: Priority = .standard, resources: ResourceRequest, image: String? = nil,
        run: RunSpec,
        ports: [PortSpec] = [], health: HealthCheck? = nil, placement: Placement = Placement(),
        update: UpdateStrategy = UpdateStrategy(), restart: RestartPolicy = RestartPolicy(),
        stopAfterDisconnect: Span? = nil, secrets: [SecretMount]? = nil, expose: [ExposeSpec]? = nil,
        consumers: [String]? = nil
    ) {
        self.secrets = secrets
        self.expose = expose
        self.consumers = consumers
        self.replicas = replicas
        self.priority = priority
        self.resources = resources
        self.image = image
        self.run = run
        self.ports = ports
        self.health = health
        self.placement = placement
        self.update = update
        self.restart = restart
        self.stopAfterDisconnect = stopAfterDisconnect
    }

    /// replicas × per-instance request: what admission counts against the quota.
    public var totalRequest: Resources { resources.vector.times(Int64(replicas)) }

    /// The names of the secrets the application uses, mounted or in its environment.
    public var secretNames: Set<String> {
        Set((secrets ?? []).map(\.name)).union(run.secretEnv.values.map(\.secret))
    }

    /// The names of the secrets whose change rolls the application out: every one it takes in its
    /// environment, and the mounted ones but those with `restartOnChange: false`.
    public var restartingSecrets: Set<String> {
        Set((secrets ?? []).filter(\.restartOnChange).map(\.name)).union(run.secretEnv.values.map(\.secret))
    }
}

/// What the controller reports for an application.
public struct ApplicationStatus: Sendable, Hashable, Codable {
    /// `spec.replicas`.
    public var desired: Int
    /// Instances that are ready (Healthy, or Running without a health check).
    public var ready: Int
    /// Instances of the target generation.
    public var updated: Int
    /// Ready instances of any generation that count towards availability.
    public var available: Int
    /// The generation most instances run.
    public var currentGeneration: Int64
    /// The generation being rolled out (the spec's).
    public var targetGeneration: Int64
    /// `Complete`, `Progressing` or `Failed`.
    public var rollout: String
    /// Why the rollout is where it is (a failure's reason, a rollout without surge room).
    public var message: String?
    /// When the rollout last made progress (a new instance ready, an old one taken down).
    public var progressAt: Date?
    /// The manifest digest `spec.image` resolved to when the spec was last applied: what every
    /// instance of the target generation runs.
    public var imageDigest: String?
    /// The last templates applied, newest last (kept in the store for `rollout history` and
    /// `rollout undo`; the API's application view leaves them out).
    public var revisions: [Revision]?
    /// Set when the application was deleted while some of its instances were leaving the
    /// gateways: it goes once they have (nil otherwise).
    public var deleting: Date?

    /// Creates a status.
    public init(
        desired: Int, ready: Int, updated: Int, available: Int, currentGeneration: Int64, targetGeneration: Int64,
        rollout: String, message: String? = nil, progressAt: Date? = nil, imageDigest: String? = nil
    ) {
        self.imageDigest = imageDigest
        self.message = message
        self.progressAt = progressAt
        self.desired = desired
        self.ready = ready
        self.updated = updated
        self.available = available
        self.currentGeneration = currentGeneration
        self.targetGeneration = targetGeneration
        self.rollout = rollout
    }
}

/// One generation's template as it was applied: what `tansiq rollout history` lists and
/// `rollout undo` applies again.
public struct Revision: Sendable, Hashable, Codable {
    /// The generation it made.
    public var generation: Int64
    /// The spec as applied.
    public var spec: ApplicationSpec
    /// The digest its image resolved to.
    public var imageDigest: String?
    /// Who applied it.
    public var appliedBy: String
    /// When.
    public var appliedAt: Date

    public init(generation: Int64, spec: ApplicationSpec, imageDigest: String?, appliedBy: String, appliedAt: Date) {
        self.generation = generation
        self.spec = spec
        self.imageDigest = imageDigest
        self.appliedBy = appliedBy
        self.appliedAt = appliedAt
    }

    /// How many revisions an application keeps.
    public static let kept = 10
}
