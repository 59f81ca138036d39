import ArgumentParser

@main
struct CVMFSSwift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cvmfs-swift",
        abstract: "A CernVM-FS client and publisher written in Swift.",
        subcommands: []
    )
}
