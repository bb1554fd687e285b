import Foundation
import TansiqAPI
import TansiqModel
import TansiqStore

extension Node {
    /// Recomputes the merged labels after a change of either side.
    mutating func mergeLabels() { labels = agentLabels.merging(operatorLabels) { _, op in op } }
}

extension Registry {
    /// How long a node may stay unheard before it reads NotReady, by default.
    public static let defaultGracePeriod: TimeInterval = 30

    /// True when an instance belongs in its node's assignments: placed, and not given up.
    static func isAssigned(_ instance: Instance) -> Bool { instance.holdsResources }

    /// What the node's assigned instances request.
    public func allocated(on node: String) -> Resources {
        state.instances(onNode: node).filter(Self.isAssigned).reduce(Resources.zero) { $0 + $1.resources.vector }
    }

    /// A node as `GET /v1/nodes` shows it: `phase` NotReady when unheard for the grace period,
    /// `allocated` what its assigned instances request. `heartbeat` is when it was last heard
    /// from (nil: not since the controller started, at `startedAt` — the grace period restarts
    /// with the controller, so its downtime never makes a node NotReady).
    public func view(of node: Node, heartbeat: Date?, startedAt: Date, now: Date) -> Node {
        var view = node
        view.phase = phase(of: node, heartbeat: heartbeat, startedAt: startedAt, now: now)
        view.allocated = allocated(on: node.name)
        view.lastHeartbeat = heartbeat
        return view
    }

    /// The node's phase as `view` shows it, without summing what is placed on it: what placement
    /// asks of every node every round.
    public func phase(of node: Node, heartbeat: Date?, startedAt: Date, now: Date) -> NodePhase {
        node.phase == .ready && now.timeIntervalSince(heartbeat ?? startedAt) > gracePeriod ? .notReady : node.phase
    }

    /// The node's desired set, as the agent protocol shapes it.
    public func assignments(of node: String, version: Int64) -> AgentProtocol.Assignments {
        let instances = Self.oldestFirst(state.instances(onNode: node).filter(Self.isAssigned))
        return AgentProtocol.Assignments(
            resourceVersion: version,
            instances: instances.compactMap { instance in
                guard let app = state.applications["\(instance.ministry)/\(instance.application)"] else { return nil }
                let image = app.spec.image.flatMap { reference in
                    instance.imageDigest.map { AgentProtocol.AssignedImage(reference: reference, digest: $0) }
                }
                return AgentProtocol.Assignment(
                    id: instance.id, ministry: instance.ministry, application: instance.application,
                    generation: instance.generation, resources: instance.resources, run: app.spec.run,
                    ports: app.spec.ports, health: app.spec.health, restart: app.spec.restart,
                    stopAfterDisconnect: app.spec.stopAfterDisconnect, image: image,
                    runAs: state.ministries[instance.ministry]?.status?.runAs)
            })
    }

    // MARK: Join

    /// Registers a joining node (its certificate is issued by the caller once this is planned).
    /// Throws `invalid` for a bad name, labels or capacity, `conflict` when the name has joined.
    public func planJoin(
        _ request: AgentProtocol.JoinRequest, token: TokenRecord, now: Date, requestID: String
    ) throws(APIError) -> Outcome<Node> {
        var details = Self.labelProblems(request.labels, path: "labels")
        if !Names.isDNSLabel(request.name) {
            details.insert(.init(path: "name", message: "\"\(request.name)\" is not a DNS label"), at: 0)
        }
        if request.capacity.cpuMillis <= 0 || request.capacity.memoryBytes <= 0 || request.capacity.instances <= 0
            || request.capacity.storageBytes < 0
        {
            details.append(.init(path: "capacity", message: "cpu, memory and instances must be positive"))
        }
        if !details.isEmpty { throw APIError(.invalid, "the join request is invalid", details: details) }
        if state.nodes[request.name] != nil {
            throw APIError(
                .conflict, "node \(request.name) has already joined; an operator must remove it before it joins again")
        }
        var node = Node(
            name: request.name, phase: .joining, agentLabels: request.labels, capacity: request.capacity,
            allocatable: request.capacity)
        node.lastHeartbeat = nil
        let audit = AuditRecord(
            time: now, requestID: requestID, subject: "bootstrap:\(token.id)", role: Role.bootstrap.rawValue,
            action: "join", object: "Node/\(request.name)", result: "created")
        return Outcome(
            changeset: Changeset(
                basedOn: state.resourceVersion, resourceVersion: state.resourceVersion + 1,
                mutations: [.putNode(node)], audit: [audit]),
            value: node)
    }

    static func labelProblems(_ labels: [String: String], path: String) -> [APIError.Detail] {
        labels.sorted { $0.key < $1.key }.compactMap { key, value in
            if !Names.isLabelKey(key) { return .init(path: "\(path).\(key)", message: "\"\(key)\" is not a label key") }
            if !Names.isLabelValue(value) {
                return .init(path: "\(path).\(key)", message: "\"\(value)\" is not a label value")
            }
            return nil
        }
    }

    // MARK: Status

    /// What an agent's status changes, or nil when it changes nothing (then nothing is written).
    /// Reports of instances not assigned to the node are ignored: its assignments no longer hold
    /// them and its agent stops them. Statuses do not move the cluster's version.
    public func planStatus(node name: String, _ status: AgentProtocol.Status) throws(APIError) -> Changeset? {
        guard var node = state.nodes[name] else {
            throw APIError(.notFound, "node \(name) is not in the cluster; it must join again")
        }
        var details = Self.labelProblems(status.labels, path: "labels")
        for (index, report) in status.instances.enumerated()
        where !AgentProtocol.InstanceReport.reportablePhases.contains(report.phase) {
            details.append(
                .init(path: "instances[\(index)].phase", message: "an agent may not report \(report.phase.rawValue)"))
        }
        if let address = status.address, !IPAddress.isValid(address) {
            details.append(.init(path: "address", message: "\"\(address)\" is not an IPv4 or IPv6 address"))
        }
        if let port = status.logPort, !(1...65535).contains(port) {
            details.append(.init(path: "logPort", message: "\(port) is not a port (1-65535)"))
        }
        if !details.isEmpty { throw APIError(.invalid, "the status is invalid", details: details) }
        var mutations: [Mutation] = []
        let before = node
        node.capacity = status.capacity
        node.allocatable = status.allocatable
        node.agentLabels = status.labels
        node.enforcement = status.enforcement
        node.isolation = status.isolation ?? Isolation.none
        if let address = status.address { node.address = address }
        node.logPort = status.logPort
        node.mergeLabels()
        if node.phase == .joining || node.phase == .notReady { node.phase = .ready }
        if node != before { mutations.append(.putNode(node)) }
        for report in status.instances {
            guard var instance = state.instances[report.id], instance.node == name, Self.isAssigned(instance) else {
                continue
            }
            let was = instance
            // A Terminating instance stays so until it is let go, whatever it does meanwhile.
            if instance.phase != .terminating { instance.phase = report.phase }
            instance.exitCode = report.exitCode
            instance.restarts = report.restarts
            instance.ports = report.ports
            instance.message = report.message
            if instance != was { mutations.append(.putInstance(instance)) }
        }
        return mutations.isEmpty ? nil : Changeset(basedOn: state.resourceVersion, mutations: mutations)
    }
}

extension Registry {
    // MARK: Operators' node changes

    private func operatorNode(_ name: String, _ caller: Caller, _ what: String) throws(APIError) -> Node {
        guard Access.isOperator(caller) else { throw APIError(.forbidden, Access.refusal(caller, "\(what) nodes")) }
        guard let node = state.nodes[name] else { throw APIError(.notFound, "Node/\(name) does not exist") }
        return node
    }

    /// Changes a node's operator labels and taints.
    public func planPatchNode(
        name: String, patch: NodePatch, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ChangeResult> {
        var node = try operatorNode(name, caller, "label or taint")
        var labels = node.operatorLabels
        for (key, value) in patch.labels ?? [:] { labels[key] = value }
        var details = Self.labelProblems(labels, path: "labels")
        for (index, taint) in (patch.taints ?? []).enumerated() where !Names.isLabelKey(taint.key) {
            details.append(.init(path: "taints[\(index)].key", message: "\"\(taint.key)\" is not a label key"))
        }
        if !details.isEmpty { throw APIError(.invalid, "the node patch is invalid", details: details) }
        node.operatorLabels = labels
        node.taints = patch.taints ?? node.taints
        node.mergeLabels()
        return single(
            [.putNode(node)], object: "Node/\(name)", action: "node.patch", result: "configured", caller: caller,
            now: now, requestID: requestID)
    }

    /// Cordons or uncordons a node: a cordoned node takes no new instances.
    public func planCordon(
        name: String, cordon: Bool, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ChangeResult> {
        var node = try operatorNode(name, caller, cordon ? "cordon" : "uncordon")
        node.cordoned = cordon
        if !cordon { node.draining = false }
        return single(
            [.putNode(node)], object: "Node/\(name)", action: cordon ? "node.cordon" : "node.uncordon",
            result: cordon ? "cordoned" : "uncordoned", caller: caller, now: now, requestID: requestID)
    }

    /// Removes a node. Refused while it holds instances, unless it is drained or lost
    /// (`notReady`); the instances of a lost node are marked Lost.
    public func planRemoveNode(
        name: String, notReady: Bool, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ChangeResult> {
        let node = try operatorNode(name, caller, "remove")
        let held = state.instances(onNode: name).filter(Self.isAssigned)
        if !held.isEmpty && !node.draining && !notReady {
            throw APIError(
                .conflict,
                "node \(name) holds \(held.count) instance(s); drain it first, or remove it once it is NotReady")
        }
        var mutations: [Mutation] = held.map { instance in
            .putInstance(instance.ended(.lost, reason: "node \(name) was removed", at: now))
        }
        mutations.append(.deleteNode(name))
        return single(
            mutations, object: "Node/\(name)", action: "node.remove", result: "deleted", caller: caller, now: now,
            requestID: requestID)
    }
}
