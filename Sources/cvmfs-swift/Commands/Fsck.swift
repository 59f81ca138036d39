import ArgumentParser
import CVMFSClient

extension CVMFSSwift {
    struct Fsck: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fsck",
            abstract: "Verify every object in client cache directories against its hash (like cvmfs_fsck).",
            discussion: """
                Hashes each cached object again. A corrupt one is reported, and with -p moved to \
                the cache's quarantaine/ folder, so that the next read fetches it again (a running \
                mount notices the object is gone). Exit status: 0 all good, 1 corrupt objects \
                were found and repaired, 4 corrupt objects are left (without -p), 8 a cache could \
                not be read.
                """)

        @Flag(name: .short, help: "Repair: move corrupt objects out of the cache.")
        var p = false

        @Argument(help: "Cache directories (CVMFS_CACHE_BASE/<fqrn>, or .../shared).")
        var directories: [String]

        func run() throws {
            var status: Int32 = 0
            for directory in directories {
                let report: CacheCheck.Report
                do {
                    report = try CacheCheck.run(directory: directory, repair: p)
                } catch {
                    print("\(directory): cannot read the cache: \(error)")
                    status |= 8
                    continue
                }
                for path in report.corrupt {
                    let fate = report.quarantined.contains(path) ? "moved to quarantaine" : "left in place (use -p)"
                    print("\(directory)/\(path): content does not match its hash, \(fate)")
                }
                for problem in report.unreadable { print("\(directory): \(problem)") }
                print("\(directory): \(report.checked) objects (\(report.checkedBytes) bytes) checked, "
                      + "\(report.corrupt.count) corrupt, \(report.quarantined.count) quarantined")
                if !report.unreadable.isEmpty { status |= 8 }
                if report.quarantined.count < report.corrupt.count { status |= 4 } else if !report.corrupt.isEmpty { status |= 1 }
            }
            if status != 0 { throw ExitCode(status) }
        }
    }
}
