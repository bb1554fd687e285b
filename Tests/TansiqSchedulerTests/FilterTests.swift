import TansiqModel
import Testing

@testable import TansiqScheduler

@Suite("Filters explain why an instance stays pending")
struct FilterTests {
    static let cases: [(String, [SchedulerNode], InstanceRequest, String)] = [
        ("a cordoned node takes nothing", [node("a", cordoned: true)], request("i"), "0/1 nodes: 1 cordoned"),
        ("a node that is not ready takes nothing", [node("a", ready: false)], request("i"), "0/1 nodes: 1 not ready"),
        (
            "too little memory is named", [node("a", memory: gi / 2), node("b", cpu: 500)], request("i"),
            "0/2 nodes: 1 insufficient cpu, 1 insufficient memory"
        ),
        (
            "no free instance slot is named", [node("a", slots: 0)], request("i"), "0/1 nodes: 1 no free instance slots"
        ),
        (
            "a datacentre constraint names the datacentres", [node("a", labels: ["datacentre": "dc-1"]), node("b")],
            request("i", constraints: Constraints(datacentres: ["dc-2"])), "0/2 nodes: 2 not in datacentre dc-2"
        ),
        (
            "a node selector names the label", [node("a", labels: ["disk": "hdd"])],
            request("i", constraints: Constraints(nodeSelector: ["disk": "ssd"])),
            "0/1 nodes: 1 node selector disk=ssd not matched"
        ),
        (
            "an untolerated taint is named",
            [node("a", taints: [Taint(key: "dedicated", value: "gpu", effect: .noSchedule)])],
            request("i"), "0/1 nodes: 1 untolerated taint dedicated=gpu:NoSchedule"
        ),
        (
            "reasons are counted per node, most frequent first",
            [node("a", cordoned: true), node("b", memory: 0), node("c", memory: 0)], request("i"),
            "0/3 nodes: 2 insufficient memory, 1 cordoned"
        ),
    ]

    @Test("each filter says why", arguments: cases)
    func explains(name: String, nodes: [SchedulerNode], instance: InstanceRequest, reason: String) {
        let plan = Scheduler.plan(Snapshot(nodes: nodes, ministries: []), [instance])
        #expect(plan.reason(of: instance.id) == reason, "\(name)")
        #expect(plan.assignments.isEmpty)
    }

    @Test("a tolerated taint lets the instance in")
    func toleratedTaint() {
        let tainted = node("a", taints: [Taint(key: "dedicated", value: "health", effect: .noExecute)])
        let tolerant = request(
            "i", constraints: Constraints(tolerations: [Toleration(key: "dedicated", value: "health")]))
        #expect(Scheduler.plan(Snapshot(nodes: [tainted], ministries: []), [tolerant]).node(of: "i") == "a")
    }

    @Test("a fixed port is taken once per node")
    func fixedPorts() {
        let ports = Constraints(fixedPorts: [8443])
        let plan = Scheduler.plan(
            Snapshot(nodes: [node("a"), node("b")], ministries: []),
            [request("1", constraints: ports), request("2", constraints: ports), request("3", constraints: ports)])
        #expect(Set([plan.node(of: "1"), plan.node(of: "2")]) == ["a", "b"])
        #expect(plan.reason(of: "3") == "0/2 nodes: 2 port 8443 in use")
    }

    @Test("a port two placed instances hold (their application gained it later) stays in use when one leaves")
    func sharedPortStaysUsed() {
        let ports = Constraints(fixedPorts: [8443])
        let placed = ["1", "2"].map {
            PlacedInstance(request: request($0, constraints: ports), node: "a", guaranteed: true)
        }
        let scheduler = Scheduler(snapshot: Snapshot(nodes: [node("a")], ministries: [], placed: placed))
        scheduler.state.remove("1")
        #expect(scheduler.state.usedPorts[0].contains(8443))
        let plan = scheduler.schedule([request("3", constraints: ports)])
        #expect(plan.reason(of: "3") == "0/1 nodes: 1 port 8443 in use")
        scheduler.state.remove("2")
        #expect(scheduler.schedule([request("4", constraints: ports)]).node(of: "4") == "a")
    }

    @Test("maxPerNode caps an application's instances on a node")
    func maxPerNode() {
        let one = Constraints(maxPerNode: 1)
        let plan = Scheduler.plan(
            Snapshot(nodes: [node("a"), node("b")], ministries: []),
            (1...3).map { request("\($0)", constraints: one) })
        #expect(plan.assignments.count == 2)
        #expect(plan.reason(of: "3") == "0/2 nodes: 2 maxPerNode 1 reached")
    }

    @Test("spread keeps zones within a skew of 1")
    func spread() {
        let nodes = ["a", "b", "c"].flatMap { zone in
            (1...2).map { node("\(zone)\($0)", cpu: 16000, memory: 64 * gi, labels: ["zone": zone]) }
        }
        let plan = Scheduler.plan(
            Snapshot(nodes: nodes, ministries: []),
            (1...7).map { request("\($0)", constraints: Constraints(spread: "zone")) })
        let zones = plan.assignments.map { String($0.node.prefix(1)) }
        let counts = Dictionary(grouping: zones, by: { $0 }).mapValues(\.count)
        #expect(counts.values.max()! - counts.values.min()! <= 1)
        #expect(counts.count == 3)
    }
}

@Suite("Scorers")
struct ScorerTests {
    @Test("binpack fills the fuller node and opens the largest empty one only when needed")
    func binpack() {
        let nodes = [node("small", cpu: 2000), node("large", cpu: 8000), node("medium", cpu: 4000)]
        let plan = Scheduler.plan(Snapshot(nodes: nodes, ministries: []), (1...3).map { request("\($0)", memory: 0) })
        #expect(plan.assignments.map(\.node) == ["large", "large", "large"])
    }

    @Test("spread puts each instance on the emptiest node")
    func spread() {
        let nodes = [node("a"), node("b"), node("c")]
        let plan = Scheduler.plan(
            Snapshot(nodes: nodes, ministries: []), (1...3).map { request("\($0)") },
            options: SchedulerOptions(scorer: .spread))
        #expect(Set(plan.assignments.map(\.node)) == ["a", "b", "c"])
    }

    @Test("the same snapshot gives the same plan")
    func deterministic() {
        let nodes = (0..<50).map { node("n\($0)", cpu: Int64(1000 * ($0 % 7 + 1)), labels: ["zone": "z\($0 % 3)"]) }
        var pending: [InstanceRequest] = []
        for i in 0..<200 {
            let cpu = Int64(100 * (i % 5 + 1))
            let memory = Int64(i % 4) << 28
            let spread: String? = i % 2 == 0 ? "zone" : nil
            pending.append(
                request("\(i)", app: "app\(i % 9)", cpu: cpu, memory: memory, constraints: Constraints(spread: spread)))
        }
        let a = Scheduler.plan(Snapshot(nodes: nodes, ministries: []), pending)
        let b = Scheduler.plan(Snapshot(nodes: nodes, ministries: []), pending)
        #expect(a == b)
    }
}

@Suite("Unlimited slots and unlisted ministries")
struct UnlimitedTests {
    @Test("thousands of nodes with unlimited instance slots, and ministries with no terms, schedule without overflow")
    func unlimitedEverywhere() {
        let nodes = (0..<2_000).map { i in
            SchedulerNode(
                name: "n\(i)",
                allocatable: Resources(cpuMillis: 4000, memoryBytes: 8 * gi, instances: Resources.unlimited.instances))
        }
        let requests = (0..<50).map { request("i\($0)", ministry: "unlisted-\($0 % 3)") }
        let plan = Scheduler.plan(Snapshot(nodes: nodes, ministries: []), requests)
        #expect(plan.assignments.count == 50)
        #expect(plan.unplaced.isEmpty)
        // binpack: four 1-cpu instances per 4-cpu node.
        #expect(Set(plan.assignments.map(\.node)).count == 13)
    }
}
