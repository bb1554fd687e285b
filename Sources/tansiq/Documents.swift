import Foundation
import TansiqAPI
import TansiqModel

/// An object of the API as a manifest document: `apiVersion`, `kind`, `metadata`, `spec` and
/// `status`, so that `tansiq get KIND NAME -o yaml | tansiq apply -f -` applies it back (the
/// manifest language ignores `status` and the controller's metadata).
struct Document<Spec: Codable & Sendable, Status: Codable & Sendable>: Codable, Sendable {
    var apiVersion = "tansiq/v1"
    var kind: String
    var metadata: ObjectMeta
    var spec: Spec
    var status: Status?
}

extension Ministry {
    var document: Document<MinistrySpec, MinistryStatus> {
        Document(kind: "Ministry", metadata: metadata, spec: spec, status: status)
    }
}

extension Application {
    var document: Document<ApplicationSpec, ApplicationStatus> {
        Document(kind: "Application", metadata: metadata, spec: spec, status: status)
    }
}

extension CapacityRequest {
    var document: Document<CapacityRequestSpec, CapacityRequestStatus> {
        Document(kind: "CapacityRequest", metadata: metadata, spec: spec, status: status)
    }
}

/// What `get` prints of a list: one object or many, as the API's JSON (`{"items": [...]}` for a
/// list) or as YAML documents.
enum Printed {
    static func print<Item: Encodable>(_ items: [Item], single: Bool, format: Get.Format) throws {
        switch format {
        case .json:
            Output.line(single ? try Render.json(items[0]) : try Render.json(ListOf(items: items)))
        case .yaml:
            Output.line(try Render.yamlStream(items), terminator: "")
        default:
            break
        }
    }

    struct ListOf<Item: Encodable>: Encodable { var items: [Item] }
}
