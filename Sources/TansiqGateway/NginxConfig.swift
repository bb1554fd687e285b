import TansiqAPI
import TansiqModel

/// How a gateway's nginx is set up: where it keeps its files and what it listens on.
public struct GatewaySettings: Sendable, Equatable {
    /// The gateway's name, as it reports itself.
    public var name: String
    /// nginx's prefix: the configuration, its pid, logs, temporary files and the probe socket.
    public var configDir: String
    /// The port plain HTTP is served on.
    public var httpPort: Int
    /// The port HTTPS is served on, with the certificate and key files (all three or none).
    public var https: HTTPS?
    /// The user nginx's workers run as when the gateway runs as root (nil: nginx's default).
    public var workerUser: String?

    public struct HTTPS: Sendable, Equatable {
        public var port: Int
        public var certificate: String
        public var key: String

        public init(port: Int, certificate: String, key: String) {
            self.port = port
            self.certificate = certificate
            self.key = key
        }
    }

    public init(name: String, configDir: String, httpPort: Int, https: HTTPS? = nil, workerUser: String? = nil) {
        self.name = name
        self.configDir = configDir
        self.httpPort = httpPort
        self.https = https
        self.workerUser = workerUser
    }

    /// The configuration file nginx runs.
    public var configFile: String { configDir + "/nginx.conf" }
    /// The unix socket of the version probe: answers the endpoints version the running
    /// configuration was rendered at, so the gateway knows when a reload has taken effect.
    public var probeSocket: String { configDir + "/probe.sock" }
    /// Temporary files of request and response bodies.
    public var temporaryDir: String { configDir + "/tmp" }
}

/// Renders the nginx configuration of a set of endpoints: an upstream per exposed port of an
/// application with ready instances, a server block per host with a location per path, and a
/// default server answering 404 for any other host. A path other than `/` matches itself and
/// what lies under it (`/api` and `/api/...`, never `/apiary`). An application without a ready
/// instance answers 503. Pure: the same endpoints give the same text.
public enum NginxConfig {
    public static func render(_ list: EndpointsList, settings: GatewaySettings) -> String {
        var upstreams: [String] = []
        // host → [(path, target)]; target is an upstream name, or nil for 503.
        var routes: [String: [(path: String, upstream: String?)]] = [:]
        for app in list.items.sorted(by: { ($0.ministry, $0.application) < ($1.ministry, $1.application) }) {
            for expose in app.expose {
                let servers = app.endpoints.compactMap { endpoint -> String? in
                    guard let address = endpoint.address, let port = endpoint.ports[expose.port] else { return nil }
                    return address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
                }
                var upstream: String?
                if !servers.isEmpty {
                    // Names are DNS labels: dots keep every application's upstream apart.
                    let name = "\(app.ministry).\(app.application).\(expose.port)"
                    if !upstreams.contains(where: { $0.hasPrefix("    upstream \(name) {") }) {
                        var block = "    upstream \(name) {\n"
                        for server in servers { block += "        server \(server) max_fails=1 fail_timeout=2s;\n" }
                        block += "        keepalive 32;\n    }\n"
                        upstreams.append(block)
                    }
                    upstream = name
                }
                routes[expose.host, default: []].append((expose.path, upstream))
            }
        }
        let listen = { (options: String) -> String in
            var lines = "        listen \(settings.httpPort)\(options);\n"
            if let https = settings.https { lines += "        listen \(https.port) ssl\(options);\n" }
            return lines
        }
        var text = """
            # Written by tansiq-gateway \(settings.name) at endpoints version \(list.resourceVersion).
            # Rewritten at every change of the endpoints: do not edit.
            \(settings.workerUser.map { "user \($0);\n" } ?? "")worker_processes 2;
            pid \(settings.configDir)/nginx.pid;
            error_log \(settings.configDir)/error.log warn;
            events {
                worker_connections 4096;
            }
            http {
                access_log off;
                server_tokens off;
                default_type text/plain;
                client_body_temp_path \(settings.temporaryDir)/body;
                proxy_temp_path \(settings.temporaryDir)/proxy;
                fastcgi_temp_path \(settings.temporaryDir)/fastcgi;
                uwsgi_temp_path \(settings.temporaryDir)/uwsgi;
                scgi_temp_path \(settings.temporaryDir)/scgi;
                proxy_http_version 1.1;
                proxy_set_header Connection "";
                proxy_set_header Host $host;
                proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                proxy_set_header X-Forwarded-Proto $scheme;
                proxy_connect_timeout 2s;
                proxy_next_upstream error timeout;
                proxy_next_upstream_tries 3;

            """
        if let https = settings.https {
            text += """
                    ssl_certificate \(https.certificate);
                    ssl_certificate_key \(https.key);
                    ssl_protocols TLSv1.2 TLSv1.3;
                    ssl_ciphers \(TLSPolicy.tls12CipherSuites);
                    ssl_prefer_server_ciphers off;
                    ssl_session_cache shared:tansiq:10m;

                """
        }
        text += upstreams.joined()
        text += """
                server {
                    listen unix:\(settings.probeSocket);
                    location = /version {
                        return 200 "\(list.resourceVersion)";
                    }
                }
                server {
            \(listen(" default_server"))        return 404;
                }

            """
        for host in routes.keys.sorted() {
            text += "    server {\n" + listen("") + "        server_name \(host);\n"
            for (path, upstream) in routes[host]!.sorted(by: { $0.path < $1.path }) {
                let action = upstream.map { "proxy_pass http://\($0);" } ?? "return 503;"
                if path == "/" {
                    text += "        location / {\n            \(action)\n        }\n"
                } else {
                    let base = path.hasSuffix("/") ? String(path.dropLast()) : path
                    text += "        location = \(base) {\n            \(action)\n        }\n"
                    text += "        location \(base)/ {\n            \(action)\n        }\n"
                }
            }
            text += "    }\n"
        }
        return text + "}\n"
    }
}
