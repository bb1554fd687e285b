/// How a node is chosen among the feasible ones; a controller-wide setting.
public enum Scorer: String, Sendable, CaseIterable {
    /// Fewest nodes, least stranded capacity: the used node with the least free cpu that fits,
    /// and only when none does, the largest empty node. The default: sharing is for buying fewer
    /// servers.
    case binpack
    /// The node with the most free cpu: empty nodes first, largest first.
    case spread

    /// Chooses in a node class.
    func choose(_ nodeClass: NodeClass, _ request: InstanceRequest, _ accept: (Int) -> Bool) -> Int? {
        switch self {
        case .binpack: nodeClass.binpack(request.resources, accept)
        case .spread: nodeClass.spread(request.resources, accept)
        }
    }
}
