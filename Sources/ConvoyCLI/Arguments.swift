import Convoy
import Foundation

/// Command-line arguments, consumed option by option by the command that knows them.
///
/// Accepts `--name value` and `--name=value`, bare flags, positional arguments, `-` (standard
/// input) and `--` (everything after it is positional). A command takes what it knows, then calls
/// ``finish()``, which rejects anything left over: a misspelt option is an error, not ignored.
struct Arguments {
    private var options: [(name: String, value: String?)] = []
    private(set) var positionals: [String] = []
    private var consumed: Set<Int> = []

    init(_ arguments: [String]) {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--" {
                positionals.append(contentsOf: rest)
                break
            }
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    options.append((String(body[..<equals]), String(body[body.index(after: equals)...])))
                } else {
                    options.append((String(body), nil))
                }
            } else if argument == "-h" {
                options.append(("help", nil))
            } else {
                // A value may follow an option: attach it to the previous option lazily (see `value`).
                options.append(("", argument))
            }
        }
    }

    /// True when `--name` is present (as a flag).
    /// - Throws: a usage error when the flag repeats or carries a value (`--flag=x`).
    mutating func flag(_ name: String) throws -> Bool {
        let occurrences = options.indices.filter { options[$0].name == name }
        guard let index = occurrences.first else { return false }
        guard occurrences.count == 1 else { throw ConvoyError.usage("--\(name) is given more than once") }
        guard options[index].value == nil else { throw ConvoyError.usage("--\(name) takes no value") }
        consumed.insert(index)
        return true
    }

    /// The value of `--name value` or `--name=value`, or nil when absent.
    /// - Throws: a usage error when the option has no value.
    mutating func value(_ name: String) throws -> String? {
        let occurrences = options.indices.filter { options[$0].name == name }
        guard let index = occurrences.first else { return nil }
        // A repeat would leave the first value behind as a stray positional (a token read as a file).
        guard occurrences.count == 1 else { throw ConvoyError.usage("--\(name) is given more than once") }
        consumed.insert(index)
        if let value = options[index].value { return value }
        let next = index + 1
        guard next < options.count, options[next].name.isEmpty, let value = options[next].value else {
            throw ConvoyError.usage("--\(name) needs a value")
        }
        consumed.insert(next)
        return value
    }

    /// `--name` as an integer within `range`.
    mutating func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw ConvoyError.usage(
                "--\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }

    /// `--name` as a number within `range`.
    mutating func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = try value(name) else { return nil }
        guard let number = Double(text), number.isFinite, range.contains(number) else {
            throw ConvoyError.usage(
                "--\(name) takes a number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }

    /// The positional arguments not taken as option values.
    /// Every value of a repeatable option (`--header a --header b`), in order.
    /// - Throws: a usage error when an occurrence has no value.
    mutating func values(_ name: String) throws -> [String] {
        var found: [String] = []
        for index in options.indices where options[index].name == name {
            consumed.insert(index)
            if let value = options[index].value {
                found.append(value)
                continue
            }
            let next = index + 1
            guard next < options.count, options[next].name.isEmpty, let value = options[next].value else {
                throw ConvoyError.usage("--\(name) needs a value")
            }
            consumed.insert(next)
            found.append(value)
        }
        return found
    }

    mutating func takePositionals() -> [String] {
        var result: [String] = []
        for index in options.indices where options[index].name.isEmpty && !consumed.contains(index) {
            consumed.insert(index)
            result.append(options[index].value!)
        }
        return result + positionals
    }

    /// Rejects whatever no one consumed.
    func finish() throws {
        for index in options.indices where !consumed.contains(index) {
            let option = options[index]
            if option.name.isEmpty {
                throw ConvoyError.usage("unexpected argument '\(option.value!)'")
            }
            throw Self.unknown(option.name, known: [])
        }
    }

    /// Rejects the first option not in `known`, before any other check can speak: a typo is
    /// reported as a typo (with the nearest known option), not as whatever it left unset.
    func rejectUnknownOptions(known: Set<String>) throws {
        if let option = options.first(where: { !$0.name.isEmpty && !known.contains($0.name) }) {
            throw Self.unknown(option.name, known: known.sorted())
        }
    }

    /// Every `--option` that `help` names: the options a command takes, for
    /// ``rejectUnknownOptions(known:)``, did-you-mean and shell completion. `help` is always known.
    static func options(in help: String) -> Set<String> {
        var names: Set<String> = ["help"]
        var rest = help[...]
        while let range = rest.range(of: "--") {
            let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            if let first = name.first, first.isLetter { names.insert(String(name)) }
            rest = rest[range.upperBound...]
        }
        return names
    }

    private static func unknown(_ name: String, known: [String]) -> ConvoyError {
        ConvoyError.usage("unknown option --\(name)" + Suggestion.hint(for: name, in: known, prefix: "--"))
    }

    /// `arguments` as a record may keep them: see ``Redaction/arguments(_:)``.
    static func redacting(_ arguments: [String]) -> [String] { Redaction.arguments(arguments) }
}
