import Foundation

/// An OAuth client id and secret. Its description never shows the secret.
public struct ClientCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let clientID: String
    public let clientSecret: String

    public init(clientID: String, clientSecret: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    /// The environment variables Genesys's own tools read.
    public static let idVariable = "GENESYSCLOUD_OAUTHCLIENT_ID"
    public static let secretVariable = "GENESYSCLOUD_OAUTHCLIENT_SECRET"

    /// Credentials from `GENESYSCLOUD_OAUTHCLIENT_ID` and `GENESYSCLOUD_OAUTHCLIENT_SECRET`, or nil
    /// when neither is set.
    /// - Throws: a configuration error when only one of the two is set.
    public static func fromEnvironment(_ environment: [String: String]) throws -> ClientCredentials? {
        let id = environment[idVariable].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment[secretVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (id, secret) {
        case (nil, nil): return nil
        case (let id?, let secret?): return ClientCredentials(clientID: id, clientSecret: secret)
        default:
            throw ConvoyError.configuration("set both \(idVariable) and \(secretVariable), not only one of them")
        }
    }

    /// Credentials from a file holding either JSON (`{"clientId": …, "clientSecret": …}`) or
    /// `KEY=VALUE` lines with the two environment variable names.
    public static func fromFile(_ path: String) throws -> ClientCredentials {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvoyError.configuration("cannot read the credentials file \(path)")
        }
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let id = (object["clientId"] ?? object["client_id"]) as? String,
            let secret = (object["clientSecret"] ?? object["client_secret"]) as? String
        {
            return ClientCredentials(clientID: id, clientSecret: secret)
        }
        var values: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            var text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("export ") { text = String(text.dropFirst(7)) }
            guard !text.hasPrefix("#"), let equals = text.firstIndex(of: "=") else { continue }
            let value = text[text.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            values[String(text[..<equals]).trimmingCharacters(in: .whitespaces)] = value
        }
        guard let credentials = try fromEnvironment(values) else {
            throw ConvoyError.configuration(
                "the credentials file \(path) holds neither JSON with clientId and clientSecret nor "
                    + "\(idVariable)=… and \(secretVariable)=… lines")
        }
        return credentials
    }

    public var description: String { "ClientCredentials(clientID: \(clientID), clientSecret: <redacted>)" }
    public var debugDescription: String { description }
}
