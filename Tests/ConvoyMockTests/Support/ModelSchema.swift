import Foundation

/// The Genesys models of `contract/genesys-models.json`, extracted from the official Python SDK by
/// `contract/extract_schema.py`, and a walk of a JSON document against them: the Swift half of the API contract
/// (`contract/check_contract.py` is the other), so `swift test` holds the mock to the models where Python is absent.
///
/// A field's type is the SDK's: `str`, `int`, `float`, `bool`, `datetime` (an ISO-8601 string), `date`, `object`,
/// `list[T]`, `dict(str, T)` or a model name. Enum fields list the values their setter allows.
struct ModelSchema {
    /// One field of a model.
    struct Field {
        var type: String
        var allowed: [String]?
    }

    /// The SDK version the file was extracted from.
    let version: String
    /// Model name → JSON key → field.
    let models: [String: [String: Field]]

    /// The schema file checked in beside the contract scripts, found from this source file's path
    /// (`Tests/ConvoyMockTests/Support/`).
    static func checkedIn() throws -> ModelSchema {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try ModelSchema(data: Data(contentsOf: root.appendingPathComponent("contract/genesys-models.json")))
    }

    init(data: Data) throws {
        guard let document = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let version = document["version"] as? String,
            let models = document["models"] as? [String: [String: Any]]
        else { throw SchemaError(description: "not a genesys-models.json document") }
        self.version = version
        var parsed: [String: [String: Field]] = [:]
        for (name, model) in models {
            let fields = model["fields"] as? [String: [String: Any]] ?? [:]
            parsed[name] = fields.compactMapValues { field in
                (field["type"] as? String).map { Field(type: $0, allowed: field["enum"] as? [String]) }
            }
        }
        self.models = parsed
    }

    struct SchemaError: Error, CustomStringConvertible {
        var description: String
    }

    /// Every way `value` (as `JSONSerialization` parsed it) breaks `type`: `"unknown key PATH"`,
    /// `"enum PATH: VALUE"` or `"type PATH: not TYPE"`, in document order (object keys sorted). `null` is allowed
    /// anywhere, as the SDK allows it.
    func violations(of value: Any, as type: String, at path: String = "$") -> [String] {
        if value is NSNull { return [] }
        if let element = Self.inner(type, prefix: "list[", suffix: "]") {
            guard let array = value as? [Any] else { return ["type \(path): not \(type)"] }
            return array.enumerated().flatMap { violations(of: $1, as: element, at: "\(path)[\($0)]") }
        }
        if let arguments = Self.inner(type, prefix: "dict(", suffix: ")") {
            let element = arguments.split(separator: ",", maxSplits: 1).last.map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard let object = value as? [String: Any], let element else { return ["type \(path): not \(type)"] }
            return object.keys.sorted().flatMap { violations(of: object[$0]!, as: element, at: "\(path).\($0)") }
        }
        if let matches = Self.primitive(type, value) {
            return matches ? [] : ["type \(path): not \(type)"]
        }
        guard let fields = models[type] else { return ["type \(path): model \(type) is not in the schema"] }
        guard let object = value as? [String: Any] else { return ["type \(path): not a \(type) object"] }
        var found: [String] = []
        for key in object.keys.sorted() {
            let member = object[key]!
            guard let field = fields[key] else {
                found.append("unknown key \(path).\(key)")
                continue
            }
            if let allowed = field.allowed, let text = member as? String, !allowed.contains(text) {
                found.append("enum \(path).\(key): \(text)")
            }
            found += violations(of: member, as: field.type, at: "\(path).\(key)")
        }
        return found
    }

    private static func inner(_ type: String, prefix: String, suffix: String) -> String? {
        guard type.hasPrefix(prefix), type.hasSuffix(suffix) else { return nil }
        return String(type.dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// Whether `value` is a `type` when that is a primitive; `nil` for a model name.
    private static func primitive(_ type: String, _ value: Any) -> Bool? {
        let number = value as? NSNumber
        // JSONSerialization parses true and false as NSNumbers of Objective-C type "c".
        let isBool = number.map { String(cString: $0.objCType) == "c" } ?? false
        switch type {
        case "str": return value is String
        case "int", "long":
            guard let number, !isBool else { return false }
            return !["d", "f"].contains(String(cString: number.objCType))
        case "float": return number != nil && !isBool
        case "bool": return isBool
        case "datetime": return (value as? String).map(isDateTime) ?? false
        case "date": return (value as? String).map { $0.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil } ?? false
        case "object": return true
        default: return nil
        }
    }

    private static func isDateTime(_ text: String) -> Bool {
        text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})/) != nil
    }
}
