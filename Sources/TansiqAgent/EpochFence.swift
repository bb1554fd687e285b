import Foundation
import Synchronization
import TansiqModel

/// The fence an agent keeps against a deposed leader: the highest leadership epoch it has seen in
/// an assignments answer, kept in the data directory (`epoch`) across restarts. An answer of a
/// lower epoch is a controller that no longer leads, and is ignored whole.
public final class EpochFence: Sendable {
    private let file: String
    private let value: Locked<Int64>

    /// The fence kept in `file` (0 when there is none yet).
    public init(file: String) {
        self.file = file
        let stored = (try? String(contentsOfFile: file, encoding: .utf8))
            .flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        value = Locked(stored ?? 0)
    }

    /// The highest epoch seen.
    public var highest: Int64 { value.withLock { $0 } }

    /// True when an answer of `epoch` may be acted on (nil: a controller that does not say, taken
    /// as the current one); a higher epoch is remembered first.
    public func admit(_ epoch: Int64?) -> Bool {
        guard let epoch else { return true }
        let (admitted, raised) = value.withLock { highest -> (Bool, Bool) in
            if epoch < highest { return (false, false) }
            if epoch == highest { return (true, false) }
            highest = epoch
            return (true, true)
        }
        if raised { try? AgentDirectory.writeAtomically(Data("\(epoch)\n".utf8), to: file, mode: 0o600) }
        return admitted
    }
}
