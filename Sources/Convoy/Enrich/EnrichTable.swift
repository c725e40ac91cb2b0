/// `report.csv`: the field-recovery report as a table a spreadsheet opens (RFC 4180: comma
/// separated, CRLF line ends, fields with a comma, quote or line break quoted; a field that a
/// spreadsheet would take for a formula is written as text).
///
/// One row per export file and field, then one per field over all files (`file` is
/// `(all files)`); `conversations.csv` has one row per conversation (``conversationRow``). The per-file counts repeat on each of the file's rows so that any row stands
/// alone in a filter or a pivot table.
public enum EnrichTable {
    public static let header =
        "file,ids,with_record,no_record,invalid,field,in_export,absent_from_export,recovered,still_missing\r\n"

    /// The rows of one file.
    public static func rows(_ report: EnrichFileReport) -> String {
        report.fields.map { field in
            row([
                report.file, "\(report.ids)", "\(report.withRecord)", "\(report.noRecord.count)",
                "\(report.invalid.count)",
                field.field, "\(field.inExport)", "\(field.absent)", "\(field.recovered)", "\(field.stillMissing)",
            ])
        }.joined()
    }

    /// The rows over all files.
    public static func totalRows(_ summary: EnrichSummary) -> String {
        summary.fields.map { field in
            row([
                "(all files)", "\(summary.ids)", "\(summary.withRecord)", "\(summary.noRecord)", "\(summary.invalid)",
                field.field, "\(field.inExport)", "\(field.absent)", "\(field.recovered)", "\(field.stillMissing)",
            ])
        }.joined()
    }

    /// `conversations.csv`'s header: one row per conversation, and per field where it was found.
    public static func conversationHeader(_ fields: [FieldPath]) -> String {
        row(["file", "id", "record"] + fields.map(\.description))
    }

    /// One conversation's row: its file (or conversation folder), its id, whether a record was
    /// found (`yes`, or the reason there is none), and per field `export` (the export had it),
    /// `recovered` (only the record has it) or `missing` (neither).
    public static func conversationRow(
        file: String, id: String, record: String, fields: Int, inExport: UInt64, inRecord: UInt64
    ) -> String {
        row(
            [file, id, record]
                + (0..<fields).map { bit in
                    inExport & 1 << bit != 0 ? "export" : inRecord & 1 << bit != 0 ? "recovered" : "missing"
                })
    }

    static func row(_ fields: [String]) -> String {
        fields.map(quoted).joined(separator: ",") + "\r\n"
    }

    /// `field` as a CSV cell: quoted when it holds a comma, quote or line break; and when it begins
    /// as a formula would (`=`, `+`, `-`, `@`, a tab or a carriage return: an export file named
    /// `=HYPERLINK(…).json`), prefixed with `'` and quoted, so a spreadsheet shows it as text and
    /// never evaluates it (OWASP's advice against CSV injection).
    static func quoted(_ field: String) -> String {
        if let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            return "\"'" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        guard field.utf8.contains(where: { [44, 34, 10, 13].contains($0) }) else { return field }  // , " LF CR
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
