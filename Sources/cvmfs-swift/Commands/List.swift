import ArgumentParser
import CVMFSFormat

extension CVMFSSwift {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List a directory of a repository without mounting it.")

        @OptionGroup var repository: RepositoryOptions

        @Argument(help: "Path inside the repository (default: the root).")
        var path: String = "/"

        @Flag(name: .short, help: "Long format: type and mode, link count, size, mtime, name (and symlink target).")
        var long = false

        @Flag(name: .customShort("R"), help: "List subdirectories recursively.")
        var recursive = false

        func run() throws {
            let reader = try repository.openReader()
            do {
                let start = try reader.lookup(path)
                guard start.entry.isDirectory else {
                    print(line(for: start))
                    return
                }
                if recursive {
                    try reader.walk(start.path) { (item: RepositoryReader.Located) throws(RepositoryError) in print(line(for: item)) }
                } else {
                    for item in try reader.list(start.path) { print(line(for: item)) }
                }
            } catch {
                throw CommandFailure("\(error)")
            }
        }

        private func line(for item: RepositoryReader.Located) -> String {
            let shown = recursive ? item.path : item.entry.name
            guard long else { return shown }
            let e = item.entry
            let type = e.isDirectory ? "d" : e.isSymlink ? "l" : e.isRegular ? "-" : "s"
            let permissions = String(e.mode & 0o7777, radix: 8)
            var text = "\(type)\(String(repeating: "0", count: max(0, 4 - permissions.count)))\(permissions) \(e.linkCount) \(e.size) \(e.mtime) \(shown)"
            if e.isSymlink { text += " -> \(e.symlink)" }
            return text
        }
    }
}
