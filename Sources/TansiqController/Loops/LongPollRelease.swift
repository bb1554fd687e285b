import ServiceLifecycle

/// On graceful shutdown, answers the agents' open long polls at once: the server drains
/// in-flight requests before it stops, and a poll may otherwise hold it for up to a minute.
/// It goes after the application in the service group, so that it is shut down first.
public struct LongPollRelease: Service {
    let cluster: Cluster

    /// A releaser for `cluster`'s polls.
    public init(cluster: Cluster) { self.cluster = cluster }

    public func run() async throws {
        try? await gracefulShutdown()
        await cluster.releaseLongPolls()
    }
}
