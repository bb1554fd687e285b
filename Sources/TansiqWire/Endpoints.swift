import Foundation
import TansiqModel

/// One ready instance of an application: where it is reached.
public struct Endpoint: Sendable, Hashable, Codable {
    public var instance: String
    public var node: String
    /// The node's address (nil until its agent reported one).
    public var address: String?
    /// Its ports by name.
    public var ports: [String: Int]

    public init(instance: String, node: String, address: String?, ports: [String: Int]) {
        self.instance = instance
        self.node = node
        self.address = address
        self.ports = ports
    }
}

/// An application's endpoints: its ready instances (Healthy, or Running without a health check;
/// never Terminating) and what it publishes through the gateways.
public struct ApplicationEndpoints: Sendable, Hashable, Codable {
    public var ministry: String
    public var application: String
    public var expose: [ExposeSpec]
    public var endpoints: [Endpoint]

    public init(ministry: String, application: String, expose: [ExposeSpec], endpoints: [Endpoint]) {
        self.ministry = ministry
        self.application = application
        self.expose = expose
        self.endpoints = endpoints
    }
}

/// `GET /v1/endpoints`: the applications the caller may read the endpoints of, at the endpoints
/// version `resourceVersion` (a long poll answers once it passes `after`).
public struct EndpointsList: Sendable, Hashable, Codable {
    public var resourceVersion: Int64
    public var items: [ApplicationEndpoints]

    public init(resourceVersion: Int64, items: [ApplicationEndpoints]) {
        self.resourceVersion = resourceVersion
        self.items = items
    }
}

/// `PUT /v1/gateways/{name}/status`: the endpoints version a gateway has applied.
public struct GatewayStatus: Sendable, Hashable, Codable {
    public var endpointsVersion: Int64

    public init(endpointsVersion: Int64) { self.endpointsVersion = endpointsVersion }
}

/// `GET /v1/gateways`: a gateway and when it last reported.
public struct GatewayView: Sendable, Hashable, Codable {
    public var name: String
    public var endpointsVersion: Int64
    public var reportedAt: Date

    public init(name: String, endpointsVersion: Int64, reportedAt: Date) {
        self.name = name
        self.endpointsVersion = endpointsVersion
        self.reportedAt = reportedAt
    }
}
