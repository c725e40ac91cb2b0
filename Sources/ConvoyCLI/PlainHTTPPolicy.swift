import Foundation
import Glibc

/// When a token may travel over plain http: only to a literal loopback address, and never through
/// a proxy that would see it in clear.
///
/// A host is loopback when it *is* an address of the loopback interface, read from the URL's parsed
/// host: an IPv4 literal in 127.0.0.0/8, the IPv6 literal `::1`, or the name `localhost`. A name
/// that merely begins with `127.` (`127.evil.example`, `127.0.0.1.example`) is an ordinary name,
/// which DNS may point anywhere, so the check never resolves one.
enum PlainHTTPPolicy {
    /// True when `url`'s host is a loopback literal (or `localhost`).
    static func isLoopback(_ url: URL) -> Bool {
        guard let host = url.host else { return false }
        return isLoopback(host: host)
    }

    /// True when `host` (as a URL carries it, IPv6 with or without brackets) is a loopback literal.
    static func isLoopback(host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            // s_addr is in network order: its first byte in memory is the first octet.
            return withUnsafeBytes(of: &v4.s_addr) { $0[0] } == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }

    /// The proxy that would carry a plain-http request to `url` in clear, from `environment` as
    /// libcurl reads it (`http_proxy`, `all_proxy`/`ALL_PROXY`, less the hosts of
    /// `no_proxy`/`NO_PROXY`), or nil when none would (https, or no proxy applies, or the proxy itself
    /// is on loopback). Returned without any user or password it holds, fit to print.
    static func clearTextProxy(for url: URL, environment: [String: String]) -> String? {
        guard url.scheme?.lowercased() == "http", let host = url.host?.lowercased() else { return nil }
        // libcurl ignores HTTP_PROXY in capitals for http (a CGI program's environment may set it).
        let setting = ["http_proxy", "all_proxy", "ALL_PROXY"].lazy.compactMap { environment[$0] }.first {
            !$0.isEmpty
        }
        guard let setting else { return nil }
        let exempt = (environment["no_proxy"] ?? environment["NO_PROXY"] ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        for entry in exempt where !entry.isEmpty {
            if entry == "*" { return nil }
            let domain = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if host == domain || host.hasSuffix("." + domain) { return nil }
        }
        let proxy = URL(string: setting.contains("://") ? setting : "http://" + setting)
        if let proxy, proxy.scheme?.lowercased() == "http" || proxy.scheme == nil, isLoopback(proxy) { return nil }
        return proxy.map(Redaction.url) ?? "the proxy in the environment"
    }
}
