/// The totals of an enrich run over every export file (ids counted once per file they are in).
public struct EnrichSummary: Codable, Sendable, Equatable {
    public var files = 0
    public var ids = 0
    public var withRecord = 0
    public var noRecord = 0
    public var invalid = 0
    public var mergeConflicts = 0
    /// Per field, in the order given: the files' counts added up (without the id lists).
    public var fields: [EnrichFileReport.FieldCount] = []
    /// Records indexed, and records of an id seen before (in any records file).
    public var recordsIndexed = 0
    public var duplicateRecords = 0
    /// Lines of the records files that are not records with an id.
    public var unreadableRecords = 0
    /// False when the run stopped before the last file (Ctrl-C).
    public var complete = false
    public var wallSeconds = 0.0

    public init(fields: [FieldPath]) {
        self.fields = fields.map { EnrichFileReport.FieldCount(field: $0.description) }
    }

    /// Adds one file's report.
    public mutating func add(_ report: EnrichFileReport) {
        files += 1
        ids += report.ids
        withRecord += report.withRecord
        noRecord += report.noRecord.count
        invalid += report.invalid.count
        mergeConflicts += report.mergeConflicts
        for (index, field) in report.fields.enumerated() {
            fields[index].inExport += field.inExport
            fields[index].absent += field.absent
            fields[index].recovered += field.recovered
            fields[index].stillMissing += field.stillMissing
        }
    }

    /// True when every id of the export has its record.
    public var accountedInFull: Bool { noRecord == 0 && invalid == 0 }
}
