/// Response header fields with case-insensitive lookup.
///
/// Invariant: names are stored lowercased, so `headers["Retry-After"]` and `headers["retry-after"]`
/// find the same field. When a field repeats, the values are joined with ", " as RFC 9110 allows.
public struct HTTPHeaders: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private var fields: [String: String]

    /// Creates headers from name/value pairs in any letter case.
    public init(_ pairs: some Sequence<(String, String)>) {
        var fields: [String: String] = [:]
        for (name, value) in pairs {
            let key = name.lowercased()
            let value = value.trimmingASCIISpaces()
            if let existing = fields[key] {
                fields[key] = existing + ", " + value
            } else {
                fields[key] = value
            }
        }
        self.fields = fields
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The value of the field `name`, looked up case-insensitively, trimmed of surrounding spaces
    /// (once, when the headers were made: lookups sit on every request's path).
    public subscript(name: String) -> String? {
        fields[name.lowercased()]
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
