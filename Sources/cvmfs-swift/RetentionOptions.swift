import ArgumentParser
import CVMFSFormat
import CVMFSPublish

/// Which revisions garbage collection keeps: shared by `gc` and `snapshot --gc`.
struct RetentionOptions: ParsableArguments {
    @Option(help: "Keep this many of the newest revisions, the current one included. Revisions named by a tag are always kept.")
    var keepRevisions: Int = 3

    @Option(help: ArgumentHelp("Also keep every revision published at or after this date.", valueName: "YYYY-MM-DDTHH:MM:SSZ"))
    var keepNewerThan: String?

    func validate() throws {
        guard keepRevisions >= 1 else { throw ValidationError("--keep-revisions must be at least 1") }
        if let keepNewerThan, UTCDate.parse(keepNewerThan) == nil {
            throw ValidationError("--keep-newer-than \(keepNewerThan): expected a date of the form YYYY-MM-DDTHH:MM:SSZ")
        }
    }

    var policy: RetainedRevisions.Policy {
        RetainedRevisions.Policy(keepRevisions: keepRevisions, keepNewerThan: keepNewerThan.flatMap(UTCDate.parse))
    }
}

extension GarbageCollector.Report {
    var summary: String {
        "kept revisions \(keptRevisions.map(String.init).joined(separator: " ")); removed \(objectsRemoved) objects (\(bytesFreed) bytes), \(objectsKept) kept"
    }
}
