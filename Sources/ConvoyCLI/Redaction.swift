import Foundation

/// The one redaction every string goes through before it reaches a file or a stream.
///
/// Two layers:
/// - by form, for text that is recorded (the manifest's command line and API base): the value of a
///   secret option (its name holds `token`, `secret` or `password`) in both `--name value` and
///   `--name=value` forms, the value of every `--header`, and the user and password of any URL,
///   which are removed;
/// - by value, for everything printed or written: each secret the command was given (see
///   ``secrets(arguments:environment:)``, plus what a command reads from a file) is replaced
///   wherever it appears, so a server that echoes a token, or an error that quotes an argument,
///   cannot carry it out. ``Console`` applies this layer to both streams.
enum Redaction {
    static let marker = "<redacted>"
    /// Secrets shorter than this are not searched for: they would blank out ordinary words.
    static let shortestSecret = 4

    /// True for an option whose value is a secret.
    static func isSecretOption(_ name: some StringProtocol) -> Bool {
        let name = name.lowercased()
        return ["token", "secret", "password"].contains { name.contains($0) }
    }

    /// `arguments` as a record may keep them (see the type's first layer).
    static func arguments(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var pending: String?  // the option whose value comes next
        for argument in arguments {
            if let option = pending, !argument.hasPrefix("--") {
                result.append(value(argument, of: option))
                pending = nil
                continue
            }
            pending = nil
            if argument.hasPrefix("--"), argument.count > 2 {
                let body = argument.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    let name = String(body[..<equals])
                    result.append("--\(name)=" + value(String(body[body.index(after: equals)...]), of: name))
                } else {
                    pending = String(body)
                    result.append(argument)
                }
                continue
            }
            result.append(url(text: argument))
        }
        return result
    }

    /// The value of `--option`, as a record may keep it.
    private static func value(_ value: String, of option: String) -> String {
        if isSecretOption(option) { return marker }
        if option == "header" {
            guard let colon = value.firstIndex(of: ":") else { return marker }
            return value[..<colon] + ": " + marker
        }
        return url(text: value)
    }

    /// `url` without its user and password.
    static func url(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            components.user != nil || components.password != nil
        else { return url.absoluteString }
        components.user = nil
        components.password = nil
        return components.string ?? marker
    }

    /// `text` without a user and password when it is a URL that has them; else `text`.
    static func url(text: String) -> String {
        guard text.contains("@"), text.contains("://") else { return text }
        guard var components = URLComponents(string: text) else {
            // Not parseable, yet it may still hold `scheme://user:pass@`: cut what precedes the '@'.
            guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") else {
                return text
            }
            return String(text[..<scheme.upperBound]) + String(text[text.index(after: at)...])
        }
        guard components.user != nil || components.password != nil else { return text }
        components.user = nil
        components.password = nil
        return components.string ?? marker
    }

    /// The secrets a command line and its environment carry: the values of secret options, the
    /// values of `--header`, the passwords of URLs, and every variable whose name holds `TOKEN`,
    /// `SECRET` or `PASSWORD` (`GENESYSCLOUD_ACCESS_TOKEN`, `GENESYSCLOUD_OAUTHCLIENT_SECRET`).
    static func secrets(arguments: [String], environment: [String: String]) -> [String] {
        var found: [String] = []
        func add(_ value: String) {
            if value.count >= shortestSecret { found.append(value) }
        }
        func addURLSecrets(_ text: String) {
            guard text.contains("@"), let components = URLComponents(string: text) else { return }
            // Both the encoded and the decoded form can reach a message.
            for part in [components.percentEncodedPassword, components.password] { part.map(add) }
        }
        func note(_ value: String, of option: String) {
            if isSecretOption(option) {
                add(value)
            } else if option == "header", let colon = value.firstIndex(of: ":") {
                add(value[value.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            } else {
                addURLSecrets(value)
            }
        }
        var pending: String?
        for argument in arguments {
            if let option = pending, !argument.hasPrefix("--") {
                note(argument, of: option)
                pending = nil
                continue
            }
            pending = nil
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    note(String(body[body.index(after: equals)...]), of: String(body[..<equals]))
                } else {
                    pending = String(body)
                }
                continue
            }
            addURLSecrets(argument)
        }
        for (name, value) in environment where isSecretOption(name) { add(value) }
        for name in ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
            environment[name].map(addURLSecrets)
        }
        return found
    }

    /// `text` with every secret of `secrets` replaced by the marker, longest first (so a secret that
    /// holds another is hidden whole).
    static func scrub(_ text: String, secrets: [String]) -> String {
        var text = text
        for secret in secrets.sorted(by: { $0.count > $1.count }) where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: marker)
        }
        return text
    }
}
