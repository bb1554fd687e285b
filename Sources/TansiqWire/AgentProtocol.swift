import Foundation
import TansiqModel

/// The public agent protocol of DESIGN.md: what any agent sends and receives. Quantities are
/// canonical strings on the wire; `instances` is an integer.
public enum AgentProtocol {
    /// `POST /v1/agent/join` body.
    public struct JoinRequest: Sendable, Hashable, Codable {
        /// The node's name (a DNS label), also the CSR's common name.
        public var name: String
        /// A PEM certificate signing request.
        public var csr: String
        /// The agent's own labels (`datacentre`, `zone`, `rack`, free-form).
        public var labels: [String: String]
        /// What the node offers.
        public var capacity: Resources

        /// Creates a request.
        public init(name: String, csr: String, labels: [String: String], capacity: Resources) {
            self.name = name
            self.csr = csr
            self.labels = labels
            self.capacity = capacity
        }
    }

    /// `POST /v1/agent/join` and `POST /v1/agent/nodes/{name}/renew` answer.
    public struct Certificates: Sendable, Hashable, Codable {
        /// The node's client certificate (PEM), signed by the cluster CA.
        public var certificate: String
        /// The cluster CA (PEM), the same as `ca.crt`.
        public var caCertificate: String

        /// Creates an answer.
        public init(certificate: String, caCertificate: String) {
            self.certificate = certificate
            self.caCertificate = caCertificate
        }
    }

    /// `POST /v1/agent/nodes/{name}/renew` body.
    public struct RenewRequest: Sendable, Hashable, Codable {
        /// A PEM certificate signing request with the node's name as common name.
        public var csr: String

        /// Creates a request.
        public init(csr: String) { self.csr = csr }
    }

    /// One instance as the agent reports it.
    public struct InstanceReport: Sendable, Hashable, Codable {
        /// The instance id, from the assignments.
        public var id: String
        /// Its phase on the node.
        public var phase: InstancePhase
        /// The last exit code, once it exited.
        public var exitCode: Int?
        /// Restarts so far.
        public var restarts: Int
        /// Ports it was given, by name.
        public var ports: [String: Int]
        /// A sentence: why it is in that phase.
        public var message: String?

        /// Creates a report.
        public init(
            id: String, phase: InstancePhase, exitCode: Int? = nil, restarts: Int = 0, ports: [String: Int] = [:],
            message: String? = nil
        ) {
            self.id = id
            self.phase = phase
            self.exitCode = exitCode
            self.restarts = restarts
            self.ports = ports
            self.message = message
        }

        enum CodingKeys: String, CodingKey { case id, phase, exitCode, restarts, ports, message }

        /// Decodes a report; `restarts` and `ports` may be left out.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            phase = try c.decode(InstancePhase.self, forKey: .phase)
            exitCode = try c.decodeIfPresent(Int.self, forKey: .exitCode)
            restarts = try c.decodeIfPresent(Int.self, forKey: .restarts) ?? 0
            ports = try c.decodeIfPresent([String: Int].self, forKey: .ports) ?? [:]
            message = try c.decodeIfPresent(String.self, forKey: .message)
        }

        /// The phases an agent may report; the others are the controller's to set.
        public static let reportablePhases: Set<InstancePhase> = [
            .starting, .running, .healthy, .unhealthy, .exited, .oomKilled, .failed, .stopped,
        ]
    }

    /// `PUT /v1/agent/nodes/{name}/status` body.
    public struct Status: Sendable, Hashable, Codable {
        /// What the node has.
        public var capacity: Resources
        /// What it offers to instances (capacity less what the system keeps).
        public var allocatable: Resources
        /// The agent's labels.
        public var labels: [String: String]
        /// How it limits instances.
        public var enforcement: Enforcement
        /// How it isolates instances; an agent that leaves it out is taken to isolate nothing.
        public var isolation: Isolation?
        /// Every instance it runs or ran for its current assignments.
        public var instances: [InstanceReport]
        /// The address its instances are reached at; nil: the controller keeps what it had.
        public var address: String?
        /// The port its agent serves instances' logs on (mutual TLS, the controller's certificate only).
        public var logPort: Int?

        /// Creates a status.
        public init(
            capacity: Resources, allocatable: Resources, labels: [String: String], enforcement: Enforcement,
            isolation: Isolation? = nil, instances: [InstanceReport], address: String? = nil, logPort: Int? = nil
        ) {
            self.address = address
            self.logPort = logPort
            self.isolation = isolation
            self.capacity = capacity
            self.allocatable = allocatable
            self.labels = labels
            self.enforcement = enforcement
            self.instances = instances
        }
    }

    /// `PUT /v1/agent/nodes/{name}/status` answer.
    public struct StatusAnswer: Sendable, Hashable, Codable {
        /// The cluster's version.
        public var resourceVersion: Int64

        /// Creates an answer.
        public init(resourceVersion: Int64) { self.resourceVersion = resourceVersion }
    }

    /// The image an assignment runs: the reference as the application names it, and the
    /// manifest digest the agent pulls and verifies.
    public struct AssignedImage: Sendable, Hashable, Codable {
        /// `HOST[:PORT]/PATH[:TAG]` as written in `spec.image`.
        public var reference: String
        /// `sha256:HEX` of the manifest (or image index) that the generation runs.
        public var digest: String

        /// Creates an image.
        public init(reference: String, digest: String) {
            self.reference = reference
            self.digest = digest
        }
    }

    /// A secret an instance uses, with its values.
    public struct AssignedSecret: Sendable, Hashable, Codable {
        public var name: String
        /// Raised by every change of the values.
        public var version: Int64
        /// Where its keys appear as files (0400, the ministry's uid) inside the instance; nil when
        /// the instance takes it in its environment only.
        public var mount: String?
        /// The values by key, base64.
        public var data: [String: String]

        public init(name: String, version: Int64, mount: String?, data: [String: String]) {
            self.name = name
            self.version = version
            self.mount = mount
            self.data = data
        }

        /// A value's bytes.
        public func bytes(_ key: String) -> Data? { data[key].flatMap { Data(base64Encoded: $0) } }
    }

    /// One instance a node must run.
    public struct Assignment: Sendable, Hashable, Codable {
        public var id: String
        public var ministry: String
        public var application: String
        public var generation: Int64
        public var resources: ResourceRequest
        /// The image it runs; nil: the node's host runtime.
        public var image: AssignedImage?
        /// Its ministry's uid and gid; nil from a controller that gives none (the agent then
        /// refuses to run it isolated).
        public var runAs: RunAs?
        public var run: RunSpec
        public var ports: [PortSpec]
        public var health: HealthCheck?
        public var restart: RestartPolicy
        public var stopAfterDisconnect: Span?
        /// The values of the secrets it uses (mounted, or in its environment): sent only in the
        /// assignments of the instances that use them, over mutual TLS; the agent keeps them in
        /// memory and in the instance's tmpfs mounts only. Nil: none.
        public var secrets: [AssignedSecret]?

        /// Creates an assignment.
        public init(
            id: String, ministry: String, application: String, generation: Int64, resources: ResourceRequest,
            run: RunSpec, ports: [PortSpec], health: HealthCheck?, restart: RestartPolicy, stopAfterDisconnect: Span?,
            image: AssignedImage? = nil, runAs: RunAs? = nil
        ) {
            self.image = image
            self.runAs = runAs
            self.id = id
            self.ministry = ministry
            self.application = application
            self.generation = generation
            self.resources = resources
            self.run = run
            self.ports = ports
            self.health = health
            self.restart = restart
            self.stopAfterDisconnect = stopAfterDisconnect
        }
    }

    /// `GET /v1/agent/nodes/{name}/assignments` answer: the node's whole desired set.
    public struct Assignments: Sendable, Hashable, Codable {
        /// The version of the set's last change.
        public var resourceVersion: Int64
        /// Every instance the node must run.
        public var instances: [Assignment]
        /// The leadership term of the controller that answered: an agent ignores answers of a
        /// lower epoch than the highest it has seen (a deposed leader's word). Nil from a
        /// controller that does not say.
        public var epoch: Int64?

        /// Creates an answer.
        public init(resourceVersion: Int64, instances: [Assignment], epoch: Int64? = nil) {
            self.resourceVersion = resourceVersion
            self.instances = instances
            self.epoch = epoch
        }
    }
}

/// `GET /v1/snapshot`: nodes, quota terms and placed instances, as the scheduler sees them.
/// Filtered by role: a ministry role gets its own quota terms and, for its cohort, only the
/// aggregate (`cohorts`); another ministry's placed instance reads as `-` with its resources
/// and node, never its ministry, application or id.
public struct ClusterSnapshot: Sendable, Codable, Equatable {
    /// A cohort in aggregate: what its members lend and what is borrowed of it.
    public struct Cohort: Sendable, Codable, Equatable {
        public var name: String
        /// The cohort's lendable pool: the sum of its members' lendable quota.
        public var pool: Resources
        /// What its members borrow in total.
        public var borrowed: Resources

        public init(name: String, pool: Resources, borrowed: Resources) {
            self.name = name
            self.pool = pool
            self.borrowed = borrowed
        }
    }

    /// A ministry's quota terms.
    public struct QuotaTerms: Sendable, Codable, Equatable {
        public var ministry: String
        /// Effective quota.
        public var quota: Resources
        public var cohort: String?
        public var borrowingLimit: ResourceLimits?
        public var lendingLimit: ResourceLimits?
        public var weight: Double
        public var priorities: [Priority]

        public init(
            ministry: String, quota: Resources, cohort: String?, borrowingLimit: ResourceLimits?,
            lendingLimit: ResourceLimits?, weight: Double, priorities: [Priority]
        ) {
            self.ministry = ministry
            self.quota = quota
            self.cohort = cohort
            self.borrowingLimit = borrowingLimit
            self.lendingLimit = lendingLimit
            self.weight = weight
            self.priorities = priorities
        }
    }

    /// A placed instance and what constrains it.
    public struct Placed: Sendable, Codable, Equatable {
        public var id: String
        public var ministry: String
        public var application: String
        public var priority: Priority
        public var resources: ResourceRequest
        public var node: String
        public var guaranteed: Bool
        public var placement: Placement
        public var fixedPorts: [Int]

        public init(
            id: String, ministry: String, application: String, priority: Priority, resources: ResourceRequest,
            node: String, guaranteed: Bool, placement: Placement, fixedPorts: [Int]
        ) {
            self.id = id
            self.ministry = ministry
            self.application = application
            self.priority = priority
            self.resources = resources
            self.node = node
            self.guaranteed = guaranteed
            self.placement = placement
            self.fixedPorts = fixedPorts
        }
    }

    /// Nodes as `GET /v1/nodes` shows them (phase as of now).
    public var nodes: [Node]
    public var ministries: [QuotaTerms]
    public var cohorts: [Cohort]
    public var placed: [Placed]

    public init(nodes: [Node], ministries: [QuotaTerms], cohorts: [Cohort], placed: [Placed]) {
        self.nodes = nodes
        self.ministries = ministries
        self.cohorts = cohorts
        self.placed = placed
    }
}
