import Foundation
import TansiqAPI
import TansiqModel
import TansiqStore

extension Registry {
    /// A changeset that moves the version and records one audited action.
    func single(
        _ mutations: [Mutation], object: String, action: String, result: String, caller: Caller, now: Date,
        requestID: String
    ) -> Outcome<ChangeResult> {
        let version = state.resourceVersion + 1
        let audit = AuditRecord(
            time: now, requestID: requestID, subject: caller.subject, role: caller.role.rawValue, action: action,
            object: object, result: result)
        return Outcome(
            changeset: Changeset(
                basedOn: state.resourceVersion, resourceVersion: version, mutations: mutations, audit: [audit]),
            value: ChangeResult(object: object, action: result, resourceVersion: version))
    }

    /// Deletes an application and its instances (their agents stop them): at once, or once those
    /// behind the gateways have left them.
    public func planDeleteApplication(
        ministry: String, name: String, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ChangeResult> {
        let object = "Application/\(ministry)/\(name)"
        guard Access.canWrite(caller, kind: .application, ministry: ministry) else {
            throw APIError(.forbidden, Access.refusal(caller, "delete \(object)"))
        }
        guard var app = state.applications["\(ministry)/\(name)"] else {
            throw APIError(.notFound, "\(object) does not exist")
        }
        // Its ready instances behind the gateways leave them first: the application stays, marked
        // deleting, until they have (`planFinishTakeDowns`); every other instance goes now.
        var mutations: [Mutation] = []
        var leaving = false
        for instance in instances(ministry: ministry, application: name, in: state) {
            if let terminating = Self.retiring(instance, in: state, now: now) {
                mutations.append(.putInstance(terminating))
                leaving = true
            } else if instance.phase == .terminating {
                leaving = true
            } else {
                mutations.append(.deleteInstance(instance.id))
            }
        }
        if leaving {
            let since = app.status?.deleting ?? RFC3339.truncated(now)
            app.status?.deleting = since
            mutations.insert(.putApplication(app), at: 0)
        } else {
            mutations.insert(.deleteApplication(ministry: ministry, name: name), at: 0)
        }
        return single(
            mutations, object: object, action: "delete", result: "deleted", caller: caller, now: now,
            requestID: requestID)
    }

    /// Deletes a ministry that owns nothing any more.
    public func planDeleteMinistry(
        name: String, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ChangeResult> {
        let object = "Ministry/\(name)"
        guard Access.canWrite(caller, kind: .ministry, ministry: nil) else {
            throw APIError(.forbidden, Access.refusal(caller, "delete \(object)"))
        }
        guard state.ministries[name] != nil else { throw APIError(.notFound, "\(object) does not exist") }
        let apps = state.applications.values.filter { $0.metadata.ministry == name }.count
        let requests = state.capacityRequests.values.filter { $0.metadata.ministry == name }.count
        let secrets = state.secrets.values.filter { $0.view.metadata.ministry == name }.count
        if apps + requests + secrets > 0 {
            throw APIError(
                .conflict,
                "\(object) still owns \(apps) application(s), \(requests) capacity request(s) and \(secrets) "
                    + "secret(s); delete them first")
        }
        return single(
            [.deleteMinistry(name)], object: object, action: "delete", result: "deleted", caller: caller, now: now,
            requestID: requestID)
    }

    /// Deletes a capacity request; an approved one stops counting towards the effective quota.
    public func planDeleteCapacityRequest(
        name: String, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ChangeResult> {
        guard let request = state.capacityRequests[name] else {
            throw APIError(.notFound, "CapacityRequest/\(name) does not exist")
        }
        let object = "CapacityRequest/\(request.metadata.ministry ?? "-")/\(name)"
        guard Access.canWrite(caller, kind: .capacityRequest, ministry: request.metadata.ministry) else {
            throw APIError(.forbidden, Access.refusal(caller, "delete \(object)"))
        }
        return single(
            [.deleteCapacityRequest(name)], object: object, action: "delete", result: "deleted", caller: caller,
            now: now, requestID: requestID)
    }

    /// Approves or denies a pending capacity request. Only an operator decides, and never one
    /// who filed or changed it.
    public func planDecide(
        name: String, approve: Bool, comment: String?, caller: Caller, now: Date, requestID: String
    ) throws(APIError) -> Outcome<ChangeResult> {
        let verb = approve ? "approve" : "deny"
        guard var request = state.capacityRequests[name] else {
            throw APIError(.notFound, "CapacityRequest/\(name) does not exist")
        }
        let object = "CapacityRequest/\(request.metadata.ministry ?? "-")/\(name)"
        guard Access.isOperator(caller) else { throw APIError(.forbidden, Access.refusal(caller, "\(verb) \(object)")) }
        var status = request.status ?? CapacityRequestStatus(phase: .pending)
        if status.authors.contains(caller.subject) {
            let how = status.requestedBy == caller.subject ? "filed" : "changed"
            throw APIError(
                .forbidden, "\(caller.subject) \(how) \(object) and may not \(verb) it; another operator must decide")
        }
        guard status.phase == .pending else {
            throw APIError(.conflict, "\(object) is already \(status.phase.rawValue)")
        }
        status.phase = approve ? .approved : .denied
        status.decidedBy = caller.subject
        status.decidedAt = RFC3339.truncated(now)
        status.comment = comment
        request.status = status
        request.metadata.resourceVersion = state.resourceVersion + 1
        request.metadata.updatedAt = RFC3339.truncated(now)
        var outcome = single(
            [.putCapacityRequest(request)], object: object, action: verb, result: approve ? "approved" : "denied",
            caller: caller, now: now, requestID: requestID)
        outcome.changeset.events.append(
            Event(
                time: now, kind: "CapacityRequest", ministry: request.metadata.ministry, name: name,
                reason: approve ? "Approved" : "Denied",
                message: "\(approve ? "approved" : "denied") by \(caller.subject)" + (comment.map { ": \($0)" } ?? "")))
        return outcome
    }
}
