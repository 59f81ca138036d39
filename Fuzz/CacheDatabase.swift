import CVMFSClient
import CVMFSFormat
import Glibc

/// A cache directory's `cachedb` (and breadcrumb) through `ObjectCache`'s open, the crash
/// recovery that reconciles the LRU rows with the files on disk. The input is decoded into
/// `cache_catalog` rows (hash text, size, access sequence, description, type, pin) and
/// `properties` on the client's own schema (made once per process by opening an empty cache),
/// with some rows given an object file of a chosen size; or, when byte 0 has bit 2 set, the
/// rest is the whole `cachedb` file. Byte 0 also picks private or shared cache, whether the
/// crash guard is present (then every file is scanned) and the quota. The harness opens the
/// cache, reads, pins and evicts, and checks that the usage it reports is within the quota.
let cachedbHarness = Harness(
    name: "cachedb",
    summary: "ObjectCache(path:limit:shared:) on a fuzzed cachedb and objects: reconcile, open, pin, cleanup, breadcrumb"
) { bytes in
    var input = FuzzReader(bytes)
    let control = input.byte()
    let shared = control & 1 != 0
    let limits: [Int64] = [1 << 20, 4096, 0, Int64.max / 4]
    let limit = limits[Int(control >> 3 & 3)]
    let root = scratchDirectory + "/cache"
    removeTree(root)
    mkdir(root, 0o700)
    let directory = try! CacheDirectory(path: root)
    var hashes: [ContentHash] = []
    if control & 4 != 0 {
        writeFile(directory.databasePath, input.rest())
    } else {
        guard CacheFuzz.build(directory, input: &input, hashes: &hashes) else { return }
    }
    if control & 2 != 0 { writeFile(directory.crashGuardPath, []) }

    _ = try? directory.readBreadcrumb(fqrn: "fuzz.cern.ch")
    guard let cache = try? ObjectCache(path: root, limit: limit, shared: shared) else { return }
    let usage = cache.usage()
    FuzzCheck.require(usage.used >= 0 && usage.used <= limit, "cache reports \(usage.used) bytes used of \(limit) after open")
    for entry in cache.list() { _ = entry }
    for (index, hash) in hashes.enumerated() {
        if let fd = try? cache.open(hash, pin: index & 1 == 0) {
            fd.close()
            if index & 1 == 0 { cache.unpin(hash) }
        }
    }
    _ = cache.cleanup(toBytes: limit / 4)
    let after = cache.usage()
    FuzzCheck.require(after.used >= 0 && after.used <= limit, "cache reports \(after.used) bytes used of \(limit) after cleanup")
    cache.close()
}

private enum CacheFuzz {
    /// The `cachedb` a fresh private cache writes.
    static let template: [UInt8] = {
        let root = scratchDirectory + "/cache-template"
        let cache = try! ObjectCache(path: root, limit: 1 << 20)
        cache.close()
        return readFile(root + "/cachedb")!
    }()

    static let propertyKeys = ["schema", "memcache_size"]

    /// One connection on a copy of ``template`` for the whole process, with its statements:
    /// each input's rows go in inside a transaction, `sqlite3_serialize` copies the database as the
    /// transaction sees it into the cache folder and the transaction is rolled back (the journal is
    /// in memory), so every input starts from the same bytes, without opening a connection,
    /// reading the schema and compiling statements per input.
    final class Builder {
        let path = scratchDirectory + "/cachedb-builder"
        let database: SQLiteDatabase
        lazy var insertRow: SQLiteStatement = try! database.prepare(
            "INSERT OR REPLACE INTO cache_catalog (sha1, size, acseq, path, type, pinned) VALUES (?, ?, ?, ?, ?, ?)")
        lazy var setProperty: SQLiteStatement = try! database.prepare("INSERT OR REPLACE INTO properties (key, value) VALUES (?, ?)")

        init() {
            writeFile(path, template)
            database = try! SQLiteDatabase(path: path, mode: .readWriteCreate)
            try! database.execute("PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE")
        }
    }

    nonisolated(unsafe) static let builder = Builder()

    static func build(_ directory: CacheDirectory, input: inout FuzzReader, hashes: inout [ContentHash]) -> Bool {
        if input.isAtEnd {
            writeFile(directory.databasePath, template)
            return true
        }
        var objects: [(ContentHash, Int)] = []
        let builder = builder
        let db = builder.database
        defer {
            // Back to the template whatever happened, with no statement holding bound values.
            builder.insertRow.reset()
            builder.setProperty.reset()
            if !db.isAutocommit { try! db.execute("ROLLBACK") }
        }
        var bytes: [UInt8] = []
        do throws(SQLiteError) {
            try db.execute("BEGIN")
            var rows = 0
            while !input.isAtEnd && rows < 64 {
                rows += 1
                let kind = input.byte()
                switch kind % 4 {
                case 0:
                    try builder.setProperty.run([.text(input.pick(propertyKeys)), .text(input.text())])
                case 3:
                    // A breadcrumb file, as the client writes it after a mount.
                    writeFile(directory.breadcrumbPath(fqrn: "fuzz.cern.ch"), input.data())
                default:
                    let digest = input.data()
                    let algorithm = HashAlgorithm.allCases[Int(kind >> 2) % HashAlgorithm.allCases.count]
                    let hash = ContentHash(algorithm: algorithm, digest: (digest + [UInt8](repeating: 0, count: 20)).prefix(20))!
                    let text = kind & 0x40 != 0 ? String(decoding: digest, as: UTF8.self) : hash.description
                    try builder.insertRow.run([.text(text), .int(input.int64()), .int(input.int64()), .text(input.text()),
                                       .int(input.int64()), .int(input.int64())])
                    hashes.append(hash)
                    if kind & 0x80 != 0 { objects.append((hash, Int(input.byte()))) }
                }
            }
            guard let made = db.serialized() else { fatalError("sqlite3_serialize failed") }
            bytes = made
        } catch {
            return false
        }
        writeFile(directory.databasePath, bytes)
        for (hash, size) in objects {
            let path = directory.objectPath(hash)
            mkdir(String(path[..<path.lastIndex(of: "/")!]), 0o700)
            writeFile(path, [UInt8](repeating: 0x55, count: size))
        }
        return true
    }
}
