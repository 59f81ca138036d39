extension RepositoryReader {
    /// What `verifyAll` checked and what it found wrong.
    public struct VerificationReport: Sendable {
        public var catalogs = 0
        public var entries = 0
        public var objects = 0
        public var bytes: Int64 = 0
        /// One line per problem, naming the path and object.
        public var problems: [String] = []
    }

    /// Checks every catalog and every object reachable from the root: each
    /// is fetched, its hash verified, zlib inflated to the end and its size
    /// compared with the catalog. Problems are collected, not fatal, so one
    /// run reports all of them.
    public func verifyAll() -> VerificationReport {
        var report = VerificationReport()
        var seen = Set<ContentHash>()
        var pending = [""]
        var catalogsSeen = Set<ContentHash>()
        while let directory = pending.popLast() {
            let children: [Located]
            do {
                let owner = try catalog(for: directory, includeExact: true)
                if let hash = catalogHash(of: owner), catalogsSeen.insert(hash).inserted { report.catalogs += 1 }
                children = try list(directory)
            } catch {
                report.problems.append("\(directory.isEmpty ? "/" : directory): \(error)")
                continue
            }
            for child in children {
                report.entries += 1
                if child.entry.isDirectory {
                    pending.append(child.path)
                    continue
                }
                guard child.entry.isRegular else { continue }
                do {
                    try verifyContent(of: child, seen: &seen, report: &report)
                } catch {
                    report.problems.append("\(child.path): \(error)")
                }
            }
        }
        return report
    }

    private func catalogHash(of catalog: Catalog) -> ContentHash? {
        ContentHash(printable: catalog.label)
    }

    private func verifyContent(of located: Located, seen: inout Set<ContentHash>, report: inout VerificationReport) throws(RepositoryError) {
        let entry = located.entry
        var objects: [(hash: ContentHash, suffix: ObjectSuffix, size: UInt64)] = []
        if entry.isChunked {
            let chunks: [FileChunk]
            do { chunks = try located.catalog.chunks(of: entry) } catch { throw .catalog(error) }
            objects = chunks.map { ($0.hash, .partial, $0.size) }
        } else if let hash = entry.contentHash {
            objects = [(hash, .none, entry.size)]
        }
        for object in objects where seen.insert(object.hash).inserted {
            var size: Int64 = 0
            try streamObject(object.hash, suffix: object.suffix, compression: entry.compression, expectedSize: object.size) { size += Int64($0.count) }
            report.objects += 1
            report.bytes += size
        }
    }
}
