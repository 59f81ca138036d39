import ArgumentParser
import CVMFSFormat

extension CVMFSSwift {
    struct Extract: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "extract",
            abstract: "Restore a repository's tree into a local folder, verifying every object.",
            discussion: "Symlinks keep their raw targets (variant symlinks are not expanded); hard links, user xattrs, modes and mtimes are restored.")

        @OptionGroup var repository: RepositoryOptions

        @Argument(help: "Destination folder (created; must be empty if it exists).")
        var destination: String

        func run() throws {
            let reader = try repository.openReader()
            do {
                let summary = try RepositoryExtractor(reader: reader).extract(to: destination)
                print("extracted \(summary.entries) entries, \(summary.bytes) bytes of file content into \(destination)")
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }
}
