import TansiqModel

/// The nodes that pass an instance's static filters (readiness, cordon, datacentre, selector,
/// taints — and, for spread, one domain of the topology key), indexed by free cpu so that a
/// placement looks at a handful of candidates instead of every node.
///
/// Nodes with nothing placed are kept apart from used ones: binpack fills used nodes first and
/// opens the largest empty node only when none fits, which is what keeps the node count low.
struct NodeClass {
    /// Global node indices, in snapshot order.
    let members: [Int]
    /// Used nodes by free cpu.
    var used: BucketList
    /// Empty nodes by free cpu.
    var empty: BucketList
    /// Millicores per bucket.
    let step: Int64

    init(members: [Int], state: ClusterState) {
        self.members = members
        let buckets = 1024
        step = max(1, (state.maxAllocatableCPU + Int64(buckets) - 1) / Int64(buckets))
        used = BucketList(members: members.count, buckets: buckets + 1)
        empty = BucketList(members: members.count, buckets: buckets + 1)
        for (local, node) in members.enumerated() { file(local, node: node, state: state) }
    }

    func bucket(_ cpu: Int64) -> Int { Int(min(max(cpu, 0) / step, Int64(used.bucketCount - 1))) }

    /// Puts a member in the list and bucket its node's state calls for.
    mutating func file(_ local: Int, node: Int, state: ClusterState) {
        used.remove(local)
        empty.remove(local)
        let b = bucket(state.free[node].cpuMillis)
        if state.isEmpty(node) { empty.insert(local, bucket: b) } else { used.insert(local, bucket: b) }
    }

    /// The node binpack chooses: the used node with the least free cpu that passes `accept`,
    /// else the empty node with the most.
    func binpack(_ request: Resources, _ accept: (Int) -> Bool) -> Int? {
        var b = used.firstOccupied(atLeast: bucket(request.cpuMillis))
        while let current = b {
            var m = used.head[current]
            while m >= 0 {
                let node = members[Int(m)]
                if accept(node) { return node }
                m = used.next[Int(m)]
            }
            b = used.firstOccupied(atLeast: current + 1)
        }
        return largestFirst(empty, request, accept)
    }

    /// The node spread chooses: the empty node with the most free cpu, else the used one.
    func spread(_ request: Resources, _ accept: (Int) -> Bool) -> Int? {
        largestFirst(empty, request, accept) ?? largestFirst(used, request, accept)
    }

    private func largestFirst(_ list: BucketList, _ request: Resources, _ accept: (Int) -> Bool) -> Int? {
        let floor = bucket(request.cpuMillis)
        var b = list.lastOccupied(atMost: list.bucketCount - 1)
        while let current = b, current >= floor {
            var m = list.head[current]
            while m >= 0 {
                let node = members[Int(m)]
                if accept(node) { return node }
                m = list.next[Int(m)]
            }
            b = list.lastOccupied(atMost: current - 1)
        }
        return nil
    }
}
