import Convoy
import Foundation
import Glibc

/// An error in words for people: a ``ConvoyError``'s message, a file error as `PATH: reason`,
/// never Foundation's `Error Domain=NSCocoaErrorDomain Code=513 …`.
enum ErrorText {
    /// `error` described for a message on standard error or in a manifest.
    static func describe(_ error: any Error) -> String {
        if let error = error as? ConvoyError { return error.message }
        if let error = error as? CocoaError {
            let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? error.userInfo[NSURLErrorKey].map { "\($0)" }
            guard let path else { return reason(of: error) }
            return "\(path): " + (obstacle(to: path) ?? reason(of: error))
        }
        if let error = error as? POSIXError { return String(cString: strerror(error.code.rawValue)) }
        if let described = (error as? any LocalizedError)?.errorDescription, !described.contains("Error Domain=") {
            return described
        }
        let nsError = error as NSError
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        let text = "\(error)"
        guard text.contains("Error Domain=") || text.contains("NSCocoaErrorDomain") else { return text }
        return "\(nsError.domain) error \(nsError.code)".replacingOccurrences(of: "NSCocoaErrorDomain", with: "file")
    }

    /// What stands in the way of `path`: the nearest folder above it that is a file, or does not
    /// exist; nil when its folder is there.
    static func obstacle(to path: String) -> String? {
        var folder = (path as NSString).deletingLastPathComponent
        var missing: String?
        while !folder.isEmpty, folder != "/" {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
                if !isFolder.boolValue { return "\(folder) is not a folder" }
                return missing.map { "the folder \($0) does not exist" }
            }
            missing = folder
            folder = (folder as NSString).deletingLastPathComponent
        }
        return missing.map { "the folder \($0) does not exist" }
    }

    /// The cause of a file error: the POSIX reason underneath when there is one, else its kind.
    private static func reason(of error: CocoaError) -> String {
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        switch error.code {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteFileExists: return "a file of that name exists"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileReadCorruptFile: return "not in the expected format"
        case .fileReadInapplicableStringEncoding, .fileWriteInapplicableStringEncoding: return "not UTF-8 text"
        case .fileReadTooLarge: return "too large to read"
        case .fileLocking: return "locked by another process"
        case .fileReadUnknown: return "cannot be read"
        case .fileWriteUnknown: return "cannot be written"
        default: return "file error \(error.code.rawValue)"
        }
    }
}
