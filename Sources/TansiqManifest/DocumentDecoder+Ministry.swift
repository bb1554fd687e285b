import TansiqModel
import Yams

extension DocumentDecoder {
    func decodeMinistrySpec(_ node: YAMLNode) -> MinistrySpec? {
        let keys = ["code", "displayName", "quota", "cohort", "borrowingLimit", "lendingLimit", "weight", "priorities"]
        guard let f = r.mapping(node, "spec", allowed: keys) else { return nil }
        let code = f.required("code").flatMap { node -> String? in
            guard let code = r.string(node, f.path("code")) else { return nil }
            guard Names.isGovernmentCode(code) else {
                r.sink.report(
                    node,
                    "\(f.path("code")): \"\(code)\" is not a government code; expected the form "
                        + "^[A-Z]{2,8}(-[A-Z0-9]{2,12})+$, e.g. GOV-MOH")
                return nil
            }
            return code
        }
        let displayName = f.required("displayName").flatMap { decodeDisplayName($0, f.path("displayName")) }
        let quota = f.required("quota").flatMap { decodeQuota($0, f.path("quota")) }
        let cohort = optional(f, "cohort", default: String?.none) { r.dnsLabel($0, $1).map(Optional.some) }
        let borrowing = optional(f, "borrowingLimit", default: ResourceLimits?.none) {
            decodeLimits($0, $1).map(Optional.some)
        }
        let lending = optional(f, "lendingLimit", default: ResourceLimits?.none) {
            decodeLimits($0, $1).map(Optional.some)
        }
        let weight = optional(f, "weight", default: 1.0) { node, path -> Double? in
            guard let weight = r.positiveNumber(node, path) else { return nil }
            // Shares are compared exactly with the weight in thousandths.
            let millis = weight * 1000
            guard weight <= 1000, abs(millis - millis.rounded()) < 1e-6, millis.rounded() >= 1 else {
                r.sink.report(
                    node,
                    "\(path): \(node.scalar?.string ?? "") must be at most 1000 with at most three decimals, e.g. 2.5")
                return nil
            }
            return weight
        }
        let priorities = optional(f, "priorities", default: Priority.defaultAllowed, decodePriorities)
        guard let code, let displayName, let quota, let cohort, let borrowing, let lending, let weight,
            let priorities
        else { return nil }
        return MinistrySpec(
            code: code, displayName: displayName, quota: quota, cohort: cohort, borrowingLimit: borrowing,
            lendingLimit: lending, weight: weight, priorities: priorities)
    }

    private func decodeDisplayName(_ node: YAMLNode, _ path: String) -> LocalizedName? {
        guard let f = r.mapping(node, path, allowed: ["en", "ar"]) else { return nil }
        let en = f.required("en").flatMap { r.nonEmptyString($0, f.path("en")) }
        let ar = f.required("ar").flatMap { r.nonEmptyString($0, f.path("ar")) }
        guard let en, let ar else { return nil }
        return LocalizedName(en: en, ar: ar)
    }

    private func decodePriorities(_ node: YAMLNode, _ path: String) -> [Priority]? {
        guard let items = r.list(node, path) else { return nil }
        if items.isEmpty {
            r.sink.report(node, "\(path): must name at least one priority")
            return nil
        }
        return r.distinct(items, { r.oneOf($0, $1, Priority.self) }, twice: { "\"\($0.rawValue)\"" })
    }
}
