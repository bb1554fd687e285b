import Foundation

/// The watches of lists (`GET /v1/...?watch=true&after=RV&wait=S`): each waits for the next
/// commit that changes something (an apply, a loop's round, an agent's report), or for its wait
/// to run out. Agents' reports do not move the cluster's version, so a watch that asks after the
/// current version waits for the next commit of any kind.
actor CommitWatch {
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var next = 0
    private var released = false

    /// Wakes every watch.
    func changed() {
        let woken = waiters.values
        waiters = [:]
        for waiter in woken { waiter.resume() }
    }

    /// Returns after the next commit, or after `timeout`.
    func wait(timeout: Duration) async {
        if released { return }
        next += 1
        let id = next
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(id)
        }
        await withCheckedContinuation { waiters[id] = $0 }
        timer.cancel()
    }

    private func expire(_ id: Int) { waiters.removeValue(forKey: id)?.resume() }

    /// Answers every watch now and from now on (the controller is stopping).
    func release() {
        released = true
        changed()
    }
}
