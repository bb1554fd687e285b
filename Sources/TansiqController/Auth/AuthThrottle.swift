import Foundation
import NIOConcurrencyHelpers

/// Failed authentications per source address: past `limit` in a window of `window` seconds, a
/// request from that address that does not authenticate gets 429 with `Retry-After` until the
/// window ends, and only the first such refusal of a window is audited (a flood of bad tokens
/// cannot flood the audit log). A request with a good token is never held back.
public final class AuthThrottle: Sendable {
    /// Failed attempts allowed per window and address; 0 turns the throttle off.
    public let limit: Int
    /// The window, in seconds.
    public let window: TimeInterval
    private let windows = NIOLockedValueBox<[String: Window]>([:])

    struct Window {
        var start: Date
        var failures: Int
        var throttledAudited: Bool
    }

    /// What to do with a failed attempt.
    public enum Verdict: Equatable {
        /// Refuse it as unauthenticated (401).
        case unauthenticated
        /// Refuse it with 429 for `retryAfter` seconds; `audit` for the first of its window.
        case throttled(retryAfter: Int, audit: Bool)
    }

    public init(limit: Int = 30, window: TimeInterval = 60) {
        self.limit = limit
        self.window = window
    }

    /// Records a failed attempt from `address` at `now` and says how to refuse it.
    public func failed(from address: String, at now: Date) -> Verdict {
        guard limit > 0 else { return .unauthenticated }
        return windows.withLockedValue { windows in
            // Old windows go, so the table holds only addresses seen in the last window.
            if windows.count > 10_000 { windows = windows.filter { now.timeIntervalSince($0.value.start) < window } }
            var current = windows[address] ?? Window(start: now, failures: 0, throttledAudited: false)
            if now.timeIntervalSince(current.start) >= window {
                current = Window(start: now, failures: 0, throttledAudited: false)
            }
            current.failures += 1
            defer { windows[address] = current }
            guard current.failures > limit else { return .unauthenticated }
            let audit = !current.throttledAudited
            current.throttledAudited = true
            let left = window - now.timeIntervalSince(current.start)
            return .throttled(retryAfter: max(1, Int(left.rounded(.up))), audit: audit)
        }
    }
}
