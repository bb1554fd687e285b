import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import TansiqModel

/// Health checks over the node's network: an HTTP GET answered 2xx/3xx, or a TCP connection
/// accepted, within the check's timeout. (`exec` checks run inside the instance, through its
/// runtime.)
enum Probes {
    /// Runs an `http` or `tcp` check against an instance whose ports are `ports`; true when healthy.
    static func run(_ check: HealthCheck, ports: [String: Int], http: HTTPClient) async -> Bool {
        switch check.probe {
        case .http(let path, let port):
            guard let number = ports[port] else { return false }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(number)\(path)")
            request.method = .GET
            guard let response = try? await http.execute(request, timeout: .milliseconds(check.timeout.milliseconds))
            else { return false }
            _ = try? await response.body.collect(upTo: 1 << 20)
            return (200..<400).contains(Int(response.status.code))
        case .tcp(let port):
            guard let number = ports[port] else { return false }
            return await tcp(port: number, timeoutMillis: check.timeout.milliseconds)
        case .exec:
            return false
        }
    }

    static func tcp(port: Int, timeoutMillis: Int64) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(timeoutMillis))
                .connect(host: "127.0.0.1", port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// True when nothing listens on the port (a bind succeeds).
    static func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
