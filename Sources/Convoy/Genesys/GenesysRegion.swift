import Foundation

/// A Genesys Cloud region: where an org's API and login servers live.
///
/// API host = `api.` + region host; login host = `login.` + region host. A region is named by its
/// short name (`eu-west-1`) or its host (`mypurecloud.ie`), case-insensitively.
public struct GenesysRegion: Sendable, Equatable, CustomStringConvertible {
    /// The AWS-style short name, e.g. `us-east-1`.
    public let name: String
    /// The region's domain, e.g. `mypurecloud.com`.
    public let host: String

    /// `https://api.<host>`.
    public var apiBase: URL { URL(string: "https://api.\(host)")! }
    /// `https://login.<host>`.
    public var loginBase: URL { URL(string: "https://login.\(host)")! }

    public var description: String { "\(name) (\(host))" }

    /// Every public region, in the order Genesys lists them.
    public static let all: [GenesysRegion] = [
        .init(name: "us-east-1", host: "mypurecloud.com"),
        .init(name: "us-east-2", host: "use2.us-gov-pure.cloud"),
        .init(name: "us-west-2", host: "usw2.pure.cloud"),
        .init(name: "ca-central-1", host: "cac1.pure.cloud"),
        .init(name: "sa-east-1", host: "sae1.pure.cloud"),
        .init(name: "eu-west-1", host: "mypurecloud.ie"),
        .init(name: "eu-west-2", host: "euw2.pure.cloud"),
        .init(name: "eu-central-1", host: "mypurecloud.de"),
        .init(name: "eu-central-2", host: "euc2.pure.cloud"),
        .init(name: "me-central-1", host: "mec1.pure.cloud"),
        .init(name: "ap-south-1", host: "aps1.pure.cloud"),
        .init(name: "ap-northeast-1", host: "mypurecloud.jp"),
        .init(name: "ap-northeast-2", host: "apne2.pure.cloud"),
        .init(name: "ap-northeast-3", host: "apne3.pure.cloud"),
        .init(name: "ap-southeast-1", host: "apse1.pure.cloud"),
        .init(name: "ap-southeast-2", host: "mypurecloud.com.au"),
        .init(name: "mx-central-1", host: "mxc1.pure.cloud"),
    ]

    /// The region named `text` (short name or host), or nil.
    public init?(_ text: String) {
        let key = text.trimmingCharacters(in: .whitespaces).lowercased()
        let bare = key.hasPrefix("api.") || key.hasPrefix("login.") ? String(key.drop { $0 != "." }.dropFirst()) : key
        guard let region = Self.all.first(where: { $0.name == bare || $0.host == bare }) else { return nil }
        self = region
    }

    private init(name: String, host: String) {
        self.name = name
        self.host = host
    }

    /// The list a user sees when a region is unknown.
    public static var validNames: String {
        all.map { "\($0.name) (\($0.host))" }.joined(separator: ", ")
    }
}
