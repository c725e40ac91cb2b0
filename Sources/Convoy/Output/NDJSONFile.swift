import Foundation
import Glibc

/// An append-only NDJSON file that survives crashes: a record counts only once its `\n` is written.
///
/// Opening an existing file cuts a torn last line (bytes after the final `\n`, left by a crash or
/// a kill) so that every line in the file is whole. Each record is written with one `write(2)` of
/// the line and its `\n`, so a crash can tear at most the last line, never mix two. New files are
/// created with mode 0600: conversation metadata is personal data.
///
/// A stream (standard output, for `--output -`) has nothing to cut or sync; its bytes are tallied
/// as they are written, for the manifest.
public final class NDJSONFile {
    /// Where the file lives.
    public let path: String
    /// Bytes cut from the end when it was opened (a torn line), 0 for a clean file.
    public let truncatedBytes: Int
    private let descriptor: Int32
    private let fileSystem: any FileSystem
    private var unsyncedWrites = 0
    /// Everything written, for a stream; nil for a file (measured on disk instead).
    public private(set) var streamTally: FileFingerprint.Tally?

    /// Opens `path` for appending, creating it (0600) when absent, and cuts a torn last line.
    ///
    /// Never through a link: a symbolic link at `path` is refused (`O_NOFOLLOW`), so a link planted
    /// there cannot send records into, or cut the last line of, another file. So is anything but a
    /// regular file. An existing file that others may read or write is tightened to 0600.
    /// - Parameter fileSystem: the system calls that open, write and sync (a test may record them).
    /// - Throws: ``ConvoyError/output(_:)`` naming the path and the system's reason.
    public init(path: String, fileSystem: any FileSystem = PosixFileSystem()) throws {
        self.path = path
        self.fileSystem = fileSystem
        let fd = fileSystem.open(path, flags: O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode: 0o600)
        guard fd >= 0 else {
            if errno == ELOOP { throw ConvoyError.output(Self.linkRefusal(path)) }
            throw ConvoyError.output("cannot open \(path): \(Self.lastError())")
        }
        descriptor = fd
        do {
            try Self.secure(fd, path: path)
            truncatedBytes = try Self.cutTornLine(fd, path: path)
            guard lseek(fd, 0, SEEK_END) >= 0 else {
                throw ConvoyError.output("cannot seek in \(path): \(Self.lastError())")
            }
        } catch {
            _ = close(fd)
            throw error
        }
    }

    /// Writes to `descriptor`, an open stream that stays open after this file is gone.
    /// - Parameter name: how errors name it (`standard output`).
    public init(stream descriptor: Int32, name: String, fileSystem: any FileSystem = PosixFileSystem()) {
        path = name
        truncatedBytes = 0
        self.descriptor = descriptor
        self.fileSystem = fileSystem
        streamTally = FileFingerprint.Tally()
    }

    deinit {
        guard streamTally == nil else { return }
        if unsyncedWrites > 0 { _ = fileSystem.fsync(descriptor) }
        _ = close(descriptor)
    }

    /// Appends one record: `line` (which must hold no raw newline) followed by `\n`.
    /// - Throws: ``ConvoyError/output(_:)`` when the disk refuses (full, read-only, I/O error), or
    ///   ``ConvoyError/outputClosed(_:)`` when a stream's reader went away (EPIPE).
    public func append(_ line: [UInt8]) throws {
        var record = line
        record.append(UInt8(ascii: "\n"))
        try record.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let rest = UnsafeRawBufferPointer(rebasing: buffer[offset...])
                let written = fileSystem.write(descriptor, rest)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE {
                        throw ConvoyError.outputClosed("\(path) was closed by its reader (broken pipe)")
                    }
                    throw ConvoyError.output("cannot write \(path): \(Self.lastError())")
                }
                streamTally?.add(UnsafeRawBufferPointer(rebasing: rest[..<written]))
                offset += written
            }
        }
        unsyncedWrites += 1
    }

    /// Forces written records to stable storage (`fsync`); a stream has none.
    public func sync() throws {
        guard unsyncedWrites > 0, streamTally == nil else { return }
        guard fileSystem.fsync(descriptor) == 0 else {
            throw ConvoyError.output("cannot sync \(path): \(Self.lastError())")
        }
        unsyncedWrites = 0
    }

    /// The lines of the file at `path`: its `\n` bytes, plus one for a last line without one.
    /// 0 for a missing file. Reads 1 MiB blocks and counts with memchr, at page-cache speed.
    public static func countLines(atPath path: String) throws -> Int {
        var lines = 0
        var last = UInt8(ascii: "\n")
        try forEachBlock(atPath: path, failure: ConvoyError.input) { block, count in
            var start = 0
            while let newline = Self.newline(in: block, from: start, to: count) {
                lines += 1
                start = newline + 1
            }
            last = block[count - 1]
        }
        return lines + (last == UInt8(ascii: "\n") ? 0 : 1)
    }

    /// About how many lines the file at `path` holds: exact for a file of up to 1 MiB, else its
    /// size over the mean line length of its first MiB, plus 5 %. 0 for a missing or empty file.
    /// Tables are sized from it once, instead of growing.
    public static func estimatedLines(atPath path: String) throws -> Int {
        guard let fd = try openIfExists(path, failure: ConvoyError.input) else { return 0 }
        defer { _ = close(fd) }
        let size = Int(lseek(fd, 0, SEEK_END))
        guard size > 0 else { return 0 }
        var block = [UInt8](repeating: 0, count: min(size, 1 << 20))
        let count = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return 0 }
        let lines = block[..<count].reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        if count == size { return lines + (block[count - 1] == UInt8(ascii: "\n") ? 0 : 1) }
        return Int(Double(size) / Double(count) * Double(max(1, lines)) * 1.05)
    }

    /// Calls `body` with every whole line of the file at `path` (without its `\n`, a trailing `\r`
    /// kept), reading in chunks so a large file never sits in memory. A missing file has no lines.
    /// Blank lines are skipped.
    /// - Parameter offset: where to start reading (the start of a line).
    public static func forEachLine(
        atPath path: String, from offset: Int64 = 0, _ body: (ArraySlice<UInt8>) throws -> Void
    ) throws {
        var pending: [UInt8] = []
        try forEachBlock(atPath: path, from: offset, failure: ConvoyError.output) { chunk, count in
            var start = 0
            while let newline = Self.newline(in: chunk, from: start, to: count) {
                if pending.isEmpty {
                    if newline > start { try body(chunk[start..<newline]) }
                } else {
                    pending.append(contentsOf: chunk[start..<newline])
                    try body(pending[...])
                    pending.removeAll(keepingCapacity: true)
                }
                start = newline + 1
            }
            pending.append(contentsOf: chunk[start..<count])
        }
        // Bytes after the last newline are a torn record, not a line.
    }

    /// Opens `path` to read; nil when there is no such file.
    private static func openIfExists(_ path: String, failure: (String) -> ConvoyError) throws -> Int32? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot read \(path): \(lastError())")
        }
        return fd
    }

    /// Calls `body` with each block read from the file at `path` (1 MiB at most; `count` bytes of
    /// it are the file's). A missing file has no blocks.
    private static func forEachBlock(
        atPath path: String, from offset: Int64 = 0, failure: (String) -> ConvoyError,
        _ body: ([UInt8], _ count: Int) throws -> Void
    ) throws {
        guard let fd = try openIfExists(path, failure: failure) else { return }
        defer { _ = close(fd) }
        if offset > 0, lseek(fd, off_t(offset), SEEK_SET) < 0 {
            throw failure("cannot seek in \(path): \(lastError())")
        }
        var block = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read \(path): \(lastError())")
            }
            if count == 0 { return }
            try body(block, count)
        }
    }

    /// The index of the first `\n` in `bytes[start..<end]` (memchr: a large file is mostly this).
    private static func newline(in bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        bytes.withUnsafeBytes { buffer in
            memchr(buffer.baseAddress! + start, Int32(UInt8(ascii: "\n")), end - start).map {
                buffer.baseAddress!.distance(to: UnsafeRawPointer($0))
            }
        }
    }

    /// Truncates the file after its last `\n` and returns how many bytes went.
    private static func cutTornLine(_ fd: Int32, path: String) throws -> Int {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return 0 }
        var end = Int(size)
        var block = [UInt8](repeating: 0, count: 64 * 1024)
        while end > 0 {
            let start = max(0, end - block.count)
            let count = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, end - start, off_t(start)) }
            guard count == end - start else { throw ConvoyError.output("cannot read \(path): \(lastError())") }
            if let newline = block[0..<count].lastIndex(of: UInt8(ascii: "\n")) {
                let keep = start + newline + 1
                if keep == Int(size) { return 0 }
                guard ftruncate(fd, off_t(keep)) == 0 else {
                    throw ConvoyError.output("cannot repair \(path): \(lastError())")
                }
                return Int(size) - keep
            }
            end = start
        }
        guard ftruncate(fd, 0) == 0 else { throw ConvoyError.output("cannot repair \(path): \(lastError())") }
        return Int(size)
    }

    static func lastError() -> String { String(cString: strerror(errno)) }

    /// Why a link at `path` is not written through.
    static func linkRefusal(_ path: String) -> String {
        "refusing to write \(path): it is a symbolic link, and Convoy never writes through one (a link "
            + "planted there would send the records into another file); give the path of the file itself"
    }

    /// Refuses, before any work, each of `paths` that is a symbolic link (a missing path is fine: it
    /// will be created). The open itself refuses links too (`O_NOFOLLOW`); this says so before a run
    /// has fetched anything it could not write.
    /// - Returns: the files among `paths` that others may read or write, with their mode: opening
    ///   them will make them 0600.
    /// - Throws: ``ConvoyError/output(_:)`` naming the first link.
    @discardableResult
    public static func checkBeforeWriting(_ paths: [String]) throws -> [(path: String, mode: mode_t)] {
        var loose: [(path: String, mode: mode_t)] = []
        for path in paths {
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            if status.st_mode & S_IFMT == S_IFLNK { throw ConvoyError.output(linkRefusal(path)) }
            if status.st_mode & S_IFMT == S_IFREG, status.st_mode & 0o077 != 0 {
                loose.append((path, status.st_mode & 0o7777))
            }
        }
        return loose
    }

    /// Refuses what is not a regular file, and takes away any access of others to what is.
    static func secure(_ fd: Int32, path: String) throws {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw ConvoyError.output("cannot inspect \(path): \(lastError())") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw ConvoyError.output("refusing to write \(path): it is not a regular file")
        }
        let permissions = status.st_mode & 0o7777
        guard permissions & 0o077 != 0 else { return }
        guard fchmod(fd, permissions & 0o700 | 0o600) == 0 else {
            throw ConvoyError.output(
                "refusing to write \(path): others may read it (mode \(String(permissions, radix: 8))), and it "
                    + "cannot be made 0600: \(lastError())")
        }
    }
}
