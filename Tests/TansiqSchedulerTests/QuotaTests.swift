import TansiqModel
import Testing

@testable import TansiqScheduler

@Suite("Quota at placement: guaranteed, borrowed, refused")
struct QuotaTests {
    static let big = [node("a", cpu: 64000, memory: 256 * gi)]

    @Test("instances within the effective quota are guaranteed, beyond it borrowed from the cohort")
    func guaranteedThenBorrowed() {
        let plan = Scheduler.plan(
            Snapshot(
                nodes: Self.big,
                ministries: [quota("health", cpu: 2000, cohort: "c"), quota("finance", cpu: 4000, cohort: "c")]),
            (1...3).map { request("\($0)", ministry: "health") })
        #expect(plan.assignments.map(\.guaranteed) == [true, true, false])
    }

    @Test("a ministry without a cohort borrows nothing")
    func noCohort() {
        let plan = Scheduler.plan(
            Snapshot(nodes: Self.big, ministries: [quota("health", cpu: 1000), quota("finance", cpu: 4000)]),
            [request("1"), request("2")])
        #expect(plan.assignments.count == 1)
        #expect(plan.reason(of: "2") == "quota of health exhausted (cpu) and it has no cohort to borrow from")
    }

    @Test("critical instances never borrow")
    func criticalNeverBorrows() {
        let plan = Scheduler.plan(
            Snapshot(
                nodes: Self.big,
                ministries: [quota("health", cpu: 1000, cohort: "c"), quota("finance", cpu: 4000, cohort: "c")]),
            [request("1", priority: .critical), request("2", priority: .critical)])
        #expect(plan.assignments.count == 1)
        #expect(plan.reason(of: "2") == "quota of health exhausted (cpu); critical instances never borrow")
    }

    @Test("borrowing stops at the borrowing limit and at what others lend")
    func limits() {
        let limited = Scheduler.plan(
            Snapshot(
                nodes: Self.big,
                ministries: [
                    quota("health", cpu: 1000, cohort: "c", borrowing: ResourceLimits(cpuMillis: 1000)),
                    quota("finance", cpu: 4000, cohort: "c"),
                ]),
            (1...4).map { request("\($0)") })
        #expect(limited.assignments.count == 2)
        let lending = Scheduler.plan(
            Snapshot(
                nodes: Self.big,
                ministries: [
                    quota("health", cpu: 1000, cohort: "c"),
                    quota("finance", cpu: 4000, cohort: "c", lending: ResourceLimits(cpuMillis: 2000)),
                ]),
            (1...5).map { request("\($0)") })
        #expect(lending.assignments.count == 3)
        #expect(
            lending.reason(of: "4") == "quota of health exhausted (cpu) and its borrowing limit reached", "\(lending)")
    }

    @Test("a ministry uses only the priorities it is allowed")
    func priorities() {
        let plan = Scheduler.plan(
            Snapshot(nodes: Self.big, ministries: [quota("health", cpu: 8000, priorities: [.standard, .batch])]),
            [request("1", priority: .high)])
        #expect(plan.reason(of: "1") == "ministry health may not use priority high")
    }

    @Test("idle cohort capacity is shared by weighted dominant share")
    func fairShare() {
        // Lender L lends 8 cores; A and B (weights 1 and 1) each want 8 borrowed cores.
        let ministries = [
            quota("lender", cpu: 8000, cohort: "c"), quota("a", cpu: 0, cohort: "c"), quota("b", cpu: 0, cohort: "c"),
        ]
        let pending =
            (1...8).map { request("a\($0)", ministry: "a", sequence: Int64($0)) }
            + (1...8).map { request("b\($0)", ministry: "b", sequence: Int64($0)) }
        let plan = Scheduler.plan(Snapshot(nodes: Self.big, ministries: ministries), pending)
        let placedA = plan.assignments.filter { $0.instance.hasPrefix("a") }.count
        let placedB = plan.assignments.filter { $0.instance.hasPrefix("b") }.count
        #expect(placedA + placedB == 8)
        #expect(abs(placedA - placedB) <= 1)
    }
}

@Suite("Admission at apply")
struct AdmissionTests {
    let ledger = QuotaLedger([
        quota("health", cpu: 4000, memory: 8 * gi, cohort: "c"),
        quota("finance", cpu: 2000, memory: 4 * gi, cohort: "c", lending: ResourceLimits(cpuMillis: 1000)),
    ])

    @Test("an application within quota plus borrowing limit is admitted")
    func admitted() {
        let verdict = Admission.check(
            ministry: "health", application: "registry",
            request: Resources(cpuMillis: 5000, memoryBytes: gi, instances: 5),
            critical: false, admitted: [:], ledger: ledger)
        #expect(verdict.admitted)
        #expect(verdict.borrowingLimit.cpuMillis == 1000)
    }

    @Test("beyond quota plus borrowing limit it is refused with the numbers")
    func refused() {
        let verdict = Admission.check(
            ministry: "health", application: "registry",
            request: Resources(cpuMillis: 4000, memoryBytes: gi, instances: 4),
            critical: false, admitted: ["portal": (Resources(cpuMillis: 2000, memoryBytes: gi, instances: 2), false)],
            ledger: ledger)
        #expect(!verdict.admitted)
        #expect(
            verdict.message
                == "ministry health would need cpu 6 but its quota is cpu 4 plus cpu 1 it may borrow; cpu 2 is admitted to its other applications"
        )
    }

    @Test("re-applying an application does not count it twice")
    func reapply() {
        let verdict = Admission.check(
            ministry: "health", application: "registry", request: Resources(cpuMillis: 4000, instances: 4),
            critical: false, admitted: ["registry": (Resources(cpuMillis: 4000, instances: 4), false)], ledger: ledger)
        #expect(verdict.admitted)
    }

    @Test("critical applications must fit the quota alone")
    func critical() {
        let verdict = Admission.check(
            ministry: "health", application: "registry", request: Resources(cpuMillis: 5000, instances: 5),
            critical: true, admitted: [:], ledger: ledger)
        #expect(!verdict.admitted)
        #expect(verdict.message.contains("critical instances never borrow"))
    }

    @Test("without a cohort nothing may be borrowed")
    func noCohort() {
        let solo = QuotaLedger([quota("health", cpu: 1000)])
        #expect(solo.borrowingCeiling("health") == .zero)
    }
}

@Suite("Preemption")
struct PreemptionTests {
    @Test("within a ministry a higher priority evicts the newest lower-priority instance")
    func withinMinistry() {
        let n = node("a", cpu: 2000)
        let placed = [
            PlacedInstance(
                request: request("old", app: "batch", priority: .batch, sequence: 1), node: "a", guaranteed: true),
            PlacedInstance(
                request: request("new", app: "batch", priority: .batch, sequence: 2), node: "a", guaranteed: true),
        ]
        let plan = Scheduler.plan(
            Snapshot(nodes: [n], ministries: [quota("health", cpu: 8000)], placed: placed),
            [request("urgent", app: "portal", priority: .high, sequence: 3)])
        #expect(plan.victims == ["new"])
        #expect(plan.node(of: "urgent") == "a")
    }

    @Test("another ministry's guaranteed instances and critical instances are never evicted")
    func neverEvicted() {
        let placed = [
            PlacedInstance(request: request("f", ministry: "finance", priority: .batch), node: "a", guaranteed: true),
            PlacedInstance(
                request: request("c", app: "pay", cpu: 1000, priority: .critical), node: "a", guaranteed: true),
        ]
        let plan = Scheduler.plan(
            Snapshot(
                nodes: [node("a", cpu: 2000)], ministries: [quota("health", cpu: 8000), quota("finance", cpu: 8000)],
                placed: placed),
            [request("x", app: "portal", priority: .high)])
        #expect(plan.victims.isEmpty)
        #expect(plan.reason(of: "x") == "0/1 nodes: 1 insufficient cpu")
    }

    @Test("a lender placing within its quota evicts borrowers whatever their priority")
    func reclaim() {
        let placed = (1...4).map {
            PlacedInstance(
                request: request("b\($0)", ministry: "borrower", priority: .high, sequence: Int64($0)), node: "a",
                guaranteed: false)
        }
        let ministries = [quota("lender", cpu: 4000, cohort: "c"), quota("borrower", cpu: 0, cohort: "c")]
        let plan = Scheduler.plan(
            Snapshot(nodes: [node("a", cpu: 4000)], ministries: ministries, placed: placed),
            [request("l1", ministry: "lender", priority: .batch), request("l2", ministry: "lender", priority: .batch)])
        #expect(plan.assignments.map(\.instance) == ["l1", "l2"])
        #expect(plan.assignments.allSatisfy { $0.guaranteed })
        #expect(plan.victims == ["b4", "b3"])
    }

    @Test("the victim set is minimal: a large victim spares the small ones")
    func minimal() {
        let placed = [
            PlacedInstance(
                request: request("s1", app: "b", cpu: 500, priority: .batch, sequence: 3), node: "a", guaranteed: true),
            PlacedInstance(
                request: request("s2", app: "b", cpu: 500, priority: .batch, sequence: 2), node: "a", guaranteed: true),
            PlacedInstance(
                request: request("big", app: "b", cpu: 2000, priority: .batch, sequence: 1), node: "a", guaranteed: true
            ),
        ]
        let plan = Scheduler.plan(
            Snapshot(nodes: [node("a", cpu: 3000)], ministries: [quota("health", cpu: 8000)], placed: placed),
            [request("x", app: "portal", cpu: 2000, priority: .high)])
        #expect(plan.victims == ["big"])
    }
}
