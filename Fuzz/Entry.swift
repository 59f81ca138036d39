import Glibc

// Two ways in. Built with `-DFUZZING -sanitize=fuzzer,address`, libFuzzer's `main` calls the
// two C entry points below and the harness is picked by the binary's name (`fuzz-<harness>`,
// a symlink to `cvmfs-fuzz`) or by `CVMFS_FUZZ_HARNESS`. In an ordinary build `cvmfs-fuzz`
// replays files through the harnesses, so seeds and crash inputs are regression checks.

#if FUZZING
nonisolated(unsafe) private var selected: Harness?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>,
                             _ argv: FuzzerArguments) -> Int32 {
    var name = getenv("CVMFS_FUZZ_HARNESS").map { String(cString: $0) } ?? ""
    if name.isEmpty, let program = argv.pointee?.pointee {
        let base = String(cString: program).split(separator: "/").last.map(String.init) ?? ""
        if base.hasPrefix("fuzz-") { name = String(base.dropFirst("fuzz-".count)) }
    }
    guard let harness = Harnesses.named(name) else {
        let names = Harnesses.all.map(\.name).joined(separator: ", ")
        printError("cvmfs-fuzz: name the harness with CVMFS_FUZZ_HARNESS or a fuzz-<harness> symlink (one of: \(names))")
        exit(2)
    }
    selected = harness
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected!.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

public typealias FuzzerArguments = UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>

/// libFuzzer's driver (the body of its own `main`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: FuzzerArguments,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// SwiftPM links an executable target's `main` to `<module>_main`, so this is the
/// process entry point; it hands over to libFuzzer.
@_cdecl("cvmfs_fuzz_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return withUnsafeMutablePointer(to: &vector) { arguments in
        LLVMFuzzerRunDriver(&count, arguments) { data, size in fuzzerTestOneInput(data, size) }
    }
}
#else
@main
enum Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let command = arguments.first else { usage() }
        switch command {
        case "list":
            for harness in Harnesses.all { print("\(harness.name)\t\(harness.summary)") }
        case "replay" where arguments.count >= 3:
            guard let harness = Harnesses.named(arguments[1]) else { fail("no harness named '\(arguments[1])'") }
            let count = arguments.dropFirst(2).reduce(0) { $0 + replay(harness, path: $1) }
            print("\(harness.name): \(count) input(s) replayed")
        case "replay-all" where arguments.count >= 2:
            // Each folder holds one subfolder per harness (corpus/<harness>/, regressions/<harness>/).
            var total = 0
            for folder in arguments.dropFirst() {
                for name in listing(folder).sorted() where isDirectory(folder + "/" + name) {
                    guard let harness = Harnesses.named(name) else { fail("\(folder)/\(name): no harness of that name") }
                    let count = replay(harness, path: folder + "/" + name)
                    print("\(folder)/\(name): \(count) input(s) replayed")
                    total += count
                }
            }
            print("\(total) input(s) replayed, no failure")
        default:
            usage()
        }
    }

    /// Runs every file at `path` (a file, or a folder's files) through `harness`.
    static func replay(_ harness: Harness, path: String) -> Int {
        let files = isDirectory(path) ? listing(path).sorted().map { path + "/" + $0 }.filter { !isDirectory($0) } : [path]
        for file in files {
            guard let bytes = readFile(file) else { fail("cannot read \(file): \(String(cString: strerror(errno)))") }
            harness.run(bytes)
        }
        return files.count
    }

    static func usage() -> Never {
        fail("""
            usage: cvmfs-fuzz list
                   cvmfs-fuzz replay HARNESS FILE_OR_FOLDER...
                   cvmfs-fuzz replay-all FOLDER...   (FOLDER/<harness>/<inputs>)
            """)
    }

    static func fail(_ message: String) -> Never {
        printError("cvmfs-fuzz: \(message)")
        exit(2)
    }
}
#endif
