/// What `convoy enrich` found for one export file: one line of `report.ndjson`.
///
/// Accounting: every `conversationId` of the file is a distinct id (counted once in ``ids``, then
/// in ``withRecord`` or in ``noRecord``) or an entry of ``invalid``. So
/// `ids == withRecord + noRecord.count`.
public struct EnrichFileReport: Codable, Sendable, Equatable {
    /// The export file, relative to the export path (its name when the export is one file).
    public var file: String
    /// The export file's SHA-256 and size as read (it is never written).
    public var sha256: String
    public var bytes: Int64
    /// Distinct conversation ids in the file.
    public var ids: Int
    /// Ids whose record was found (and written to the sidecar).
    public var withRecord: Int
    /// Ids with no record, with the reason the errors files give.
    public var noRecord: [MissingRecord]
    /// `conversationId` values that are not UUIDs, and lines that are not JSON.
    public var invalid: [InvalidEntry]
    /// The sidecar, relative to the output folder.
    public var sidecar: String
    /// The merged document, relative to the output folder, with `--merged`.
    public var merged: String?
    /// Objects not merged because they already have a `convoy` member.
    public var mergeConflicts: Int
    /// One entry per field looked for, in the order given.
    public var fields: [FieldCount]

    /// An id without a record.
    public struct MissingRecord: Codable, Sendable, Equatable {
        public var id: String
        public var reason: String
    }

    /// Something in the export that is not an id.
    public struct InvalidEntry: Codable, Sendable, Equatable {
        /// The value, or the start of the line that is not JSON.
        public var text: String
        /// Byte offset in the file.
        public var offset: Int
        /// For a value: which `conversationId` of the file it is (1-based, in document order).
        public var position: Int?
        /// For a line that is not JSON: its number.
        public var line: Int?
        public var reason: String
    }

    /// How one field fared over the file's ids.
    public struct FieldCount: Codable, Sendable, Equatable {
        public var field: String
        /// Ids whose export objects have the field.
        public var inExport: Int
        /// Ids whose export objects lack it: `recovered + stillMissing`.
        public var absent: Int
        /// Absent ids whose record has it.
        public var recovered: Int
        /// Absent ids whose record lacks it too, or that have no record.
        public var stillMissing: Int
        /// Those ids, in file order.
        public var missingIds: [String]

        public init(field: String) {
            self.field = field
            inExport = 0
            absent = 0
            recovered = 0
            stillMissing = 0
            missingIds = []
        }
    }
}
