import ArgumentParser
import Glibc
import CVMFSFormat

extension CVMFSSwift {
    struct Cat: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cat",
            abstract: "Write a file of a repository to standard output, verified, without mounting.")

        @OptionGroup var repository: RepositoryOptions

        @Argument(help: "Path of a regular file inside the repository.")
        var path: String

        func run() throws {
            let reader = try repository.openReader()
            do {
                let item = try reader.lookup(path)
                try reader.readFile(item) { (bytes: UnsafeRawBufferPointer) throws(ObjectError) in
                    var offset = 0
                    while offset < bytes.count {
                        let n = write(1, bytes.baseAddress! + offset, bytes.count - offset)
                        if n <= 0 {
                            if n < 0 && errno == EINTR { continue }
                            Glibc.exit(1)
                        }
                        offset += n
                    }
                }
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }
}
