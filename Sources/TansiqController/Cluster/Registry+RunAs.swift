import Foundation
import TansiqModel
import TansiqStore

extension Registry {
    /// Gives a uid of its own to every ministry that has none (one created before uids were
    /// given), in name order after those already given; the ministries' count moves past them.
    func planRunAsForOlderMinistries() -> Outcome<Int> {
        var serial = state.ministrySerial
        var mutations: [Mutation] = []
        for name in state.ministries.keys.sorted() {
            guard var ministry = state.ministries[name], ministry.status?.runAs == nil else { continue }
            let uid = uidBase + Int(serial)
            serial += 1
            var status = ministry.status ?? MinistryStatus(effectiveQuota: ministry.spec.quota)
            status.runAs = RunAs(uid: uid, gid: uid)
            ministry.status = status
            ministry.metadata.resourceVersion = state.resourceVersion + 1
            mutations.append(.putMinistry(ministry))
        }
        var changeset = Changeset(
            basedOn: state.resourceVersion, resourceVersion: mutations.isEmpty ? nil : state.resourceVersion + 1,
            mutations: mutations)
        if serial != state.ministrySerial { changeset.ministrySerial = serial }
        return Outcome(changeset: changeset, value: mutations.count)
    }
}
