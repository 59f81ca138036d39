import ArgumentParser
import Glibc

@main
struct CVMFSSwift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cvmfs-swift",
        abstract: "A CernVM-FS client and publisher written in Swift.",
        subcommands: [Mount.self, Talk.self, Profile.self, Probe.self, Stat.self, ShowConfig.self, Fsck.self, Publish.self, GC.self, Snapshot.self, Convert.self, Verify.self, List.self, Cat.self, Extract.self]
    )

    /// Prints a command failure as one line on stderr and exits with its code,
    /// instead of ArgumentParser's generic "Error:" dump.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CommandFailure {
            printError("cvmfs-swift: \(failure.description)")
            Glibc.exit(failure.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}

/// Writes one line to standard error.
func printError(_ line: String) {
    let text = line + "\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}
