/// The dashboard's files (`UI/`), compiled into the controller: plain HTML, CSS and JavaScript
/// modules and the message catalogue, no build step. The controller serves them at `/ui/`.
public enum UIAssets {
    /// A file and its content type.
    public struct File: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
    }

    /// The files by name (`index.html`, `app.js`, ...).
    public static let files: [String: File] = [
        "index.html": File(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "style.css": File(bytes: PackageResources.style_css, contentType: "text/css; charset=utf-8"),
        "icon.svg": File(bytes: PackageResources.icon_svg, contentType: "image/svg+xml"),
        "messages.json": File(bytes: PackageResources.messages_json, contentType: "application/json; charset=utf-8"),
        "app.js": script(PackageResources.app_js),
        "api.js": script(PackageResources.api_js),
        "audit.js": script(PackageResources.audit_js),
        "chart.js": script(PackageResources.chart_js),
        "dom.js": script(PackageResources.dom_js),
        "format.js": script(PackageResources.format_js),
        "i18n.js": script(PackageResources.i18n_js),
        "ministry.js": script(PackageResources.ministry_js),
        "names.js": script(PackageResources.names_js),
        "nodes.js": script(PackageResources.nodes_js),
        "overview.js": script(PackageResources.overview_js),
        "session.js": script(PackageResources.session_js),
    ]

    private static func script(_ bytes: [UInt8]) -> File {
        File(bytes: bytes, contentType: "text/javascript; charset=utf-8")
    }
}
