import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// The request context of every route: the channel (for the peer certificate on agent routes)
/// and the request's id (also sent as `X-Request-ID` and written to the audit log).
public struct ControllerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    public let channel: any Channel
    /// This request's id.
    public let requestID: String
    /// Who the request turned out to be from, once authenticated (for the middleware's audit).
    public let caller = CallerSlot()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.requestID = RequestIDs.next()
    }

    /// Bodies are read explicitly with their own limits (`APIHandler.body`).
    public var maxUploadSize: Int { API.maxBodySize }
}

/// Who one request is from once known (a person's token, or a node's certificate), readable by
/// the middleware after the handler ran.
public final class CallerSlot: Sendable {
    private let value = NIOLockedValueBox<(subject: String, role: String)?>(nil)

    /// Records a person.
    func set(_ caller: Caller) { set(subject: caller.subject, role: caller.role.rawValue) }

    /// Records any caller.
    func set(subject: String, role: String) { value.withLockedValue { $0 = (subject, role) } }

    /// Subject and role, if known.
    var identity: (subject: String, role: String)? { value.withLockedValue { $0 } }
}

/// Request ids: a per-process random prefix and a counter, unique and cheap.
enum RequestIDs {
    private static let prefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    private static let counter = Counter()

    static func next() -> String { "\(prefix)-\(counter.next())" }

    private final class Counter: Sendable {
        private let value = NIOLockedValueBox<UInt64>(0)
        func next() -> UInt64 {
            value.withLockedValue {
                $0 += 1; return $0
            }
        }
    }
}
