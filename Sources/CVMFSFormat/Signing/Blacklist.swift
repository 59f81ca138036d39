/// The site's blacklist (`CVMFS_BLACKLIST`, docs/format/manifest-and-signatures.md §4):
/// certificates that must never be trusted again, and for each repository the
/// lowest revision that may still be mounted.
///
/// One entry per line: a fingerprint in the whitelist's syntax rejects the
/// certificate with that hash; `<fqrn N` rejects every revision of `fqrn`
/// below N. Other lines (comments, blanks) are ignored, as upstream does.
public struct Blacklist: Sendable, Equatable {
    public private(set) var certificates: Set<ContentHash> = []
    /// Revisions below the value are refused, per repository.
    public private(set) var minimumRevisions: [String: UInt64] = [:]

    public static let empty = Blacklist()

    public init() {}

    public init(parsing text: String) {
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.trimmingLeadingSpace
            if line.hasPrefix("<") {
                let fields = line.dropFirst().split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count == 2, let revision = UInt64(fields[1]) else { continue }
                let fqrn = String(fields[0])
                minimumRevisions[fqrn] = max(minimumRevisions[fqrn] ?? 0, revision)
            } else if let fingerprint = Whitelist.parseFingerprint(String(line)) {
                certificates.insert(fingerprint)
            }
        }
    }

    /// Several files (the site's and the config repository's) as one.
    public mutating func merge(_ other: Blacklist) {
        certificates.formUnion(other.certificates)
        minimumRevisions.merge(other.minimumRevisions, uniquingKeysWith: max)
    }

    public func rejects(certificate fingerprint: ContentHash) -> Bool { certificates.contains(fingerprint) }

    /// The lowest revision of `fqrn` that may be mounted, if the blacklist names one.
    public func minimumRevision(of fqrn: String) -> UInt64? { minimumRevisions[fqrn] }
}

extension Substring {
    fileprivate var trimmingLeadingSpace: Substring { drop { $0 == " " || $0 == "\t" } }
}
