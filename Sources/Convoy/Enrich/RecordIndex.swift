import Foundation
import Glibc

/// The records of one or more `fetch` outputs, indexed by conversation id without keeping any
/// record in memory: 24 bytes a slot (the 16-byte id and where its line starts), so a million
/// records take about 30 MiB. ``record(for:)`` reads a line back when it is needed.
///
/// The files are read once, in 1 MiB blocks. A line's id is read from Convoy's own prefix
/// `{"id":"<uuid>"`; a line without it is parsed as JSON, and one with no string `id` that is a
/// UUID is counted in ``unreadable``. The first record of an id wins (``duplicates`` counts the
/// rest). Bytes after the last newline are a torn record (a killed run's) and are not indexed.
/// Each file's SHA-256 is taken on the same pass.
public final class RecordIndex {
    /// The files, in the order given.
    public let paths: [String]
    /// Each file's fingerprint as read.
    public private(set) var fingerprints: [FileFingerprint] = []
    /// Lines that held a record with an id.
    public private(set) var records = 0
    /// Records of an id already indexed.
    public private(set) var duplicates = 0
    /// Lines that are not a record with a conversation id.
    public private(set) var unreadable = 0
    /// Bytes after the last newline of a file.
    public private(set) var tornBytes = 0
    private let table = UUIDTable()
    private var descriptors: [Int32] = []
    /// The files' sizes added up, to size the table from the first block's lines.
    private let totalBytes: Int64
    /// Where ``record(for:)`` reads, kept between calls.
    private var readBuffer: [UInt8] = []

    /// Location: the file's index in the top 16 bits, the line's byte offset in the other 48.
    private static let offsetBits = 48

    /// Reads and indexes every file.
    /// - Parameter progress: called after each block with the bytes read so far, in all files.
    /// - Throws: ``ConvoyError/input(_:)`` when a file cannot be opened or read.
    public init(paths: [String], progress: (Int64) -> Void = { _ in }) throws {
        guard paths.count < 1 << (64 - Self.offsetBits) else {
            throw ConvoyError.usage("at most \(1 << (64 - Self.offsetBits) - 1) records files")
        }
        self.paths = paths
        var total: Int64 = 0
        var sizes: Int64 = 0
        for path in paths {
            sizes += ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
        }
        totalBytes = sizes
        do {
            for (fileIndex, path) in paths.enumerated() {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    throw ConvoyError.input("cannot open \(path): \(String(cString: strerror(errno)))")
                }
                descriptors.append(fd)
                fingerprints.append(try index(fd, fileIndex: fileIndex, path: path, total: &total, progress: progress))
            }
        } catch {
            for fd in descriptors { close(fd) }
            throw error
        }
    }

    deinit {
        for fd in descriptors { close(fd) }
    }

    /// Ids indexed.
    public var count: Int { table.count }

    /// Bytes the index holds.
    public var allocatedBytes: Int { table.allocatedBytes }

    public func contains(_ id: ConversationID) -> Bool { table.contains(id.key) }

    /// The record of `id` exactly as its file holds it (without the newline), or nil.
    public func record(for id: ConversationID) throws -> [UInt8]? {
        guard let location = table.value(for: id.key) else { return nil }
        let fileIndex = Int(location >> UInt64(Self.offsetBits))
        var offset = off_t(location & ((1 << UInt64(Self.offsetBits)) - 1))
        var line: [UInt8] = []
        var chunk = 4096  // most records fit; a longer one is read on in larger steps
        while true {
            if readBuffer.count < chunk { readBuffer = [UInt8](repeating: 0, count: chunk) }
            let count = readBuffer.withUnsafeMutableBytes {
                pread(descriptors[fileIndex], $0.baseAddress, chunk, offset)
            }
            guard count > 0 else {
                if count < 0, errno == EINTR { continue }
                throw ConvoyError.input("cannot read \(paths[fileIndex]): it changed while it was read")
            }
            if let newline = readBuffer[0..<count].firstIndex(of: UInt8(ascii: "\n")) {
                line += readBuffer[0..<newline]
                return line
            }
            line += readBuffer[0..<count]
            offset += off_t(count)
            chunk = 1 << 20
        }
    }

    private func index(
        _ fd: Int32, fileIndex: Int, path: String, total: inout Int64, progress: (Int64) -> Void
    ) throws -> FileFingerprint {
        var tally = FileFingerprint.Tally()
        var carry: [UInt8] = []
        var carryStart: Int64 = 0
        var fileOffset: Int64 = 0
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        let base = UInt64(fileIndex) << UInt64(Self.offsetBits)
        while true {
            let count = read(fd, block.baseAddress, block.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ConvoyError.input("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            let bytes = UnsafeRawBufferPointer(rebasing: block[0..<count])
            tally.add(bytes)
            var start = 0
            while start < count, let found = memchr(bytes.baseAddress! + start, 0x0A, count - start) {
                let newline = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
                if carry.isEmpty {
                    add(
                        UnsafeRawBufferPointer(rebasing: bytes[start..<newline]),
                        at: base | (UInt64(fileOffset) + UInt64(start)))
                } else {
                    carry += bytes[start..<newline]
                    carry.withUnsafeBytes { add($0, at: base | UInt64(carryStart)) }
                    carry.removeAll(keepingCapacity: true)
                }
                start = newline + 1
            }
            if start < count {
                if carry.isEmpty { carryStart = fileOffset + Int64(start) }
                carry += bytes[start..<count]
            }
            if total == 0, records > 0 {
                // Size the table once, from the lines of the first block: no growth, whose old and
                // new slots together would be the peak of memory.
                let perLine = Double(count) / Double(records + unreadable)
                table.reserveCapacity(Int(Double(totalBytes) / perLine * 1.05))
            }
            fileOffset += Int64(count)
            total += Int64(count)
            progress(total)
        }
        tornBytes += carry.count
        return tally.fingerprint
    }

    private static let prefix = Array(#"{"id":""#.utf8)

    /// Indexes one line (without its newline) that starts at `location`.
    private func add(_ line: UnsafeRawBufferPointer, at location: UInt64) {
        guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) else { return }
        guard let key = Self.leadingKey(line) ?? Self.parsedKey(line) else {
            unreadable += 1
            return
        }
        records += 1
        if !table.insert(key, value: location) { duplicates += 1 }
    }

    /// The id of a line that starts as Convoy writes records, `{"id":"<36 characters>"`.
    private static func leadingKey(_ line: UnsafeRawBufferPointer) -> UUIDTable.Key? {
        let end = prefix.count + 36
        guard line.count > end, line[end] == UInt8(ascii: "\""), line.starts(with: prefix) else { return nil }
        return UUIDTable.Key(ascii: UnsafeRawBufferPointer(rebasing: line[prefix.count..<end]))
    }

    /// The id of any other JSON object line with a string `id` (a record reformatted by a tool).
    private static func parsedKey(_ line: UnsafeRawBufferPointer) -> UUIDTable.Key? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let text = object["id"] as? String, let id = ConversationID(text)
        else { return nil }
        return id.key
    }
}
