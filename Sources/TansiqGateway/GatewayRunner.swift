import AsyncHTTPClient
import Foundation
import Logging
import TansiqAPI
import TansiqModel

/// `tansiq-gateway run`: follows the endpoints long poll with a gateway's token, renders the
/// nginx configuration of what it answers, checks each new file with `nginx -t` before
/// `nginx -s reload`, and reports the endpoints version its workers serve — after every change
/// it applies, and every 10 seconds when nothing changes — so that the controller stops an
/// instance only once no gateway sends it requests.
public final class GatewayRunner: Sendable {
    let settings: GatewaySettings
    let nginx: Nginx
    let client: TansiqClient
    let logger: Logger
    /// The probe's client (a unix socket).
    let probe: HTTPClient

    /// How long one long poll waits: also how often the gateway reports when nothing changes.
    static let reportInterval = 10

    public init(settings: GatewaySettings, nginx executable: String, client: TansiqClient, logger: Logger) {
        self.settings = settings
        self.nginx = Nginx(executable: executable, settings: settings)
        self.client = client
        self.logger = logger
        var configuration = HTTPClient.Configuration()
        // A probe that finds no socket yet fails at once (and is asked again), never backs off.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.idleTimeout = .milliseconds(1)
        self.probe = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The configuration to compare: what a version changes in the text (its header and the
    /// probe's answer) is not a change of routing.
    static func routing(_ list: EndpointsList, _ settings: GatewaySettings) -> String {
        var unversioned = list
        unversioned.resourceVersion = 0
        return NginxConfig.render(unversioned, settings: settings)
    }

    /// Makes the prefix's folders; when the gateway runs as root, nginx's workers run as
    /// `workerUser` and own the temporary folders.
    func prepare() throws {
        let fm = FileManager.default
        for dir in [settings.configDir, settings.temporaryDir] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try? fm.removeItem(atPath: settings.probeSocket)
        if let user = settings.workerUser?.split(separator: " ").first, let entry = getpwnam(String(user)) {
            chown(settings.temporaryDir, entry.pointee.pw_uid, entry.pointee.pw_gid)
        }
    }

    /// Writes `list`'s configuration through a checked temporary file; throws what `nginx -t` said.
    func write(_ list: EndpointsList) throws {
        let next = settings.configDir + "/nginx.conf.next"
        try NginxConfig.render(list, settings: settings).write(toFile: next, atomically: true, encoding: .utf8)
        if let problem = try nginx.test(next) {
            throw Failure(
                description: "nginx -t refused the configuration of version \(list.resourceVersion): \(problem)")
        }
        guard rename(next, settings.configFile) == 0 else {
            throw Failure(description: "cannot put \(next) in place: \(String(cString: strerror(errno)))")
        }
    }

    /// Runs until cancelled; nginx is stopped (gracefully) when it returns. Throws at once when
    /// the controller refuses the token or nginx cannot start.
    public func run() async throws {
        try prepare()
        var list: EndpointsList
        do {
            list = try await client.endpoints()
        } catch ClientError.refused(let failure) {
            throw Failure(description: "the controller refused the gateway's token: \(failure.message)")
        }
        try write(list)
        var master = try nginx.start()
        do {
            try await serve(list, master: &master)
        } catch {
            await Nginx.stop(master)
            throw error
        }
        await Nginx.stop(master)
    }

    /// Follows the endpoints from `list` (the configuration nginx was started with) until cancelled.
    private func serve(_ first: EndpointsList, master: inout Process) async throws {
        var list = first
        try await nginx.waitForVersion(list.resourceVersion, probe, master: master)
        var applied = list.resourceVersion
        var routing = Self.routing(list, settings)
        logger.info(
            "serving",
            metadata: [
                "version": "\(applied)", "applications": "\(list.items.count)", "pid": "\(master.processIdentifier)",
            ])
        await report(applied)
        var backoff = 1.0
        while !Task.isCancelled {
            do {
                list = try await client.endpoints(after: applied, wait: Self.reportInterval)
                backoff = 1
            } catch {
                if Task.isCancelled { break }
                logger.warning("endpoints unavailable; nginx keeps what it has", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
                backoff = min(10, backoff * 2)
                continue
            }
            if !master.isRunning {
                logger.error("nginx exited; starting it again", metadata: ["status": "\(master.terminationStatus)"])
                master = try nginx.start()
                routing = ""
            }
            let next = Self.routing(list, settings)
            if next != routing {
                do {
                    try write(list)
                    try nginx.reload()
                    try await nginx.waitForVersion(list.resourceVersion, probe, master: master)
                    routing = next
                    logger.info("applied", metadata: ["version": "\(list.resourceVersion)"])
                } catch {
                    // The workers keep the last good configuration; the version is not reported, so
                    // nothing leaves before its drain timeout.
                    logger.error("not applied", metadata: ["version": "\(list.resourceVersion)", "error": "\(error)"])
                    await report(applied)
                    continue
                }
            }
            applied = list.resourceVersion
            await report(applied)
        }
    }

    private func report(_ version: Int64) async {
        do {
            _ = try await client.reportGateway(name: settings.name, endpointsVersion: version)
        } catch {
            logger.warning("status not delivered", metadata: ["version": "\(version)", "error": "\(error)"])
        }
    }

    /// Closes the probe's client.
    public func shutdown() async { try? await probe.shutdown() }
}
