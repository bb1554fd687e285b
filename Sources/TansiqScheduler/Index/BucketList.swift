/// Members (small integers) kept in buckets by a key, with O(1) move and a bitmap to find the
/// next non-empty bucket above or below a key in O(buckets / 64).
///
/// Iteration order within a bucket is insertion order (newest last), which depends only on the
/// sequence of operations: plans stay deterministic.
struct BucketList {
    private(set) var head: [Int32]
    private(set) var tail: [Int32]
    private(set) var next: [Int32]
    private(set) var prev: [Int32]
    private(set) var bucketOf: [Int32]
    private var occupied: [UInt64]

    init(members: Int, buckets: Int) {
        head = Array(repeating: -1, count: buckets)
        tail = Array(repeating: -1, count: buckets)
        next = Array(repeating: -1, count: members)
        prev = Array(repeating: -1, count: members)
        bucketOf = Array(repeating: -1, count: members)
        occupied = Array(repeating: 0, count: (buckets + 63) / 64)
    }

    var bucketCount: Int { head.count }

    func contains(_ member: Int) -> Bool { bucketOf[member] >= 0 }

    mutating func insert(_ member: Int, bucket: Int) {
        let m = Int32(member)
        bucketOf[member] = Int32(bucket)
        prev[member] = tail[bucket]
        next[member] = -1
        if tail[bucket] >= 0 { next[Int(tail[bucket])] = m } else { head[bucket] = m }
        tail[bucket] = m
        occupied[bucket >> 6] |= 1 << UInt64(bucket & 63)
    }

    mutating func remove(_ member: Int) {
        let bucket = Int(bucketOf[member])
        guard bucket >= 0 else { return }
        let p = prev[member]
        let n = next[member]
        if p >= 0 { next[Int(p)] = n } else { head[bucket] = n }
        if n >= 0 { prev[Int(n)] = p } else { tail[bucket] = p }
        bucketOf[member] = -1
        if head[bucket] < 0 { occupied[bucket >> 6] &= ~(1 << UInt64(bucket & 63)) }
    }

    /// The lowest non-empty bucket ≥ `bucket` and < `limit` (the end when nil).
    func firstOccupied(atLeast bucket: Int, below limit: Int? = nil) -> Int? {
        let end = min(limit ?? head.count, head.count)
        guard bucket < end else { return nil }
        var word = bucket >> 6
        var bits = occupied[word] & (~0 << UInt64(bucket & 63))
        while true {
            if bits != 0 {
                let found = word << 6 + bits.trailingZeroBitCount
                return found < end ? found : nil
            }
            word += 1
            if word << 6 >= end { return nil }
            bits = occupied[word]
        }
    }

    /// The highest non-empty bucket ≤ `bucket` and ≥ `floor`.
    func lastOccupied(atMost bucket: Int, floor: Int = 0) -> Int? {
        guard bucket >= max(floor, 0) else { return nil }
        var word = bucket >> 6
        let shift = 63 - UInt64(bucket & 63)
        var bits = occupied[word] & (~0 >> shift)
        while true {
            if bits != 0 {
                let found = word << 6 + 63 - bits.leadingZeroBitCount
                return found >= floor ? found : nil
            }
            word -= 1
            if word < 0 || (word << 6) + 63 < floor { return nil }
            bits = occupied[word]
        }
    }
}
