import Foundation
import TansiqModel
import TansiqRegistry

/// What `join` records in the data directory (`agent.json`) for `run`: where the controller is,
/// who this node is, and what it offers.
public struct AgentConfig: Sendable, Codable, Equatable {
    /// The controller's URL, `https://HOST:PORT` (the first of `servers`).
    public var server: String
    /// The controllers of the cluster, tried in turn (nil in a data directory joined to one).
    public var servers: [String]?
    /// The node's name.
    public var name: String
    /// The node's labels (`datacentre`, `zone`, `rack`, free-form).
    public var labels: [String: String]
    /// Declared capacity (a share of the host), or nil to measure it.
    public var capacity: Resources?
    /// Kept back for the system (like Kubernetes' system-reserved).
    public var reserve: ResourceLimits
    /// Ports the agent hands to instances.
    public var portRange: ClosedRange<Int>
    /// Seconds between status reports (with jitter).
    public var statusInterval: Double
    /// How instances run: isolation settings and registry access (nil in a data directory
    /// joined before they existed: the defaults).
    public var runtime: RuntimeOptions?
    /// The address the node's instances are reached at (`--address`); nil: the one the
    /// connection to the controller leaves from.
    public var address: String?
    /// Where the agent serves instances' logs (`--listen`); nil: `defaultListen`.
    public var listen: String?

    /// Where the agent serves instances' logs unless told otherwise: every interface, port 10250.
    public static let defaultListen = ":10250"

    /// Every controller to try, `server` first.
    public var allServers: [String] {
        var all = [server]
        for other in servers ?? [] where !all.contains(other) { all.append(other) }
        return all
    }

    /// Creates a configuration.
    public init(
        server: String, servers: [String]? = nil, name: String, labels: [String: String], capacity: Resources?,
        reserve: ResourceLimits,
        portRange: ClosedRange<Int>, statusInterval: Double = 5, runtime: RuntimeOptions? = nil,
        address: String? = nil, listen: String? = nil
    ) {
        self.runtime = runtime
        self.address = address
        self.listen = listen
        self.server = server
        self.servers = servers
        self.name = name
        self.labels = labels
        self.capacity = capacity
        self.reserve = reserve
        self.portRange = portRange
        self.statusInterval = statusInterval
    }
}

/// How the agent runs instances: what `join` records and `run` may override.
public struct RuntimeOptions: Sendable, Codable, Equatable {
    /// Isolation of runc instances.
    public var isolation: IsolationSettings
    /// How registries are reached.
    public var registry: RegistryAccess
    /// Images no instance uses are removed beyond this many bytes.
    public var imageCacheBytes: Int64

    /// Creates options; the defaults are DESIGN's.
    public init(
        isolation: IsolationSettings = IsolationSettings(), registry: RegistryAccess = RegistryAccess(),
        imageCacheBytes: Int64 = 10 << 30
    ) {
        self.isolation = isolation
        self.registry = registry
        self.imageCacheBytes = imageCacheBytes
    }
}

/// The agent's data directory and its files.
public struct AgentDirectory: Sendable {
    /// Its path.
    public let path: String

    /// A data directory at `path`.
    public init(path: String) { self.path = path }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// The configuration `join` wrote.
    public var config: String { file("agent.json") }
    /// The node's private key (PEM, 0600), made on the node and never sent.
    public var key: String { file("node.key") }
    /// The node's certificate (PEM).
    public var certificate: String { file("node.crt") }
    /// The cluster CA (PEM), as pinned at join.
    public var ca: String { file("ca.crt") }
    /// What the agent runs, so that a restarted agent adopts its instances.
    public var state: String { file("state.json") }
    /// The highest leader epoch the agent has seen: assignments of a lower one are ignored.
    public var epoch: String { file("epoch") }
    /// Instances' own directories (`data/`, their `/data`) and logs.
    public var instances: String { file("instances") }
    /// Pulled image blobs and unpacked root filesystems.
    public var images: String { file("images") }
    /// Instances' secrets: a tmpfs per secret, never on disk.
    public var secrets: String { file("secrets") }

    /// Writes `data` atomically (a temporary file renamed over) with `mode`.
    func write(_ data: Data, to file: String, mode: Int) throws {
        try Self.writeAtomically(data, to: file, mode: mode)
    }

    /// Writes `data` to `file` through a temporary file renamed over it, with `mode`.
    static func writeAtomically(_ data: Data, to file: String, mode: Int) throws {
        let temporary = file + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: mode])
        else { throw AgentError.io("cannot write \(temporary)") }
        if rename(temporary, file) != 0 { throw AgentError.io("cannot rename \(temporary) to \(file)") }
    }

    /// Reads a file.
    func read(_ file: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw AgentError.io("cannot read \(file)")
        }
        return data
    }
}

/// Why the agent stopped or refused.
public enum AgentError: Error, CustomStringConvertible {
    /// A file could not be read or written.
    case io(String)
    /// The controller said no, or presented the wrong CA.
    case refused(String)
    /// The input is invalid.
    case invalid(String)

    public var description: String {
        switch self {
        case .io(let m), .refused(let m), .invalid(let m): m
        }
    }
}
