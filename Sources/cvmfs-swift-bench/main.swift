// Release-build micro benchmarks (not tests: nothing here asserts on time).
//
//   cvmfs-swift-bench lookup [--entries N] [--lookups N] [--runs N] [--dir /tmp/cvmfs-bench] [--rebuild]
//
// Builds (once, cached under --dir) a catalog with N entries laid out as
// sqrt(N) directories × sqrt(N) files, then times single-threaded lookups of
// random existing paths.
import Glibc
import CVMFSFormat

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// CPU time of the calling thread: robust against other processes on a shared machine.
func threadCPU() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fail(_ message: String) -> Never {
    let text = "cvmfs-swift-bench: \(message)\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

func fmt(_ value: Double, _ digits: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}

/// SplitMix64: deterministic, so every run looks up the same paths.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct Arguments {
    var values: [String: String] = [:]
    var flags: Set<String> = []
    init(_ list: ArraySlice<String>, flags known: Set<String>) {
        var it = list.makeIterator()
        while let arg = it.next() {
            guard arg.hasPrefix("--") else { fail("unexpected argument \(arg)") }
            let key = String(arg.dropFirst(2))
            if known.contains(key) { flags.insert(key); continue }
            guard let value = it.next() else { fail("\(arg) needs a value") }
            values[key] = value
        }
    }
    func int(_ key: String, _ fallback: Int) -> Int {
        guard let text = values[key] else { return fallback }
        guard let value = Int(text.replacingUnderscores), value > 0 else { fail("--\(key): not a positive integer: \(text)") }
        return value
    }
    func string(_ key: String, _ fallback: String) -> String { values[key] ?? fallback }
}

extension String {
    var replacingUnderscores: String { String(filter { $0 != "_" }) }
}

func padded(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

// MARK: - lookup

func catalogLayout(entries: Int) -> (dirs: Int, filesPerDir: Int) {
    var dirs = 1
    while dirs * dirs < entries { dirs += 1 }
    return (dirs, (entries + dirs - 1) / dirs)
}

func buildCatalog(path: String, entries: Int) {
    let (dirs, perDir) = catalogLayout(entries: entries)
    unlink(path)
    let started = now()
    do throws(CatalogError) {
        let writer = try CatalogWriter(path: path, revision: 1, lastModified: 1_700_000_000)
        try writer.add(path: "", entry: DirectoryEntry(name: [], mode: 0o040755, size: 4096, mtime: 1_700_000_000))
        var written = 1
        var digest = [UInt8](repeating: 0, count: 20)
        for d in 0..<dirs where written < entries {
            let dir = "/d" + padded(d, 4)
            try writer.add(path: dir, entry: DirectoryEntry(name: [], mode: 0o040755, size: 4096, mtime: 1_700_000_000))
            written += 1
            for f in 0..<perDir where written < entries {
                let file = dir + "/f" + padded(f, 4)
                digest[0] = UInt8(truncatingIfNeeded: d); digest[1] = UInt8(truncatingIfNeeded: d >> 8)
                digest[2] = UInt8(truncatingIfNeeded: f); digest[3] = UInt8(truncatingIfNeeded: f >> 8)
                let hash = digest.withUnsafeBytes { ContentHash(algorithm: .sha1, digest: $0) }
                try writer.add(path: file, entry: DirectoryEntry(
                    name: [], mode: 0o100644, size: UInt64(1000 + f), mtime: 1_700_000_000, mtimeNanoseconds: 0,
                    uid: 1000, gid: 1000, contentHash: hash))
                written += 1
            }
        }
        try writer.finish()
        print("built \(path): \(written) entries (\(dirs) dirs × \(perDir) files) in \(fmt(now() - started, 1)) s")
    } catch {
        fail("building the catalog: \(error)")
    }
}

func allPaths(entries: Int) -> [String] {
    let (dirs, perDir) = catalogLayout(entries: entries)
    var paths = [""]
    paths.reserveCapacity(entries)
    for d in 0..<dirs where paths.count < entries {
        let dir = "/d" + padded(d, 4)
        paths.append(dir)
        for f in 0..<perDir where paths.count < entries { paths.append(dir + "/f" + padded(f, 4)) }
    }
    return paths
}

@discardableResult
/// Runs `body` `runs` times over `count` operations and returns the per-run rates (ops/s).
func measure(_ label: String, runs: Int, count: Int, _ body: () -> Int) -> Double {
    var rates: [Double] = [], cpuRates: [Double] = []
    for _ in 0..<runs {
        let start = now(), startCPU = threadCPU()
        let found = body()
        let seconds = now() - start, cpu = threadCPU() - startCPU
        if found != count { fail("\(label): found \(found) of \(count)") }
        rates.append(Double(count) / seconds)
        cpuRates.append(Double(count) / cpu)
    }
    let m = median(rates), c = median(cpuRates)
    let runsText = rates.map { fmt($0 / 1000, 0) }.joined(separator: " ")
    print("\(label.padding(50)) median \(fmt(m / 1000, 1).leftPad(8)) k/s \(fmt(1e6 / m, 2).leftPad(6)) µs/op | per CPU-s \(fmt(c / 1000, 1).leftPad(8)) k/s | runs (k/s wall): \(runsText)")
    return m
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

func lookupBenchmark(_ args: Arguments) {
    let entries = args.int("entries", 1_000_000)
    let lookups = args.int("lookups", 1_000_000)
    let runs = args.int("runs", 5)
    let dir = args.string("dir", "/tmp/cvmfs-bench")
    mkdir(dir, 0o755)
    let path = "\(dir)/catalog-\(entries).sqlite"
    if args.flags.contains("rebuild") || access(path, R_OK) != 0 { buildCatalog(path: path, entries: entries) }

    let paths = allPaths(entries: entries)
    var rng = SplitMix64(state: 42)
    let sample = (0..<lookups).map { _ in paths[Int(rng.next() % UInt64(paths.count))] }
    let hashes = sample.map { PathHash(path: $0) }
    print("catalog \(path): \(entries) entries; \(lookups) random lookups per run, \(runs) runs, 1 thread")

    let catalog: Catalog
    do { catalog = try Catalog(path: path) } catch { fail("opening \(path): \(error)") }

    // Warm the page cache and the statement.
    for p in sample.prefix(100_000) { _ = try? catalog.lookup(path: p) }

    if args.flags.contains("bare-only") { return bareBenchmarks(args, path: path, hashes: hashes, runs: runs, lookups: lookups) }
    measure("Catalog.lookup(PathHash(path:))  [MD5 + query]", runs: runs, count: lookups) {
        var found = 0
        for p in sample {
            do { if try catalog.lookup(PathHash(path: p)) != nil { found += 1 } } catch { fail("\(error)") }
        }
        return found
    }
    measure("Catalog.lookup(hash)  [precomputed hash]", runs: runs, count: lookups) {
        var found = 0
        for h in hashes {
            do { if try catalog.lookup(h) != nil { found += 1 } } catch { fail("\(error)") }
        }
        return found
    }
    measure("PathHash(path:) only  [MD5]", runs: runs, count: lookups) {
        var acc: Int64 = 0
        for p in sample { acc &+= PathHash(path: p).high }
        return acc == 0x7fff_ffff_ffff ? 0 : lookups
    }
    bareBenchmarks(args, path: path, hashes: hashes, runs: runs, lookups: lookups)
}

func bareBenchmarks(_ args: Arguments, path: String, hashes: [PathHash], runs: Int, lookups: Int) {
    // Bare primary-key SELECTs through the same wrapper, on a separate connection.
    let database: SQLiteDatabase
    let rowid: SQLiteStatement, full: SQLiteStatement
    do {
        database = try SQLiteDatabase(path: path, mode: .readOnly)
        if let pragma = args.values["bare-pragma"] { try database.execute("PRAGMA " + pragma) }
        rowid = try database.prepare("SELECT rowid FROM catalog WHERE md5path_1=? AND md5path_2=?")
        full = try database.prepare(
            "SELECT hash, hardlinks, size, mode, mtime, flags, name, symlink, md5path_1, md5path_2, parent_1, parent_2, "
                + "rowid, uid, gid, xattr IS NOT NULL, mtimens FROM catalog WHERE md5path_1=? AND md5path_2=?")
    } catch { fail("bare statements: \(error)") }
    func bare(_ statement: SQLiteStatement) -> Int {
        var found = 0
        for h in hashes {
            statement.bind(h.high, at: 1)
            statement.bind(h.low, at: 2)
            do { if try statement.step() { found += 1 } } catch { fail("\(error)") }
            sqlite3Reset(statement)
        }
        return found
    }
    measure("bare SELECT rowid by PK  [precomputed hash]", runs: runs, count: lookups) { bare(rowid) }
    measure("bare SELECT dirent columns by PK  [no decode]", runs: runs, count: lookups) { bare(full) }
    _ = database
}

/// `reset()` also clears bindings, which the loop rebinds anyway.
@inline(__always) func sqlite3Reset(_ statement: SQLiteStatement) { statement.reset() }

// MARK: - main

let argv = CommandLine.arguments
guard argv.count >= 2 else {
    print("""
        usage: cvmfs-swift-bench lookup [--entries 1000000] [--lookups 1000000] [--runs 5] [--dir /tmp/cvmfs-bench] [--rebuild]
        (publish throughput: integration/bench/publish-throughput.sh)
        """)
    exit(2)
}
switch argv[1] {
case "lookup": lookupBenchmark(Arguments(argv.dropFirst(2), flags: ["rebuild", "bare-only"]))
default: fail("unknown benchmark \(argv[1])")
}
