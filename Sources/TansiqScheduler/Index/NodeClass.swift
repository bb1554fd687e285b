import TansiqModel

/// The nodes that pass an instance's static filters (readiness, cordon, datacentre, selector,
/// taints — and, for spread, one domain of the topology key), indexed by free memory and free cpu
/// so that a placement looks at a handful of candidates instead of every node.
///
/// Nodes with nothing placed are kept apart from used ones: binpack fills used nodes first and
/// opens the largest empty node only when none fits, which is what keeps the node count low.
///
/// Used nodes are filed by free memory tier (half octaves: 64Mi, 96Mi, 128Mi, 192Mi, …), then by
/// free cpu. A node whose memory is spent sinks to a low tier, where requests that need more never
/// look: filed by cpu alone, such nodes stayed among the candidates of every request and were tried
/// and refused each time, more of them the fuller the cluster (measured on 26,000 nodes: 3.2 µs a
/// placement on empty nodes, 10.5 µs at 90 % full).
struct NodeClass {
    /// Global node indices, in snapshot order.
    let members: [Int]
    /// Used nodes by memory tier, then free cpu: bucket `tier × cpuBuckets + cpu bucket`.
    var used: BucketList
    /// Empty nodes by free cpu.
    var empty: BucketList
    /// Millicores per cpu bucket.
    let step: Int64
    /// Cpu buckets per memory tier.
    let cpuBuckets: Int
    /// Memory tiers: enough for the largest node.
    let tiers: Int

    init(members: [Int], state: ClusterState) {
        self.members = members
        let buckets = 1024
        step = max(1, (state.maxAllocatableCPU + Int64(buckets) - 1) / Int64(buckets))
        cpuBuckets = buckets + 1
        tiers = Self.tier(state.maxAllocatableMemory) + 1
        used = BucketList(members: members.count, buckets: tiers * cpuBuckets)
        empty = BucketList(members: members.count, buckets: cpuBuckets)
        for (local, node) in members.enumerated() { file(local, node: node, state: state) }
    }

    func bucket(_ cpu: Int64) -> Int { Int(min(max(cpu, 0) / step, Int64(cpuBuckets - 1))) }

    /// The half-octave tier of an amount of memory: 0 below 64Mi, then 1 for [64Mi, 96Mi), 2 for
    /// [96Mi, 128Mi), 3 for [128Mi, 192Mi), … Every node in a tier above a request's has room for it.
    static func tier(_ memory: Int64) -> Int {
        let units = UInt64(max(memory, 0)) >> 26
        guard units > 0 else { return 0 }
        let octave = 63 - units.leadingZeroBitCount
        let half = octave > 0 ? Int((units >> UInt64(octave - 1)) & 1) : 0
        return 1 + 2 * octave + half
    }

    /// Puts a member in the list and bucket its node's state calls for.
    mutating func file(_ local: Int, node: Int, state: ClusterState) {
        used.remove(local)
        empty.remove(local)
        let free = state.free[node]
        if state.isEmpty(node) {
            empty.insert(local, bucket: bucket(free.cpuMillis))
        } else {
            used.insert(
                local, bucket: min(Self.tier(free.memoryBytes), tiers - 1) * cpuBuckets + bucket(free.cpuMillis))
        }
    }

    /// The node binpack chooses: the used node with the least free cpu that passes `accept`,
    /// else the empty node with the most.
    func binpack(_ request: Resources, _ accept: (Int) -> Bool) -> Int? {
        usedChoice(request, leastCPU: true, accept) ?? largestFirst(empty, request, accept)
    }

    /// The node spread chooses: the empty node with the most free cpu, else the used one.
    func spread(_ request: Resources, _ accept: (Int) -> Bool) -> Int? {
        largestFirst(empty, request, accept) ?? usedChoice(request, leastCPU: false, accept)
    }

    /// Among used nodes in every memory tier that may hold the request, the first that passes in
    /// cpu order (least free first, or most), and of those the one with the least (or most) free
    /// cpu; between equal buckets, the lower tier (the less free memory).
    private func usedChoice(_ request: Resources, leastCPU: Bool, _ accept: (Int) -> Bool) -> Int? {
        let floor = bucket(request.cpuMillis)
        var best: (node: Int, bucket: Int)?
        for tier in min(Self.tier(request.memoryBytes), tiers - 1)..<tiers {
            let base = tier * cpuBuckets
            if leastCPU {
                let limit = base + (best.map(\.bucket) ?? cpuBuckets)
                var b = used.firstOccupied(atLeast: base + floor, below: limit)
                while let current = b {
                    if let node = firstAccepted(used, current, accept) {
                        best = (node, current - base)
                        break
                    }
                    b = used.firstOccupied(atLeast: current + 1, below: limit)
                }
            } else {
                let floorBucket = base + max(floor, (best?.bucket ?? -1) + 1)
                var b = used.lastOccupied(atMost: base + cpuBuckets - 1, floor: floorBucket)
                while let current = b {
                    if let node = firstAccepted(used, current, accept) {
                        best = (node, current - base)
                        break
                    }
                    b = used.lastOccupied(atMost: current - 1, floor: floorBucket)
                }
            }
        }
        return best?.node
    }

    /// The first member of a bucket, in insertion order, that passes.
    private func firstAccepted(_ list: BucketList, _ bucket: Int, _ accept: (Int) -> Bool) -> Int? {
        var m = list.head[bucket]
        while m >= 0 {
            let node = members[Int(m)]
            if accept(node) { return node }
            m = list.next[Int(m)]
        }
        return nil
    }

    private func largestFirst(_ list: BucketList, _ request: Resources, _ accept: (Int) -> Bool) -> Int? {
        let floor = bucket(request.cpuMillis)
        var b = list.lastOccupied(atMost: list.bucketCount - 1, floor: floor)
        while let current = b {
            if let node = firstAccepted(list, current, accept) { return node }
            b = list.lastOccupied(atMost: current - 1, floor: floor)
        }
        return nil
    }
}
