/// `placement.spread`: instance counts per domain of the topology key stay within a skew of 1.
///
/// Domains are those of the nodes that pass the static filters. A placement goes to a domain
/// with the fewest of the application's instances among the domains that have room for it, so
/// skew ≤ 1 holds whenever it can (a full domain cannot hold back the others, as with
/// Kubernetes' `whenUnsatisfiable: ScheduleAnyway` limited to feasible domains).
enum SpreadFilter {
    /// The domains in the order they are tried: fewest instances first, then by name.
    static func order(_ request: InstanceRequest, key: String, domains: [String], _ state: ClusterState) -> [String] {
        let counts = state.appInDomain[ClusterState.domainKey(request.applicationKey, key)] ?? [:]
        return domains.sorted { (counts[$0] ?? 0, $0) < (counts[$1] ?? 0, $1) }
    }

}
