/// Everything that can go wrong reading or writing a file catalog. Each case
/// names the catalog (its hash when known, else its file) so that a log line
/// is actionable on its own.
public enum CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is not an SQLite database (truncated download, wrong object, inflate skipped).
    case notSQLite(catalog: String)
    /// An SQLite call failed; `operation` says what we were doing.
    case sqlite(SQLiteError, catalog: String, operation: String)
    /// Schema 2.0–2.3, or anything we do not read (docs/format/catalogs.md §1).
    case unsupportedSchema(catalog: String, schema: String, revision: Int)
    /// A row holds values no valid catalog can hold.
    case corruptRow(catalog: String, rowID: Int64?, reason: String)
    /// An entry name with `/`, NUL, `.` or `..`, or an empty name other than the
    /// catalog's root. Refused because a name must never escape its directory.
    case invalidEntryName(catalog: String, name: [UInt8], rowID: Int64?)
    /// A file flagged chunked has no rows in `chunks` (docs/format/objects-and-chunks.md §4.2: EIO).
    case chunkListMissing(catalog: String, pathHash: PathHash)
    /// The chunk list has a gap or an overlap, or does not add up to the file size.
    case chunksNotContiguous(catalog: String, pathHash: PathHash, reason: String)
    /// The writer was handed a path it cannot store.
    case invalidPath(catalog: String, path: String, reason: String)
    /// The writer was used after ``CatalogWriter/finish(subtree:)`` or out of order.
    case writerMisuse(catalog: String, reason: String)

    public var description: String {
        switch self {
        case .notSQLite(let catalog):
            return "catalog \(catalog): not an SQLite database"
        case .sqlite(let error, let catalog, let operation):
            return "catalog \(catalog): \(operation) failed: \(error)"
        case .unsupportedSchema(let catalog, let schema, let revision):
            return "catalog \(catalog): unsupported schema \(schema) revision \(revision)"
        case .corruptRow(let catalog, let rowID, let reason):
            return "catalog \(catalog): corrupt row\(rowID.map { " \($0)" } ?? ""): \(reason)"
        case .invalidEntryName(let catalog, let name, let rowID):
            return "catalog \(catalog): invalid entry name \(CatalogError.quoted(name))\(rowID.map { " (row \($0))" } ?? "")"
        case .chunkListMissing(let catalog, let pathHash):
            return "catalog \(catalog): chunked file \(pathHash.hex) has no chunks"
        case .chunksNotContiguous(let catalog, let pathHash, let reason):
            return "catalog \(catalog): chunk list of \(pathHash.hex) is not contiguous: \(reason)"
        case .invalidPath(let catalog, let path, let reason):
            return "catalog \(catalog): cannot store path \"\(path)\": \(reason)"
        case .writerMisuse(let catalog, let reason):
            return "catalog \(catalog): \(reason)"
        }
    }

    /// A name as a quoted, printable string; non-printable bytes as `\xNN`.
    static func quoted(_ bytes: [UInt8]) -> String {
        var text = "\""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + Hex.encode([byte])
            }
        }
        return text + "\""
    }
}
