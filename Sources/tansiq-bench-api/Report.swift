import Foundation
import TansiqAPI

/// The one JSON line each benchmark prints after its table: `{"benchmark": NAME, figures...}`,
/// whole figures as integers.
enum Report {
    static func json(_ benchmark: String, _ figures: [String: Double]) {
        var object: [String: JSONValue] = ["benchmark": .string(benchmark)]
        for (key, value) in figures {
            object[key] = value == value.rounded() && abs(value) < 1e15 ? .int(Int64(value)) : .double(value)
        }
        print(JSONValue.object(object).text)
    }
}
