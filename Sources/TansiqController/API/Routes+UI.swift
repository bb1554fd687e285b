import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TansiqAPI
import TansiqUI

extension Routes {
    /// The dashboard's files, and `GET /v1/whoami` it signs in with. The files need no token (the
    /// page asks for one and sends it to the API); they are served with a policy that allows only
    /// this origin's scripts, styles and calls, and no framing.
    func registerUI(_ table: inout RouteTable) {
        // `/ui` and `/ui/` are one route; the page names its files absolutely.
        table.open(.get, "/ui/") { _, _ in try Self.asset("index.html") }
        table.open(.get, "/ui/{file}") { _, context in try Self.asset(context.parameter("file")) }
        table.add(.get, "/v1/whoami") { _, _, caller in
            try API.json(WhoAmI(subject: caller.subject, role: caller.role.rawValue, ministry: caller.ministry))
        }
    }

    /// The policy every file is served with.
    static let contentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    static func asset(_ name: String) throws -> Response {
        guard let file = UIAssets.files[name] else { throw APIError(.notFound, "no file \(name) in the dashboard") }
        var headers: HTTPFields = [.contentType: file.contentType]
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
